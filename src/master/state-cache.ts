// The /state answer a sole master leaves beside its store when it stops
// cleanly, so its next start answers the first GET /state without rendering
// every agent again (100,000 agents: about a second). It is taken (read and
// removed) at the start and used only when it describes exactly the state
// the store holds (replica.ts adoptStateCache checks): a store that moved on,
// a crash, or another vxnet's format leaves it unused. File format:
//   "vxnet-state-cache/1\n" | revision f64 | agents u32 | head bytes u32 |
//   each agent's byte length u32 | the answer's bytes.

import { closeSync, fstatSync, openSync, read } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';

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

/** Writes the cache (to a temporary file, flushed, then renamed over, so a reader never sees half of one). */
export async function saveStateCache(file: string, cache: StateCache): Promise<void> {
  const header = Buffer.alloc(MAGIC.length + 16 + 4 * cache.lengths.length);
  MAGIC.copy(header, 0);
  let at = header.writeDoubleLE(cache.revision, MAGIC.length);
  at = header.writeUInt32LE(cache.lengths.length, at);
  at = header.writeUInt32LE(cache.head, at);
  for (const length of cache.lengths) at = header.writeUInt32LE(length, at);
  const temporary = `${file}.tmp`;
  const handle = await open(temporary, 'w', 0o600);
  try {
    await handle.writev([header, cache.body]);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, file);
}

/**
 * Reads and removes the cache; undefined when there is none, or it is not
 * one this vxnet wrote whole (then it is removed too: it can never be used).
 */
export async function takeStateCache(file: string): Promise<StateCache | undefined> {
  const bytes = await readWhole(file);
  if (bytes === undefined) return undefined;
  // Taken means removed: one that cannot be removed could outlive a crash, so it is not used.
  const removed = await rm(file, { force: true }).then(
    () => true,
    () => false,
  );
  return removed ? parseStateCache(bytes) : undefined;
}

/**
 * The file's bytes, read by one read(2) on the thread pool that is under way
 * when this returns, so it goes on while the caller parses the store's rows
 * (readFile reads in chunks, each waiting for the busy main thread).
 */
function readWhole(file: string): Promise<Buffer | undefined> {
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
