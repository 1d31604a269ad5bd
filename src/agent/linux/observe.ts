// Reads the host's kernel state with `ip -j` / `bridge -j`.

import { VxnetError } from '../../errors.js';
import { ROUTE_PROTO, type ObservedState } from '../model.js';
import type { Exec } from './exec.js';
import { parseFdb, parseLinks, parseNeighbours, parseRoutes } from './parse.js';

async function readJson(exec: Exec, file: string, args: string[]): Promise<unknown> {
  const r = await exec(file, args);
  if (r.code !== 0) throw new VxnetError('KERNEL', `${file} ${args.join(' ')} failed: ${r.stderr.trim()}`);
  const text = r.stdout.trim();
  if (text === '') return [];
  try {
    return JSON.parse(text);
  } catch {
    throw new VxnetError('KERNEL', `${file} ${args.join(' ')} printed no JSON: ${text.slice(0, 200)}`);
  }
}

/** Two processes: one `ip -batch` for links, neighbours and routes (both families), one `bridge` for the FDB. */
export async function observe(exec: Exec): Promise<ObservedState> {
  const lines = ['addr show', 'neigh show nud permanent', `route show table all proto ${ROUTE_PROTO}`];
  const [ipOut, fdb] = await Promise.all([
    exec('ip', ['-j', '-d', '-batch', '-'], `${lines.join('\n')}\n`),
    readJson(exec, 'bridge', ['-j', 'fdb', 'show']),
  ]);
  const outputs = ipOut.stdout.split('\n').filter((l) => l.trim() !== '');
  if (ipOut.code !== 0 || outputs.length !== lines.length) {
    throw new VxnetError(
      'KERNEL',
      `ip -j -batch (${lines.join('; ')}) failed: ${ipOut.stderr.trim() || `printed ${outputs.length} of ${lines.length} answers`}`,
    );
  }
  const [links, neigh, routes] = outputs.map((text, i) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new VxnetError('KERNEL', `ip ${lines[i]} printed no JSON: ${text.slice(0, 200)}`);
    }
  });
  return { links: parseLinks(links), neighbours: parseNeighbours(neigh), fdb: parseFdb(fdb), routes: parseRoutes(routes) };
}
