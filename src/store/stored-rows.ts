// Reads back what a store wrote, trusting nothing: a row damaged or edited by
// hand is an error naming where it is (file or key, and row) and what is
// wrong, never a TypeError deep in the master or a revision NaN.

import type { NetworkConfig } from '../config/types.js';
import { VxnetError } from '../errors.js';
import { configProblem, decodeChange, recordProblem, shown } from './change-codec.js';
import type { AgentRecord, StoredChange } from './store.js';

/** `where`: the row, e.g. `/var/lib/vxnet/vxnet.db, agents row "10.0.0.1"`; `fix`: how to repair this backend. */
function damaged(where: string, what: string, fix: string): VxnetError {
  return new VxnetError('STORE_UNAVAILABLE', `the store is damaged at ${where}: ${what}; ${fix}`, { where });
}

function parse(where: string, text: unknown, fix: string): unknown {
  if (typeof text !== 'string') throw damaged(where, `holds ${shown(text, 80)}, not JSON text`, fix);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw damaged(where, `is not JSON (${err instanceof Error ? err.message : String(err)})`, fix);
  }
}

/** An agent record stored under `key` (its IP); `where` is made only for an error (a restart reads every row). */
export function readRecord(where: () => string, key: string, text: unknown, fix: string): AgentRecord {
  let record: unknown;
  try {
    record = typeof text === 'string' ? JSON.parse(text) : undefined;
  } catch {}
  if (record === undefined) parse(where(), text, fix); // throws, saying why
  const problem = recordProblem('record', record);
  if (problem) throw damaged(where(), `${problem.path} is ${shown(problem.value, 80)} but ${problem.rule}`, fix);
  const ip = (record as AgentRecord).ip;
  if (ip !== key) throw damaged(where(), `record.ip is ${JSON.stringify(ip)} but the row is keyed ${JSON.stringify(key)}`, fix);
  return record as AgentRecord;
}

/** The stored network config. */
export function readConfig(where: string, text: unknown, fix: string): NetworkConfig {
  const config = parse(where, text, fix);
  const problem = configProblem('config', config);
  if (problem) throw damaged(where, `${problem.path} is ${shown(problem.value, 80)} but ${problem.rule}`, fix);
  return config as NetworkConfig;
}

/** A stored revision: a non-negative whole number. */
export function readRevision(where: string, text: unknown, fix: string): number {
  const revision = typeof text === 'string' && /^\d{1,15}$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (!Number.isSafeInteger(revision)) throw damaged(where, `the revision is ${shown(text, 80)}, not a non-negative whole number`, fix);
  return revision;
}

/** A change of the history, checked as its record or config is. */
export function readChange(where: string, type: unknown, text: unknown, revision: number, fix: string): StoredChange {
  if (type !== 'put' && type !== 'delete' && type !== 'config')
    throw damaged(where, `the change type is ${shown(type, 80)}, not put, delete or config`, fix);
  if (type === 'put') {
    const record = parse(where, text, fix);
    const problem = recordProblem('record', record);
    if (problem) throw damaged(where, `${problem.path} is ${shown(problem.value, 80)} but ${problem.rule}`, fix);
    return decodeChange(type, record, revision);
  }
  if (type === 'config') return decodeChange(type, readConfig(where, text, fix), revision);
  const ip = parse(where, text, fix);
  if (typeof ip !== 'string' || ip === '') throw damaged(where, `the deleted ip is ${shown(ip, 80)}, not an address`, fix);
  return decodeChange(type, ip, revision);
}
