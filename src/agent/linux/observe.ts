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

export async function observe(exec: Exec): Promise<ObservedState> {
  const proto = String(ROUTE_PROTO);
  const [links, neigh, fdb, routes4, routes6] = await Promise.all([
    readJson(exec, 'ip', ['-j', '-d', 'addr', 'show']),
    readJson(exec, 'ip', ['-j', 'neigh', 'show', 'nud', 'permanent']),
    readJson(exec, 'bridge', ['-j', 'fdb', 'show']),
    readJson(exec, 'ip', ['-j', '-4', 'route', 'show', 'proto', proto]),
    readJson(exec, 'ip', ['-j', '-6', 'route', 'show', 'proto', proto]),
  ]);
  return {
    links: parseLinks(links),
    neighbours: parseNeighbours(neigh),
    fdb: parseFdb(fdb),
    routes: [...parseRoutes(routes4), ...parseRoutes(routes6)],
  };
}
