// Convergence as the kernel sees it (pure): lines of `ip -ts -o monitor route
// neigh`, the entries a peer needs on a host, and when a host had them all.

/** One monitor line: when `ip` printed it (epoch ms, µs precision) and what it says. */
export interface MonitorLine {
  at: number;
  text: string;
}

const TS = /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?\] (.*)$/;

/** `[2026-11-30T07:15:36.556238] 10.0.0.0/24 via …` (`ip -ts`, run with TZ=UTC); undefined for other lines. */
export function parseMonitorLine(line: string): MonitorLine | undefined {
  const m = TS.exec(line.trimEnd());
  if (!m) return undefined;
  const seconds = Date.parse(`${m[1]}Z`);
  if (Number.isNaN(seconds)) return undefined;
  const fraction = m[2] ? Number(`0.${m[2]}`) * 1000 : 0;
  return { at: seconds + fraction, text: m[3]! };
}

/** What identifies a peer in a host's tables. */
export interface PeerMarks {
  /** The peer's underlay address: the FDB entry's `dst`. */
  underlayIp: string;
  /** Its VTEP address without prefix: the permanent neighbour. */
  vtepIp: string;
  vtepMac: string;
  /** Its overlay subnets: one route each. */
  subnets: string[];
}

export type LineMatch = (text: string) => boolean;

/**
 * One predicate per kernel entry the peer needs on `dev` (each route, the
 * VTEP's neighbour, the FDB entry), matching the line that adds it, or with
 * `gone` the line that deletes it. FDB entries print as neighbours keyed by
 * the underlay address (`<dst> dev D lladdr M NOARP PERMANENT`).
 */
export function peerMatches(p: PeerMarks, dev: string, gone: boolean): LineMatch[] {
  const mac = p.vtepMac.toLowerCase();
  const del = gone ? 'Deleted ' : '';
  const routes = p.subnets.map(
    (s): LineMatch =>
      (t) =>
        t.startsWith(`${del}${s} `) && t.includes(` dev ${dev}`),
  );
  const neigh: LineMatch = gone
    ? (t) => t.startsWith(`Deleted ${p.vtepIp} dev ${dev} `)
    : (t) => t.startsWith(`${p.vtepIp} dev ${dev} lladdr ${mac} `);
  const fdb: LineMatch = (t) => t.startsWith(`${del}${p.underlayIp} dev ${dev} lladdr ${mac} `);
  return [...routes, neigh, fdb];
}

/** When every predicate had its first matching line (the latest of those times); undefined while one is missing. */
export function convergedAt(lines: readonly MonitorLine[], matches: readonly LineMatch[]): number | undefined {
  let last = Number.NEGATIVE_INFINITY;
  for (const match of matches) {
    const hit = lines.find((l) => match(l.text));
    if (!hit) return undefined;
    last = Math.max(last, hit.at);
  }
  return last;
}

/** Nearest-rank percentile (p in 0..100) of a non-empty list. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) throw new Error('percentile of an empty list');
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export interface Spread {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

export const spread = (xs: readonly number[]): Spread => ({
  n: xs.length,
  p50: percentile(xs, 50),
  p99: percentile(xs, 99),
  max: percentile(xs, 100),
});
