// `vxnet state`'s lease section: allocations held for expired agents (and
// earlier epochs of agents that came back), and stranded containers, from
// GET /overlay-master/leases. Nothing is printed when there is nothing to say.

import type { LeasesView } from '../api/types.js';

/** Text for the view; empty when nothing is held or stranded. */
export function formatLeases(view: LeasesView): string {
  const lines: string[] = [];
  if (view.held.length > 0) {
    lines.push('', 'EXPIRED AND QUARANTINED ALLOCATIONS (held until UNTIL, then free)');
    lines.push(
      table(
        ['AGENT', 'EPOCH', 'KIND', 'EXPIRED AT', 'UNTIL', 'VTEP', 'SUBNETS'],
        view.held.map((h) => [
          h.ip,
          String(h.epoch),
          h.kind,
          h.expired_at,
          h.until,
          h.vtep_ip,
          Object.entries(h.overlays)
            .map(([name, s]) => `${name}=${[s.subnet, s.subnet6].filter(Boolean).join(',')}`)
            .join(' ') || '-',
        ]),
      ),
    );
  }
  if (view.stranded.length > 0) {
    lines.push('', 'STRANDED CONTAINERS (on an older allocation of their agent; not routed)');
    lines.push(
      table(
        ['AGENT', 'NETWORK', 'IP', 'CONTAINER'],
        view.stranded.map((c) => [c.agent, c.network, c.ip6 && c.ip !== c.ip6 ? `${c.ip},${c.ip6}` : c.ip, c.name ?? c.id.slice(0, 12)]),
      ),
    );
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [head, ...rows]
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Fetches and formats the section; a master without the endpoint (older) gives nothing. */
export async function leaseSection(base: string): Promise<string> {
  try {
    const res = await fetch(new URL('/overlay-master/leases', base), { signal: AbortSignal.timeout(10_000) });
    if (!res.ok) return '';
    return formatLeases((await res.json()) as LeasesView);
  } catch {
    return '';
  }
}
