// Allocation history: who held which block (subnet, VTEP address) and when.
// Kept apart from the change log, with a retention of its own (age, count,
// bytes), so frequent status and container changes never push it out.
// Shared by every backend: the event check, the query filter and the trim rule.

import { VxnetError } from '../errors.js';
import { type Cidr, overlaps, parseCidr, parseIp } from '../net/ip.js';
import { shown } from './change-codec.js';

export type AllocationEventKind = 'allocated' | 'freed' | 'expired' | 'reclaimed';

/** One allocation event (shared design, item 3). `at` is ISO-8601 UTC. */
export interface AllocationEvent {
  at: string;
  kind: AllocationEventKind;
  /** The agent's IP. */
  agent: string;
  epoch?: number;
  overlay?: string;
  /** The block: an overlay's IPv4 subnet, its IPv6 subnet, or a VTEP address. */
  subnet?: string;
  subnet6?: string;
  vtepIp?: string;
}

/** What `Store.allocationHistory` answers: matching events, oldest first. */
export interface HistoryQuery {
  agent?: string;
  /** CIDR text: events whose block overlaps it (equal to, inside or containing it). */
  subnet?: string;
  /** ISO-8601: events at or after it. */
  since?: string;
  /** At most this many: the newest that match. */
  limit: number;
}

export interface HistoryPage {
  events: AllocationEvent[];
  /** True when older matching events were left out by `limit`. */
  more: boolean;
}

export const DEFAULT_HISTORY_MAX_AGE_DAYS = 365;
export const DEFAULT_HISTORY_MAX_EVENTS = 1_000_000;
/** 64 MiB of event JSON (about 400,000 events): whichever of age, count and bytes binds first trims. */
export const DEFAULT_HISTORY_MAX_BYTES = 64 * 1024 * 1024;
export const MAX_HISTORY_LIMIT = 10_000;

export interface AllocationRetention {
  maxAgeMs: number;
  maxEvents: number;
  maxBytes: number;
}

export interface AllocationHistoryOptions {
  /** Events older than this many days are dropped (default 365). */
  allocationHistoryDays?: number;
  /** At most this many events are kept (default 1,000,000). */
  allocationHistoryEvents?: number;
  /** At most this many bytes of event JSON are kept (default 64 MiB). */
  allocationHistoryBytes?: number;
  /** Wall clock in ms (default Date.now): for age retention; tests move it. */
  wallClock?: () => number;
}

function positive(name: string, value: number, fallback: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new VxnetError('BAD_REQUEST', `${name} is ${String(value)}: must be a positive number; omit it for ${fallback}`);
  }
  return value;
}

export function retentionOf(options: AllocationHistoryOptions | undefined): AllocationRetention {
  const days = positive(
    'allocationHistoryDays',
    options?.allocationHistoryDays ?? DEFAULT_HISTORY_MAX_AGE_DAYS,
    DEFAULT_HISTORY_MAX_AGE_DAYS,
  );
  return {
    maxAgeMs: days * 86_400_000,
    maxEvents: positive(
      'allocationHistoryEvents',
      options?.allocationHistoryEvents ?? DEFAULT_HISTORY_MAX_EVENTS,
      DEFAULT_HISTORY_MAX_EVENTS,
    ),
    maxBytes: positive('allocationHistoryBytes', options?.allocationHistoryBytes ?? DEFAULT_HISTORY_MAX_BYTES, DEFAULT_HISTORY_MAX_BYTES),
  };
}

/** A stored unit of history (an event, or an etcd batch of them), oldest first. */
export interface RetainedUnit {
  events: number;
  bytes: number;
  /** Its newest event's time, ms. */
  atMs: number;
}

/**
 * How many of the oldest units to drop so that the rest fits every bound:
 * younger than `maxAgeMs`, at most `maxEvents` events and `maxBytes` bytes.
 * Unlike the change log, nothing must be kept: a year-old history may all go.
 */
export function historyTrimCount(units: readonly RetainedUnit[], now: number, r: AllocationRetention): number {
  let events = 0;
  let bytes = 0;
  for (const u of units) {
    events += u.events;
    bytes += u.bytes;
  }
  let drop = 0;
  while (drop < units.length) {
    const u = units[drop]!;
    if (events <= r.maxEvents && bytes <= r.maxBytes && now - u.atMs <= r.maxAgeMs) break;
    events -= u.events;
    bytes -= u.bytes;
    drop += 1;
  }
  return drop;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const KINDS: readonly string[] = ['allocated', 'freed', 'expired', 'reclaimed'];

function bad(path: string, value: unknown, rule: string, fix: string): never {
  throw new VxnetError('BAD_REQUEST', `${path} is ${shown(value, 200)}: ${rule}; ${fix}`, { path, value });
}

/** A checked event, serialised once at the call. */
export interface EncodedEvent {
  event: AllocationEvent;
  json: string;
  atMs: number;
}

/** Checks the events handed to commit() and serialises each once (like the changes). */
export function encodeHistory(history: unknown): EncodedEvent[] {
  if (history === undefined) return [];
  if (!Array.isArray(history)) bad('history', history, 'must be an array of allocation events', 'pass [] or omit it');
  return history.map((e: unknown, i) => {
    const path = `history[${i}]`;
    if (!isObject(e)) return bad(path, e, 'must be an allocation event object', 'pass {at, kind, agent, ...}');
    const atMs = typeof e.at === 'string' ? Date.parse(e.at) : Number.NaN;
    if (Number.isNaN(atMs)) bad(`${path}.at`, e.at, 'must be an ISO-8601 time', 'pass new Date().toISOString()');
    if (typeof e.kind !== 'string' || !KINDS.includes(e.kind))
      bad(`${path}.kind`, e.kind, `must be one of ${KINDS.join(', ')}`, 'use one of those');
    if (typeof e.agent !== 'string' || e.agent === '') bad(`${path}.agent`, e.agent, 'must be a non-empty string', "pass the agent's IP");
    const event = e as unknown as AllocationEvent;
    return { event, json: JSON.stringify(event), atMs };
  });
}

export function eventTimeMs(event: AllocationEvent): number {
  const ms = Date.parse(event.at);
  return Number.isNaN(ms) ? 0 : ms;
}

/** A query with its subnet parsed, for `matches`. */
export interface CompiledQuery {
  agent?: string;
  subnet?: Cidr;
  sinceMs?: number;
  limit: number;
}

/** Checks a query (every field named with the fix) and parses it once. */
export function compileQuery(query: HistoryQuery): CompiledQuery {
  const out: CompiledQuery = { limit: query.limit };
  if (!Number.isSafeInteger(query.limit) || query.limit < 1 || query.limit > MAX_HISTORY_LIMIT)
    bad('limit', query.limit, `must be a whole number from 1 to ${MAX_HISTORY_LIMIT}`, 'pass a smaller limit and narrow with since');
  if (query.agent !== undefined) {
    if (!parseIp(query.agent)) bad('agent', query.agent, 'must be an IP address', "pass the agent's IP, e.g. 10.0.0.1");
    out.agent = query.agent;
  }
  if (query.subnet !== undefined) {
    const parsed = parseCidr(query.subnet);
    const ip = parsed.ok ? undefined : parseIp(query.subnet);
    if (parsed.ok) out.subnet = parsed.cidr;
    else if (ip) out.subnet = { family: ip.family, base: ip.value, length: ip.family === 4 ? 32 : 128 };
    else bad('subnet', query.subnet, 'must be a CIDR or an IP address', 'pass e.g. 192.168.3.0/24');
  }
  if (query.since !== undefined) {
    const ms = Date.parse(query.since);
    if (Number.isNaN(ms)) bad('since', query.since, 'must be an ISO-8601 time', 'pass e.g. 2024-05-01T00:00:00Z');
    out.sinceMs = ms;
  }
  return out;
}

const blockOf = (text: string | undefined): Cidr | undefined => {
  if (text === undefined) return undefined;
  const parsed = parseCidr(text);
  if (parsed.ok) return parsed.cidr;
  const ip = parseIp(text);
  return ip && { family: ip.family, base: ip.value, length: ip.family === 4 ? 32 : 128 };
};

/** Whether an event answers the query (its agent, a block overlapping the subnet, not before since). */
export function matches(event: AllocationEvent, q: CompiledQuery): boolean {
  if (q.agent !== undefined && event.agent !== q.agent) return false;
  if (q.sinceMs !== undefined && eventTimeMs(event) < q.sinceMs) return false;
  if (q.subnet !== undefined) {
    const target = q.subnet;
    const hit = [event.subnet, event.subnet6, event.vtepIp].some((t) => {
      const block = blockOf(t);
      return block !== undefined && block.family === target.family && overlaps(block, target);
    });
    if (!hit) return false;
  }
  return true;
}

/**
 * Picks the answer from events scanned newest first: the newest `limit` that
 * match, returned oldest first. Backends call it with what they read.
 */
export class HistoryCollector {
  private readonly found: AllocationEvent[] = [];
  more = false;

  constructor(private readonly q: CompiledQuery) {}

  /** Offers the next (older) event; false once the page is full (stop scanning). */
  offer(event: AllocationEvent): boolean {
    if (!matches(event, this.q)) return true;
    if (this.found.length >= this.q.limit) {
      this.more = true;
      return false;
    }
    this.found.push(event);
    return true;
  }

  page(): HistoryPage {
    return { events: [...this.found].reverse(), more: this.more };
  }
}
