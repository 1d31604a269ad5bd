// The demo's tables (pure): containers with host and IP, and who reaches whom.

export interface MatrixContainer {
  label: string;
  host: string;
  network: string;
  ip: string;
}

/** Left-aligned columns separated by two spaces. */
export function formatTable(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => cell.padEnd(widths[c]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function containerTable(ctrs: readonly MatrixContainer[]): string {
  return formatTable([['CONTAINER', 'HOST', 'NETWORK', 'IP'], ...ctrs.map((c) => [c.label, c.host, c.network, c.ip])]);
}

/** Rows are senders, columns receivers; `ok(i, j)` says whether i reached j. */
export function pingMatrix(ctrs: readonly MatrixContainer[], ok: (from: number, to: number) => boolean): string {
  const header = ['FROM \\ TO', ...ctrs.map((c) => c.label)];
  const rows = ctrs.map((from, i) => [from.label, ...ctrs.map((_, j) => (i === j ? '-' : ok(i, j) ? 'ok' : 'FAIL'))]);
  return formatTable([header, ...rows]);
}
