// Where the etcd store keeps things under its prefix, and how a batch of
// changes is written into its log entry and read back. Pure.

import { VxnetError } from '../../errors.js';
import type { EncodedEvent, RetainedUnit } from '../allocation-history.js';
import { decodeChange, type EncodedChange } from '../change-codec.js';
import type { StoredChange } from '../store.js';

export const DEFAULT_PREFIX = '/vxnet';

/** Zero-padded so etcd's byte order of log keys is revision order. */
const REV_WIDTH = 16;

export interface Layout {
  prefix: string;
  agents: string;
  agent(ip: string): string;
  config: string;
  /** The store revision: the number of changes ever committed. */
  rev: string;
  log: string;
  /** The log entry of the batch whose first change has revision `first`. */
  logEntry(first: number): string;
  /** The allocation history: one key per batch, apart from the log (its own retention). */
  history: string;
  /** Keys of history entries at or above this sort at or after position `pos` (HistoryUnit). */
  historyFrom(pos: string): string;
}

/** One allocation-history entry, known from its key alone (so pruning needs no reads). */
export interface HistoryUnit extends RetainedUnit {
  key: string;
  /** Where it sorts: the first revision of the batch that wrote it, and a counter for batches without changes. */
  pos: string;
}

/** Checks an --etcd-prefix and returns the key layout under it. */
export function layoutOf(prefix: string = DEFAULT_PREFIX): Layout {
  if (typeof prefix !== 'string' || !/^\/[A-Za-z0-9._/-]*[A-Za-z0-9._-]$/.test(prefix) || prefix.includes('//')) {
    throw new VxnetError(
      'BAD_REQUEST',
      `etcd prefix ${JSON.stringify(prefix)} is invalid: it must start with "/", not end with "/", and use only letters, digits, ".", "_", "-" and "/"; e.g. ${DEFAULT_PREFIX}`,
    );
  }
  return {
    prefix,
    agents: `${prefix}/agents/`,
    agent: (ip) => `${prefix}/agents/${ip}`,
    config: `${prefix}/config`,
    rev: `${prefix}/rev`,
    log: `${prefix}/log/`,
    logEntry: (first) => `${prefix}/log/${String(first).padStart(REV_WIDTH, '0')}`,
    history: `${prefix}/history/`,
    historyFrom: (pos) => `${prefix}/history/${pos}`,
  };
}

/**
 * The history entry of a batch: key `history/<first revision>.<n>.<newest ms>.<events>.<bytes>`,
 * value the events' JSON array. The key says all that retention needs; `n`
 * keeps batches without changes (which share a first revision) apart, in order.
 */
export function historyEntry(layout: Layout, first: number, n: number, events: EncodedEvent[]): { unit: HistoryUnit; value: string } {
  const bytes = events.reduce((sum, e) => sum + e.json.length, 0);
  const atMs = events.reduce((max, e) => Math.max(max, e.atMs), 0);
  const pos = `${String(first).padStart(REV_WIDTH, '0')}.${String(n).padStart(6, '0')}`;
  const key = `${layout.historyFrom(pos)}.${atMs}.${events.length}.${bytes}`;
  return { unit: { key, pos, events: events.length, bytes, atMs }, value: `[${events.map((e) => e.json).join(',')}]` };
}

/** The unit a history key names, or undefined for a key vxnet did not write. */
export function historyUnitOf(layout: Layout, key: string): HistoryUnit | undefined {
  if (!key.startsWith(layout.history)) return undefined;
  const m = /^(\d{16}\.\d{6})\.(\d+)\.(\d+)\.(\d+)$/.exec(key.slice(layout.history.length));
  if (!m) return undefined;
  return { key, pos: m[1]!, atMs: Number(m[2]), events: Number(m[3]), bytes: Number(m[4]) };
}

/** A batch in the log: its first revision and one [type, value] pair per change. */
export function encodeLogEntry(first: number, changes: EncodedChange[]): string {
  // Payloads are JSON already: embed them instead of serialising again.
  return `{"first":${first},"changes":[${changes.map((c) => `["${c.type}",${c.payload}]`).join(',')}]}`;
}

/** The changes of a log entry, each decoded as every store decodes its changes. */
export function decodeLogEntry(text: string): StoredChange[] {
  const entry = JSON.parse(text) as { first: number; changes: [unknown, unknown][] };
  return entry.changes.map(([type, value], i) => decodeChange(type, value, entry.first + i));
}

/** Bytes a change adds to a transaction (record and log copy), to keep requests under etcd's limit. */
export const changeBytes = (c: EncodedChange): number => 2 * c.payload.length + 96;

/**
 * Splits queued commits into transactions of at most `maxOps` operations and
 * `maxBytes` bytes, never splitting one caller's changes (each commit() stays
 * atomic). `extraOps` is what every transaction adds (log entry, revision, history entry, two prunings).
 */
export function chunkCallers<T extends { changes: EncodedChange[]; history?: EncodedEvent[] }>(
  queue: T[],
  maxOps: number,
  maxBytes: number,
  extraOps = 5,
): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let ops = extraOps;
  let bytes = 0;
  for (const p of queue) {
    const pOps = p.changes.length;
    const pBytes = p.changes.reduce((n, c) => n + changeBytes(c), 0) + (p.history ?? []).reduce((n, e) => n + e.json.length + 1, 0);
    if (current.length > 0 && (ops + pOps > maxOps || bytes + pBytes > maxBytes)) {
      chunks.push(current);
      current = [];
      ops = extraOps;
      bytes = 0;
    }
    current.push(p);
    ops += pOps;
    bytes += pBytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
