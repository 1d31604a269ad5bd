// The /state answer a sole master saves beside its store, at a clean stop
// and every --save-state-every while it runs, so its next start answers the
// first GET /state without rendering every agent again (100,000 agents:
// about a second). A start uses it as it is only when it describes exactly
// the state the store holds: savedStateFits checks it against the store
// before the rows are read, so it can be served while they are, and replica.ts
// adoptStateCache then checks every agent's place in it. One from an earlier
// revision (a crash after the last save) lends the bytes of the agents no
// change since touched (reuseStateCache); another vxnet's format is unused.
// The file stays until the next save replaces it. File format:
//   "vxnet-state-cache/1\n" | revision f64 | agents u32 | head bytes u32 |
//   each agent's byte length u32 | the answer's bytes.

import { closeSync, fstatSync, openSync, read } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { canonicalize } from '../config/canonical.js';
import type { NetworkConfig } from '../config/types.js';
import type { StorePeek } from '../store/store.js';
import type { StateBody } from './state-body.js';
import { agentInfoJson, stateHeadJson } from './view.js';

const MAGIC = Buffer.from('vxnet-state-cache/1\n');

export interface StateCache {
  revision: number;
  /** Bytes of `{"network":...,"agents":[`, before the first agent. */
  head: number;
  /** Each agent's AgentInfo bytes, in the answer's order. */
  lengths: number[];
  /** The whole answer. */
  body: Buffer;
}

/** What a replica saves: a StateCache whose answer may be in chunks (state-body.ts). */
export interface StateToSave extends Omit<StateCache, 'body'> {
  body: StateBody;
}

/** Writes the cache (to a temporary file, flushed, then renamed over, so a reader never sees half of one). */
export async function saveStateCache(file: string, cache: StateToSave): Promise<void> {
  const header = Buffer.alloc(MAGIC.length + 16 + 4 * cache.lengths.length);
  MAGIC.copy(header, 0);
  let at = header.writeDoubleLE(cache.revision, MAGIC.length);
  at = header.writeUInt32LE(cache.lengths.length, at);
  at = header.writeUInt32LE(cache.head, at);
  for (const length of cache.lengths) at = header.writeUInt32LE(length, at);
  const temporary = `${file}.tmp`;
  const handle = await open(temporary, 'w', 0o600);
  try {
    await handle.writev([header, ...cache.body.chunks]);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, file);
}

/** What keepStateSaved saves: the replica's state and its revision. */
export interface StateSource {
  readonly revision: number;
  readonly agentCount: number;
  /** Renders agents not in any answer yet until `until` (performance.now()); true once none is left. */
  renderAhead(until: number): boolean;
  stateToSave(): StateToSave;
}

/** How long a save renders agents before it lets the event loop run. */
const RENDER_SLICE_MS = 5;

/**
 * Saves the state every `everyMs` while it moves (one save at a time), so a
 * master that crashes leaves an answer at most that old: its next start
 * renders only the agents changed since (StateReplica.reuseStateCache).
 * Agents not yet in an answer are rendered in slices first (100,000 of them
 * take about a second), so a save never holds the event loop for long.
 * `stop` waits for a save under way, so the caller's last save follows it.
 */
export function keepStateSaved(
  file: string,
  everyMs: number,
  source: StateSource,
  say: (message: string) => void,
  /** The revision the file already holds (the start adopted it as it was), so it is not written again unchanged. */
  savedAt?: number,
): { stop(): Promise<void> } {
  let saving: Promise<void> | undefined;
  let stopped = false;
  let lastTrouble: string | undefined;
  const save = async (): Promise<void> => {
    while (!source.renderAhead(performance.now() + RENDER_SLICE_MS)) {
      await new Promise((next) => setImmediate(next));
      if (stopped) return;
    }
    const cache = source.stateToSave();
    await saveStateCache(file, cache);
    savedAt = cache.revision;
    lastTrouble = undefined;
  };
  const timer = setInterval(() => {
    if (saving !== undefined || source.revision === savedAt || source.agentCount === 0) return;
    saving = save()
      .catch((e: unknown) => {
        // Said once per cause, not every interval.
        if (String(e) !== lastTrouble)
          say(`could not save the state in ${file} (a restart after a crash will render it anew): ${String(e)}`);
        lastTrouble = String(e);
      })
      .finally(() => {
        saving = undefined;
      });
  }, everyMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await saving;
    },
  };
}

/**
 * The cache once the store's directory is this master's: the bytes of `read`
 * (by default read now), parsed. Undefined when there is none, or it is not
 * one this vxnet wrote whole (then it is removed: it can never be used).
 */
export async function loadStateCache(
  file: string,
  read: Promise<Buffer | undefined> = readStateCache(file),
): Promise<StateCache | undefined> {
  // A save a crash cut short leaves its temporary file: never used, so not kept.
  await rm(`${file}.tmp`, { force: true }).catch(() => undefined);
  const bytes = await read;
  if (bytes === undefined) return undefined;
  const cache = parseStateCache(bytes);
  if (cache === undefined) await rm(file, { force: true }).catch(() => undefined);
  return cache;
}

/**
 * A saved answer's bytes, read by one read(2) on the thread pool that is
 * under way when this returns, so it goes on while the store is opened and
 * its rows parsed (readFile reads in chunks, each waiting for the busy main
 * thread). It removes nothing: it may begin before the store's directory is
 * locked.
 */
export function readStateCache(file: string): Promise<Buffer | undefined> {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return Promise.resolve(undefined);
  }
  return new Promise((resolve) => {
    let bytes: Buffer;
    try {
      bytes = Buffer.allocUnsafe(fstatSync(fd).size);
    } catch {
      // Not a file this master could ever use (or too large to hold): as if there were none.
      closeSync(fd);
      return resolve(undefined);
    }
    const readFrom = (at: number): void =>
      read(fd, bytes, at, bytes.length - at, at, (err, n) => {
        if (!err && n > 0 && at + n < bytes.length) return readFrom(at + n);
        closeSync(fd);
        resolve(err ? undefined : bytes.subarray(0, at + n));
      });
    readFrom(0);
  });
}

/** The cache in `bytes`, or undefined when they are not a whole one. */
export function parseStateCache(bytes: Buffer): StateCache | undefined {
  if (bytes.length < MAGIC.length + 16 || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  let at = MAGIC.length;
  const revision = bytes.readDoubleLE(at);
  const count = bytes.readUInt32LE(at + 8);
  const head = bytes.readUInt32LE(at + 12);
  at += 16;
  if (!Number.isSafeInteger(revision) || revision < 0 || bytes.length < at + 4 * count) return undefined;
  const lengths: number[] = new Array(count);
  // The answer: head, agents joined by commas, then "]}".
  let size = head + 2 + Math.max(0, count - 1);
  for (let i = 0; i < count; i++) {
    lengths[i] = bytes.readUInt32LE(at);
    size += lengths[i]!;
    at += 4;
  }
  if (bytes.length - at !== size) return undefined;
  return { revision, head, lengths, body: bytes.subarray(at) };
}

/** How many agents of a saved answer are rendered again from the store to check it. */
const CACHE_SAMPLE = 64;

/** The indices of the agents checked by rendering them again: about CACHE_SAMPLE, spread evenly, the first included. */
export function sampledAgents(count: number): number[] {
  const step = Math.max(1, Math.floor(count / CACHE_SAMPLE));
  const picked: number[] = [];
  for (let k = 0; k < count; k += step) picked.push(k);
  return picked;
}

/** Where each agent's bytes begin in the answer. */
export function agentStarts(cache: StateCache): number[] {
  const starts = new Array<number>(cache.lengths.length);
  let at = cache.head;
  for (let k = 0; k < starts.length; k++) {
    starts[k] = at;
    at += cache.lengths[k]! + 1; // and the comma
  }
  return starts;
}

/** Every agent's JSON begins `{"ip":"<ip>",` (an address needs no escaping). */
const IP_OPEN = Buffer.from('{"ip":"');

/** Whether the agent's bytes at `start` begin with its address. No string is made: adoptStateCache checks every agent. */
export function startsWithIp(bytes: Buffer, start: number, length: number, ip: string): boolean {
  const at = start + IP_OPEN.length;
  if (length < IP_OPEN.length + ip.length + 2) return false;
  // Byte by byte: Buffer#compare's argument checks cost more than these 7 bytes (0.3 s at 100,000 agents).
  for (let i = 0; i < IP_OPEN.length; i++) if (bytes[start + i] !== IP_OPEN[i]) return false;
  for (let i = 0; i < ip.length; i++) if (bytes[at + i] !== ip.charCodeAt(i)) return false;
  return bytes[at + ip.length] === 0x22 && bytes[at + ip.length + 1] === 0x2c; // ",
}

/** The address an agent's bytes begin with, or undefined. */
function leadingIp(body: Buffer, start: number, length: number): string | undefined {
  if (length < IP_OPEN.length || IP_OPEN.compare(body, start, start + IP_OPEN.length) !== 0) return undefined;
  const close = body.indexOf(0x22, start + IP_OPEN.length);
  return close < 0 || close >= start + length ? undefined : body.toString('latin1', start + IP_OPEN.length, close);
}

/**
 * Where each of `ips` is among the cached agents (-1: not there). Walks both
 * in step, since an earlier answer of the same store mostly lists them in the
 * same order; only an agent out of step looks the rest up by address.
 */
export function placesInCache(cache: StateCache, starts: readonly number[], ips: readonly string[]): Int32Array {
  const places = new Int32Array(ips.length);
  let byIp: Map<string, number> | undefined;
  let next = 0;
  for (let k = 0; k < ips.length; k++) {
    const ip = ips[k]!;
    if (next < starts.length && startsWithIp(cache.body, starts[next]!, cache.lengths[next]!, ip)) {
      places[k] = next++;
      continue;
    }
    byIp ??= cachedIps(cache, starts);
    const at = byIp.get(ip);
    places[k] = at ?? -1;
    if (at !== undefined) next = at + 1;
  }
  return places;
}

function cachedIps(cache: StateCache, starts: readonly number[]): Map<string, number> {
  const byIp = new Map<string, number>();
  for (let i = 0; i < starts.length; i++) {
    const ip = leadingIp(cache.body, starts[i]!, cache.lengths[i]!);
    if (ip !== undefined) byIp.set(ip, i);
  }
  return byIp;
}

/** Whether the answer's bytes before its first agent are `head`. */
export function headMatches(cache: StateCache, head: string): boolean {
  const bytes = Buffer.from(head);
  return cache.head === bytes.length && cache.body.subarray(0, bytes.length).equals(bytes);
}

/** Whether agent `k`'s bytes (it begins at `starts[k]`) are exactly `json`: a sample rendered again. */
export function agentMatches(cache: StateCache, starts: readonly number[], k: number, json: string): boolean {
  const expected = Buffer.from(json);
  return cache.lengths[k] === expected.length && expected.compare(cache.body, starts[k]!, starts[k]! + expected.length) === 0;
}

/**
 * Whether a saved answer is the state the store holds, checked before its
 * rows are read: the same revision, the head this vxnet renders from the
 * stored config (`standIn` until one is stored), and a sample of agents
 * rendered again from their stored records, byte for byte (an answer another
 * vxnet version wrote is not this one's).
 */
export function savedStateFits(cache: StateCache, store: StorePeek, standIn: NetworkConfig): boolean {
  if (cache.revision !== store.revision) return false;
  const config = canonicalize(store.config ?? standIn);
  if (!headMatches(cache, stateHeadJson(config))) return false;
  const starts = agentStarts(cache);
  for (const k of sampledAgents(cache.lengths.length)) {
    const ip = leadingIp(cache.body, starts[k]!, cache.lengths[k]!);
    const record = ip === undefined ? undefined : store.record(ip);
    if (record === undefined || record.expired || !agentMatches(cache, starts, k, agentInfoJson(record, config))) return false;
  }
  return true;
}
