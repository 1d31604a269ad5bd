// Reads the host's kernel state with `ip -j` / `bridge -j`: all of it, or
// only the tables `ip monitor` saw change.

import { createHash } from 'node:crypto';
import { VxnetError } from '../../errors.js';
import { ROUTE_PROTO, type ObservedState } from '../model.js';
import type { KernelTable } from '../ports.js';
import type { Exec } from './exec.js';
import { parseFdb, parseLinks, parseNeighbours, parseRoutes } from './parse.js';

async function readText(exec: Exec, file: string, args: string[]): Promise<string> {
  const r = await exec(file, args);
  if (r.code !== 0) throw new VxnetError('KERNEL', `${file} ${args.join(' ')} failed: ${r.stderr.trim()}`);
  return r.stdout;
}

function parseJson(file: string, args: string[], stdout: string): unknown {
  const text = stdout.trim();
  if (text === '') return [];
  try {
    return JSON.parse(text);
  } catch {
    throw new VxnetError('KERNEL', `${file} ${args.join(' ')} printed no JSON: ${text.slice(0, 200)}`);
  }
}

async function readJson(exec: Exec, file: string, args: string[]): Promise<unknown> {
  return parseJson(file, args, await readText(exec, file, args));
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
  return parseIp(tables, await readIpText(exec, tables));
}

async function readIpText(exec: Exec, tables: IpTable[]): Promise<{ outputs: string[]; lines: string[] }> {
  const lines = tables.map((t) => IP_LINES[t]);
  const r = await exec('ip', ['-j', '-d', '-batch', '-'], `${lines.join('\n')}\n`);
  const outputs = r.stdout.split('\n').filter((l) => l.trim() !== '');
  if (r.code !== 0 || outputs.length !== lines.length) {
    throw new VxnetError(
      'KERNEL',
      `ip -j -batch (${lines.join('; ')}) failed: ${r.stderr.trim() || `printed ${outputs.length} of ${lines.length} answers`}`,
    );
  }
  return { outputs, lines };
}

function parseIp(tables: IpTable[], { outputs, lines }: { outputs: string[]; lines: string[] }): Map<IpTable, unknown> {
  return new Map(tables.map((t, i) => [t, parseIpLine({ outputs, lines }, i)]));
}

function parseIpLine({ outputs, lines }: { outputs: string[]; lines: string[] }, i: number): unknown {
  try {
    return JSON.parse(outputs[i]!) as unknown;
  } catch {
    throw new VxnetError('KERNEL', `ip ${lines[i]} printed no JSON: ${outputs[i]!.slice(0, 200)}`);
  }
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

/**
 * The last full read, per table: a digest of what the tool printed for the
 * big tables (not the text: that is megabytes at 4,093 peers), and the parsed
 * links as JSON (their output changes by itself: a bridge's `gc_timer`).
 */
export interface ObserveMemo {
  keys?: Record<keyof ObservedState, string>;
  state?: ObservedState;
}

const FULL: IpTable[] = ['links', 'neighbours', 'routes'];
const FDB_ARGS = ['-j', 'fdb', 'show'];
const digest = (text: string): string => createHash('sha1').update(text).digest('base64');

/**
 * Two processes: one `ip -batch` for links, neighbours and routes (both
 * families), one `bridge` for the FDB. A table whose output is identical to
 * the last read's keeps its parsed array; when every table is unchanged the
 * same state object comes back: an idle host's full re-read costs the two
 * processes, the few links' parse and three digests (the loop then skips its
 * plan too).
 */
export async function observe(exec: Exec, memo: ObserveMemo = {}): Promise<ObservedState> {
  const [ip, fdb] = await Promise.all([readIpText(exec, FULL), readText(exec, 'bridge', FDB_ARGS)]);
  const links = parseLinks(parseIpLine(ip, 0));
  const keys = { links: JSON.stringify(links), neighbours: digest(ip.outputs[1]!), routes: digest(ip.outputs[2]!), fdb: digest(fdb) };
  const last = memo.state;
  const kept = (t: keyof ObservedState): boolean => last !== undefined && memo.keys?.[t] === keys[t];
  if (last && kept('links') && kept('neighbours') && kept('routes') && kept('fdb')) return last;
  const state: ObservedState = {
    links: last && kept('links') ? last.links : links,
    neighbours: last && kept('neighbours') ? last.neighbours : parseNeighbours(parseIpLine(ip, 1)),
    fdb: last && kept('fdb') ? last.fdb : parseFdb(parseJson('bridge', FDB_ARGS, fdb)),
    routes: last && kept('routes') ? last.routes : parseRoutes(parseIpLine(ip, 2)),
  };
  memo.keys = keys;
  memo.state = state;
  return state;
}
