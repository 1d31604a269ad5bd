// `vxnet state`'s utilisation section, from GET /overlay-master/utilisation:
// agent subnets and VTEP addresses held and free, container addresses used
// and free, per overlay and family. A master without the endpoint gives nothing.

import type { UseCount, UtilisationView } from '../api/types.js';

const count = (u: UseCount): string => `${u.used} / ${u.total} (${u.percent}%), ${u.free} free`;

export function formatUtilisation(view: UtilisationView): string {
  const rows: string[][] = [];
  for (const v of view.vtep) rows.push(['vtep', `IPv${v.family}`, v.cidr, count(v), '-']);
  for (const o of view.overlays) {
    for (const f of o.families) {
      const quarantined = f.subnets.quarantined > 0 ? `, ${f.subnets.quarantined} quarantined` : '';
      rows.push([
        o.enabled ? o.name : `${o.name} (disabled)`,
        `IPv${f.family}`,
        `${f.cidr} /${f.prefix}`,
        `${count(f.subnets)}${quarantined}`,
        count(f.containers),
      ]);
    }
  }
  const head = ['POOL', 'FAMILY', 'RANGE', 'AGENT SUBNETS / VTEP ADDRESSES', 'CONTAINER ADDRESSES'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const lines = [head, ...rows].map((r) =>
    r
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
  return `\nUTILISATION (per agent: GET /overlay-master/utilisation)\n${lines.join('\n')}\n`;
}

/** Fetches and formats the section; empty when the master does not answer it. */
export async function utilisationSection(base: string): Promise<string> {
  try {
    const res = await fetch(new URL('/overlay-master/utilisation', base), { signal: AbortSignal.timeout(10_000) });
    if (!res.ok) return '';
    return formatUtilisation((await res.json()) as UtilisationView);
  } catch {
    return '';
  }
}
