// Wakes the loop when someone removes or changes what vxnet owns, so a
// hand-deleted entry is back in milliseconds instead of at the next tick.
// Best effort: if `ip monitor` cannot run, the periodic tick still repairs.

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { VTEP_NAME } from '../../api/types.js';
import { ROUTE_PROTO } from '../model.js';

const OWNED_LINK = /^(?:Deleted )?\d+: (?:vtep1024|[md]-[A-Za-z0-9_.-]+)[@:]/;

/** True for `ip -o monitor` lines that touch vxnet's links, VTEP entries or routes. */
export function touchesOwned(line: string): boolean {
  if (OWNED_LINK.test(line)) return true;
  if (!line.startsWith('Deleted ')) return false;
  return line.includes(`dev ${VTEP_NAME} `) || line.endsWith(`dev ${VTEP_NAME}`) || line.includes(` proto ${ROUTE_PROTO}`);
}

export function monitorKernel(onChange: () => void, signal: AbortSignal): void {
  // The parent-death signal ends the monitor even when the agent is SIGKILLed;
  // a leftover one would keep a deleted network namespace alive.
  const child = spawn('setpriv', ['--pdeathsig', 'KILL', 'ip', '-o', 'monitor', 'link', 'route', 'neigh'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  child.on('error', () => {});
  signal.addEventListener('abort', () => child.kill(), { once: true });
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (touchesOwned(line)) onChange();
  });
}
