// Reads the host's kernel state with `ip -j` / `bridge -j`: all of it, or
// only the tables `ip monitor` saw change.

import { VxnetError } from '../../errors.js';
import { ROUTE_PROTO, type ObservedState } from '../model.js';
import type { KernelTable } from '../ports.js';
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

/** The `ip -batch` line that reads each `ip` table. */
const IP_LINES = {
  links: 'addr show',
  neighbours: 'neigh show nud permanent',
  routes: `route show table all proto ${ROUTE_PROTO}`,
} as const;
type IpTable = keyof typeof IP_LINES;

/** One `ip -j -d -batch` for the `ip` tables asked for: one JSON answer per line. */
async function readIp(exec: Exec, tables: IpTable[]): Promise<Map<IpTable, unknown>> {
  if (tables.length === 0) return new Map();
  const lines = tables.map((t) => IP_LINES[t]);
  const r = await exec('ip', ['-j', '-d', '-batch', '-'], `${lines.join('\n')}\n`);
  const outputs = r.stdout.split('\n').filter((l) => l.trim() !== '');
  if (r.code !== 0 || outputs.length !== lines.length) {
    throw new VxnetError(
      'KERNEL',
      `ip -j -batch (${lines.join('; ')}) failed: ${r.stderr.trim() || `printed ${outputs.length} of ${lines.length} answers`}`,
    );
  }
  return new Map(
    outputs.map((text, i) => {
      try {
        return [tables[i]!, JSON.parse(text) as unknown];
      } catch {
        throw new VxnetError('KERNEL', `ip ${lines[i]} printed no JSON: ${text.slice(0, 200)}`);
      }
    }),
  );
}

/** Only these tables: at most one `ip -batch` and one `bridge` process. */
export async function readTables(exec: Exec, tables: ReadonlySet<KernelTable>): Promise<Partial<Pick<ObservedState, KernelTable>>> {
  const ipTables = (['neighbours', 'routes'] as const).filter((t) => tables.has(t));
  const [ip, fdb] = await Promise.all([
    readIp(exec, ipTables),
    tables.has('fdb') ? readJson(exec, 'bridge', ['-j', 'fdb', 'show']) : undefined,
  ]);
  return {
    ...(ip.has('neighbours') && { neighbours: parseNeighbours(ip.get('neighbours')) }),
    ...(ip.has('routes') && { routes: parseRoutes(ip.get('routes')) }),
    ...(fdb !== undefined && { fdb: parseFdb(fdb) }),
  };
}

/** Two processes: one `ip -batch` for links, neighbours and routes (both families), one `bridge` for the FDB. */
export async function observe(exec: Exec): Promise<ObservedState> {
  const [ip, fdb] = await Promise.all([readIp(exec, ['links', 'neighbours', 'routes']), readJson(exec, 'bridge', ['-j', 'fdb', 'show'])]);
  return {
    links: parseLinks(ip.get('links')),
    neighbours: parseNeighbours(ip.get('neighbours')),
    fdb: parseFdb(fdb),
    routes: parseRoutes(ip.get('routes')),
  };
}
