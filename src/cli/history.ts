// `vxnet history`: which agent held a subnet or VTEP address, and when, from
// the master's allocation history (GET /overlay-master/history). The master
// checks every parameter; this file only builds the request and the table.

import type { Command } from 'commander';
import type { HistoryAnswer } from '../api/types.js';
import { fail } from './common.js';

interface HistoryOptions {
  agent?: string;
  subnet?: string;
  since?: string;
  limit?: string;
  master: string;
  json?: boolean;
}

/** The events as a table, oldest first, with a note when older ones were left out. */
export function formatHistory(answer: HistoryAnswer, limit: string): string {
  if (answer.events.length === 0) return 'No allocation events match.\n';
  const head = ['TIME', 'EVENT', 'AGENT', 'EPOCH', 'OVERLAY', 'BLOCK'];
  const rows = answer.events.map((e) => [
    e.at,
    e.kind,
    e.agent,
    e.epoch === undefined ? '-' : String(e.epoch),
    e.overlay ?? (e.vtepIp ? 'vtep' : '-'),
    e.subnet ?? e.subnet6 ?? e.vtepIp ?? '-',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const lines = [head, ...rows].map((r) =>
    r
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
  const more = answer.more ? `\n(only the newest ${limit}: narrow with --since, --agent or --subnet, or raise --limit)` : '';
  return `${lines.join('\n')}${more}\n`;
}

async function showHistory(options: HistoryOptions): Promise<void> {
  let url: URL;
  try {
    url = new URL('/overlay-master/history', options.master);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
  } catch {
    return fail('vxnet history', `--master ${JSON.stringify(options.master)} is not an http(s) URL; give e.g. http://127.0.0.1:5050`);
  }
  for (const key of ['agent', 'subnet', 'since', 'limit'] as const) {
    const value = options[key];
    if (value !== undefined) url.searchParams.set(key, value);
  }
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e instanceof Error ? e.message : String(e));
    return fail(
      'vxnet history',
      `cannot reach the master at ${options.master} (${cause}); start one with "vxnet master" or pass --master URL`,
    );
  }
  const body = (await res.json().catch(() => undefined)) as (HistoryAnswer & { error?: { message: string } }) | undefined;
  if (!res.ok || !body) {
    const why = body?.error?.message ?? `HTTP ${res.status}`;
    // The master names the parameter; say it with the flag of the same name.
    return fail('vxnet history', why.replace(/^query parameter (\w+)=/, '--$1 '));
  }
  process.stdout.write(options.json ? `${JSON.stringify(body, null, 2)}\n` : formatHistory(body, options.limit ?? '100'));
}

export function registerHistoryCommand(program: Command): void {
  program
    .command('history')
    .description('allocation history: which agent held a subnet or VTEP address, and when (allocated, freed, expired, reclaimed)')
    .option('--agent <ip>', "only this agent's events")
    .option(
      '--subnet <cidr>',
      'only events of blocks overlapping it: the subnet itself, subnets inside it, or one containing it (an IP works too)',
    )
    .option('--since <time>', 'only events since then: an ISO-8601 time (2024-05-01T12:00:00Z) or a duration back from now (90m, 24h, 7d)')
    .option('--limit <n>', 'at most this many events, the newest (default 100, at most 10000)')
    .option('--master <url>', 'the master', 'http://127.0.0.1:5050')
    .option('--json', 'print the answer as JSON')
    .action(showHistory);
}
