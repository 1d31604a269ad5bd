// Where the etcd store keeps things under its prefix, and how a batch of
// changes is written into its log entry and read back. Pure.

import { VxnetError } from '../../errors.js';
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
  };
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
 * atomic). `extraOps` is what every transaction adds (log entry, revision, pruning).
 */
export function chunkCallers<T extends { changes: EncodedChange[] }>(queue: T[], maxOps: number, maxBytes: number, extraOps = 3): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let ops = extraOps;
  let bytes = 0;
  for (const p of queue) {
    const pOps = p.changes.length;
    const pBytes = p.changes.reduce((n, c) => n + changeBytes(c), 0);
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
