// Tells the loop which of vxnet's tables someone removed or changed, so a
// hand-deleted entry is back in milliseconds and only that table is re-read
// (not the whole kernel). Best effort: if `ip monitor` cannot run, the slow
// full re-read (--resync-ms) still repairs.

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { VTEP_NAME } from '../../api/types.js';
import { type Op, ROUTE_PROTO } from '../model.js';
import type { KernelTable } from '../ports.js';

/** A table to re-read, or `links`: a link of vxnet's changed, so everything is re-read. */
export type KernelChange = KernelTable | 'links';

const OWNED_LINK = /^(?:Deleted )?\d+: (?:vtep1024|[md]-[A-Za-z0-9_.-]+)[@:]/;

/**
 * What an `ip -o monitor link route neigh` line says changed among vxnet's
 * links, VTEP entries and routes; [] for anything else. `ip monitor` prints a
 * deleted FDB entry on the VTEP like a neighbour ("Deleted <dst> dev vtep1024
 * lladdr <mac> …"), so such a line re-reads both tables.
 */
export function whatChanged(line: string): KernelChange[] {
  if (OWNED_LINK.test(line)) return ['links'];
  if (!line.startsWith('Deleted ')) return [];
  if (line.includes(` proto ${ROUTE_PROTO} `) || line.endsWith(` proto ${ROUTE_PROTO}`)) return ['routes'];
  if (!(line.includes(`dev ${VTEP_NAME} `) || line.endsWith(`dev ${VTEP_NAME}`))) return [];
  // Someone else's route on the VTEP (the kernel's own, say): nothing of vxnet's.
  if (/ (?:via|proto|table) /.test(line)) return [];
  return ['neighbours', 'fdb'];
}

/** A route's destination as both `ip monitor` and the planner write it (a host route without its /32 or /128). */
const routeKey = (dst: string): string => `route ${dst.replace(/\/(?:32|128)$/, '')}`;

/**
 * Which entry a "Deleted ..." line of whatChanged names: `route <dst>`, or
 * `vtep <address>` (a neighbour's or an FDB entry's, printed alike); undefined
 * for any other line. Matched against removalsOf, so the agent's own
 * deletions do not make it re-read the tables it just changed.
 */
export function deletedEntry(line: string): string | undefined {
  const changed = whatChanged(line);
  if (changed.length === 0 || changed.includes('links')) return undefined;
  const dst = line.slice('Deleted '.length).split(' ', 1)[0]!;
  return changed.includes('routes') ? routeKey(dst) : `vtep ${dst}`;
}

/** The entries `ops` delete, as deletedEntry names them. */
export function removalsOf(ops: readonly Op[]): Set<string> {
  const keys = new Set<string>();
  for (const op of ops) {
    if (op.kind === 'route-del') keys.add(routeKey(op.dst));
    else if (op.kind === 'neigh-del') keys.add(`vtep ${op.ip}`);
    else if (op.kind === 'fdb-del') keys.add(`vtep ${op.dst}`);
  }
  return keys;
}

export function monitorKernel(onChange: (changed: KernelChange[], line: string) => void, signal: AbortSignal): void {
  // The parent-death signal ends the monitor even when the agent is SIGKILLed;
  // a leftover one would keep a deleted network namespace alive.
  const child = spawn('setpriv', ['--pdeathsig', 'KILL', 'ip', '-o', 'monitor', 'link', 'route', 'neigh'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  child.on('error', () => {});
  signal.addEventListener('abort', () => child.kill(), { once: true });
  createInterface({ input: child.stdout }).on('line', (line) => {
    const changed = whatChanged(line);
    if (changed.length > 0) onChange(changed, line);
  });
}
