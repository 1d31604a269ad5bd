// `vxnet ipam check [--release] [--agent URL | --master URL] [--json]`: one
// host's IPAM check through its agent, or the cluster's summary from the master.

import type { Command } from 'commander';
import type { IpamCheck, IpamCounts, IpamSummary } from '../api/types.js';
import { fail } from './common.js';

const COMMAND = 'vxnet ipam check';

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows
    .map(
      (r) =>
        `${r
          .map((cell, c) => cell.padEnd(widths[c]!))
          .join('  ')
          .trimEnd()}\n`,
    )
    .join('');
}

const countCells = (c: IpamCounts): string[] => [String(c.used), String(c.leaked), String(c.suspect), String(c.stranded)];
const HEAD = ['USED', 'LEAKED', 'SUSPECT', 'STRANDED'];

/** Pure: one agent's check as text. */
export function formatIpamCheck(check: IpamCheck): string {
  let out = `agent ${check.ip}, checked ${check.at}, leaked addresses are released after ${check.graceSeconds} s\n`;
  out += check.overlays.length
    ? table([['OVERLAY', ...HEAD], ...check.overlays.map((o) => [o.name, ...countCells(o)])])
    : 'no reservations\n';
  const listed = check.overlays.flatMap((o) => o.addresses.map((a) => ({ overlay: o.name, ...a })));
  if (listed.length) {
    out += `\n${table([
      ['OVERLAY', 'ADDRESS', 'STATE', 'CONTAINER', 'RUNTIME', 'WHY'],
      ...listed.map((a) => [
        a.overlay,
        a.ip,
        `${a.state}${a.stranded ? ', stranded' : ''}`,
        a.container,
        a.runtime,
        `${a.reason}${a.releaseAt ? ` (release after ${a.releaseAt})` : ''}`,
      ]),
    ])}`;
  }
  for (const r of check.released)
    out += `released ${r.ip} on ${r.overlay} (container ${r.container}, by ${r.how === 'file' ? 'removing its file' : 'CNI DEL'})\n`;
  for (const e of check.errors) out += `error: ${e}\n`;
  return out;
}

/** Pure: the master's summary as text. */
export function formatIpamSummary(summary: IpamSummary): string {
  const rows = [['AGENT', 'OVERLAY', ...HEAD]];
  for (const a of summary.agents) for (const [name, c] of Object.entries(a.overlays)) rows.push([a.agent, name, ...countCells(c)]);
  for (const [name, c] of Object.entries(summary.totals)) rows.push(['total', name, ...countCells(c)]);
  return rows.length > 1 ? table(rows) : 'no agent has reported an IPAM check yet\n';
}

function urlOf(flag: string, text: string): URL | undefined {
  try {
    const url = new URL(text);
    if (url.protocol === 'http:' || url.protocol === 'https:') return url;
  } catch {
    /* reported below */
  }
  fail(
    COMMAND,
    `${flag} ${JSON.stringify(text)} is not an http(s) URL; give e.g. ${flag} http://127.0.0.1:${flag === '--agent' ? 5051 : 5050}`,
  );
  return undefined;
}

async function call<T>(base: URL, path: string, method: 'GET' | 'POST'): Promise<T> {
  const res = await fetch(new URL(path, base), { method, signal: AbortSignal.timeout(60_000) });
  const text = await res.text();
  if (!res.ok) {
    let message = text.slice(0, 500);
    try {
      message = (JSON.parse(text) as { error: { message: string } }).error.message;
    } catch {
      /* not our error shape */
    }
    throw new Error(`${method} ${path} answered ${res.status}: ${message}`);
  }
  return JSON.parse(text) as T;
}

interface IpamOptions {
  agent: string;
  master?: string;
  release?: boolean;
  json?: boolean;
}

async function check(o: IpamOptions): Promise<void> {
  if (o.master !== undefined && o.release) return fail(COMMAND, '--release works on one host: give --agent URL (its agent), not --master');
  const base = o.master !== undefined ? urlOf('--master', o.master) : urlOf('--agent', o.agent);
  if (!base) return;
  try {
    if (o.master !== undefined) {
      const summary = await call<IpamSummary>(base, '/overlay-master/ipam', 'GET');
      process.stdout.write(o.json ? `${JSON.stringify(summary, null, 2)}\n` : formatIpamSummary(summary));
      return;
    }
    const result = o.release
      ? await call<IpamCheck>(base, '/overlay-agent/ipam/release', 'POST')
      : await call<IpamCheck>(base, '/overlay-agent/ipam', 'GET');
    process.stdout.write(o.json ? `${JSON.stringify(result, null, 2)}\n` : formatIpamCheck(result));
    if (result.errors.length) process.exitCode = 1;
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code;
    fail(
      COMMAND,
      `${e instanceof Error ? e.message : String(e)}${cause ? ` (${cause})` : ''}; is the agent (or master) running at ${base.href}?`,
    );
  }
}

export function registerIpamCommands(program: Command): void {
  program
    .command('ipam')
    .description('container address reservations (host-local IPAM)')
    .command('check')
    .description('addresses in use, leaked (container gone), suspect and stranded, per overlay, on one host or cluster-wide')
    .option('--agent <url>', "this host's agent", 'http://127.0.0.1:5051')
    .option('--master <url>', "the cluster's summary from the master instead (the agents' last reports)")
    .option(
      '--release',
      'release the leaked addresses now, without waiting for the grace period (never the suspect ones; on the host itself)',
    )
    .option('--json', 'machine-readable output')
    .action(async (o: IpamOptions) => check(o));
}
