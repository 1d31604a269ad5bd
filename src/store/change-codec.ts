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

/** A field that breaks a rule, with the fix. */
export interface Problem {
  path: string;
  value: unknown;
  rule: string;
  fix: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A value for a message: its JSON, cut to `max` characters. */
export function shown(value: unknown, max = Number.POSITIVE_INFINITY): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

function bad(path: string, value: unknown, rule: string, fix: string): never {
  throw new VxnetError('BAD_REQUEST', `${path} is ${shown(value)}: ${rule}; ${fix}`, { path, value });
}

/** What is wrong with an agent record, by field, or undefined when it has every field a store relies on. */
export function recordProblem(path: string, record: unknown): Problem | undefined {
  if (!isObject(record)) return { path, value: record, rule: 'must be an agent record object', fix: 'pass the AgentRecord to store' };
  if (typeof record.ip !== 'string' || record.ip === '')
    return { path: `${path}.ip`, value: record.ip, rule: 'must be a non-empty string', fix: "set it to the agent's IPv4 address" };
  if (!Number.isSafeInteger(record.seq) || (record.seq as number) < 0)
    return {
      path: `${path}.seq`,
      value: record.seq,
      rule: 'must be a non-negative integer',
      fix: "set it to the agent's registration order",
    };
  for (const key of ['networkConfig', 'overlays', 'status'] as const) {
    if (!isObject(record[key])) return { path: `${path}.${key}`, value: record[key], rule: 'must be an object', fix: `fill in ${key}` };
  }
  for (const key of ['vtepIp', 'vtepMac'] as const) {
    if (typeof record[key] !== 'string')
      return { path: `${path}.${key}`, value: record[key], rule: 'must be a string', fix: `fill in ${key}` };
  }
  if (!Array.isArray(record.containers))
    return {
      path: `${path}.containers`,
      value: record.containers,
      rule: 'must be an array',
      fix: 'pass [] when the agent has no containers',
    };
  return undefined;
}

/** What is wrong with a network config as a store keeps it, or undefined. */
export function configProblem(path: string, config: unknown): Problem | undefined {
  if (!isObject(config) || typeof config.vtep_subnet !== 'string' || !Array.isArray(config.overlays))
    return {
      path,
      value: config,
      rule: 'must be a network config with vtep_subnet and overlays',
      fix: 'pass a config that passed checkConfig',
    };
  return undefined;
}

function checkRecord(path: string, record: unknown): asserts record is AgentRecord {
  const problem = recordProblem(path, record);
  if (problem) bad(problem.path, problem.value, problem.rule, problem.fix);
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
        {
          const problem = configProblem(`${path}.config`, change.config);
          if (problem) bad(problem.path, problem.value, problem.rule, problem.fix);
        }
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
