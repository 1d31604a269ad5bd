// The query of GET /overlay-master/history, checked: every parameter is
// named with its value and the fix. Pure (the clock is passed in).

import { durationMs } from '../duration.js';
import { VxnetError } from '../errors.js';
import { parseCidr, parseIp } from '../net/ip.js';
import { type HistoryQuery, MAX_HISTORY_LIMIT } from '../store/allocation-history.js';

export const DEFAULT_HISTORY_ANSWER = 100;

function bad(param: string, value: unknown, rule: string, fix: string): never {
  throw new VxnetError('BAD_REQUEST', `query parameter ${param}=${JSON.stringify(value)} ${rule}: ${fix}`, { field: param, value });
}

function single(param: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') bad(param, value, 'is given more than once', `give ${param} once`);
  return value;
}

/** `since`: an ISO-8601 time, or a duration back from `nowMs` such as 90m, 24h or 7d. */
export function parseSince(text: string, nowMs: number): string {
  const back = durationMs(text);
  if (back !== undefined) return new Date(nowMs - back).toISOString();
  // Date-only or date-time, with a zone or UTC: what Date.parse reads the same everywhere.
  const ms = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(ms))
    bad('since', text, 'is no time', 'give an ISO-8601 time (2024-05-01T12:00:00Z) or a duration back from now (90m, 24h, 7d)');
  return new Date(ms).toISOString();
}

/** The store query from the request's query string. */
export function parseHistoryQuery(raw: Record<string, unknown>, nowMs: number): HistoryQuery {
  const agent = single('agent', raw.agent);
  const subnet = single('subnet', raw.subnet);
  const since = single('since', raw.since);
  const limitText = single('limit', raw.limit);
  const query: HistoryQuery = { limit: DEFAULT_HISTORY_ANSWER };
  if (agent !== undefined) {
    if (!parseIp(agent)) bad('agent', agent, 'is no IP address', "give the agent's IP, e.g. agent=10.0.0.1");
    query.agent = agent;
  }
  if (subnet !== undefined) {
    const cidr = parseCidr(subnet);
    if (!cidr.ok && !parseIp(subnet))
      bad('subnet', subnet, `is no CIDR or IP address (${cidr.reason})`, 'give e.g. subnet=192.168.3.0/24 (%2F for the slash is fine too)');
    query.subnet = subnet;
  }
  if (since !== undefined) query.since = parseSince(since, nowMs);
  if (limitText !== undefined) {
    const limit = /^\d{1,9}$/.test(limitText) ? Number(limitText) : Number.NaN;
    if (!(limit >= 1 && limit <= MAX_HISTORY_LIMIT))
      bad(
        'limit',
        limitText,
        `is not a whole number from 1 to ${MAX_HISTORY_LIMIT}`,
        'give a smaller limit, and narrow the answer with since, agent or subnet',
      );
    query.limit = limit;
  }
  return query;
}
