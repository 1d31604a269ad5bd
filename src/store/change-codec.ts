// Checks the changes handed to Store.commit and turns them into JSON once, at
// the call: both stores keep exactly what was committed, even if the caller
// mutates its objects afterwards, and decode them the same way.

import { VxnetError } from '../errors.js';
import type { AgentRecord, StoredChange } from './store.js';
import type { NetworkConfig } from '../config/types.js';

/** A checked change, serialised: `payload` is the JSON of its record, ip or config. */
export type EncodedChange =
  | { type: 'put'; ip: string; seq: number; payload: string }
  | { type: 'delete'; ip: string; payload: string }
  | { type: 'config'; payload: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function bad(path: string, value: unknown, rule: string, fix: string): never {
  let shown: string;
  try {
    shown = JSON.stringify(value) ?? String(value);
  } catch {
    shown = String(value);
  }
  throw new VxnetError('BAD_REQUEST', `${path} is ${shown}: ${rule}; ${fix}`, { path, value });
}

function checkRecord(path: string, record: unknown): asserts record is AgentRecord {
  if (!isObject(record)) bad(path, record, 'must be an agent record object', 'pass the AgentRecord to store');
  if (typeof record.ip !== 'string' || record.ip === '')
    bad(`${path}.ip`, record.ip, 'must be a non-empty string', "set it to the agent's IPv4 address");
  if (!Number.isSafeInteger(record.seq) || (record.seq as number) < 0)
    bad(`${path}.seq`, record.seq, 'must be a non-negative integer', "set it to the agent's registration order");
  for (const key of ['networkConfig', 'overlays', 'status'] as const) {
    if (!isObject(record[key])) bad(`${path}.${key}`, record[key], 'must be an object', `fill in ${key}`);
  }
  for (const key of ['vtepIp', 'vtepMac'] as const) {
    if (typeof record[key] !== 'string') bad(`${path}.${key}`, record[key], 'must be a string', `fill in ${key}`);
  }
  if (!Array.isArray(record.containers))
    bad(`${path}.containers`, record.containers, 'must be an array', 'pass [] when the agent has no containers');
}

function toJson(path: string, value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return bad(path, String(value), `cannot be stored as JSON (${reason})`, 'pass plain data only');
  }
}

/** Checks every change (all problems are the caller's, reported by field) and serialises it. */
export function encodeChanges(changes: unknown): EncodedChange[] {
  if (!Array.isArray(changes)) bad('changes', changes, 'must be an array of changes', 'pass [] or a list of changes');
  return changes.map((change: unknown, i): EncodedChange => {
    const path = `changes[${i}]`;
    if (!isObject(change)) return bad(path, change, 'must be a change object', "pass {type: 'put' | 'delete' | 'config', ...}");
    switch (change.type) {
      case 'put':
        checkRecord(`${path}.record`, change.record);
        return { type: 'put', ip: change.record.ip, seq: change.record.seq, payload: toJson(`${path}.record`, change.record) };
      case 'delete':
        if (typeof change.ip !== 'string' || change.ip === '')
          bad(`${path}.ip`, change.ip, 'must be a non-empty string', 'name the agent to delete by its IP');
        return { type: 'delete', ip: change.ip, payload: JSON.stringify(change.ip) };
      case 'config':
        if (!isObject(change.config) || typeof change.config.vtep_subnet !== 'string' || !Array.isArray(change.config.overlays))
          bad(
            `${path}.config`,
            change.config,
            'must be a network config with vtep_subnet and overlays',
            'pass a config that passed checkConfig',
          );
        return { type: 'config', payload: toJson(`${path}.config`, change.config) };
      default:
        return bad(`${path}.type`, change.type, "must be 'put', 'delete' or 'config'", 'use one of those change types');
    }
  });
}

/**
 * Rebuilds a committed change from its stored form, `value` being its parsed
 * payload: the one decoder of every backend (SQLite rows, memory, etcd log
 * entries). Throws for a type vxnet never wrote.
 */
export function decodeChange(type: unknown, value: unknown, revision: number): StoredChange {
  switch (type) {
    case 'put':
      return { type, record: value as AgentRecord, revision };
    case 'delete':
      return { type, ip: value as string, revision };
    case 'config':
      return { type, config: value as NetworkConfig, revision };
    default:
      throw new Error(`change ${revision} has an unknown type ${JSON.stringify(type)}`);
  }
}
