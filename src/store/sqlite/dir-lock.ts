// One master per data directory: a lock file holding the owner's PID, so a
// second master fails with a message naming the first. A lock left by a dead
// process is taken over. (SQLite's exclusive lock backs this up.)

import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { VxnetError } from '../../errors.js';

export const LOCK_FILE = 'vxnet.lock';

/** Lock files this process holds, so a reused PID is never mistaken for a live owner. */
const heldHere = new Set<string>();

/** A killed owner stays a zombie until its parent reaps it: that holds no lock. */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state === 'Z' || state === 'X';
  } catch {
    return false;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

function readOwner(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function unavailable(dir: string, path: string, err: unknown): VxnetError {
  const e = err as NodeJS.ErrnoException;
  return new VxnetError(
    'STORE_UNAVAILABLE',
    `cannot create the lock file ${path} (${e.code ?? ''} ${e.message}): make ${dir} a writable directory or pass another --data DIR`,
    { dir },
    { cause: err },
  );
}

function tryCreate(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, `${process.pid}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** Takes the directory's lock or throws STORE_UNAVAILABLE naming the owner. Returns the release function. */
export function lockDirectory(dir: string): () => void {
  const path = join(dir, LOCK_FILE);
  // Two tries: the second after removing a stale lock.
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      if (tryCreate(path)) {
        heldHere.add(path);
        return () => releaseLock(path);
      }
    } catch (err) {
      throw unavailable(dir, path, err);
    }
    let owner = readOwner(path);
    if (owner === undefined) {
      // Another opener may have created the file and not yet written its PID.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
      owner = readOwner(path);
    }
    const stale = owner === undefined ? false : owner === process.pid ? !heldHere.has(path) : !isAlive(owner);
    if (owner !== undefined && !stale) {
      throw new VxnetError(
        'STORE_UNAVAILABLE',
        `another vxnet master (pid ${owner}) is using ${dir}: stop it first, or pass another --data DIR (if no such master runs, delete ${path})`,
        { dir, pid: owner },
      );
    }
    if (owner === undefined) {
      throw new VxnetError(
        'STORE_UNAVAILABLE',
        `the lock file ${path} holds no PID: if no vxnet master uses ${dir}, delete it and start again`,
        { dir },
      );
    }
    try {
      unlinkSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw unavailable(dir, path, err);
    }
  }
  throw new VxnetError('STORE_UNAVAILABLE', `another process keeps taking the lock ${path}: make sure only one vxnet master uses ${dir}`, {
    dir,
  });
}

function releaseLock(path: string): void {
  if (!heldHere.delete(path)) return;
  // Remove only our own lock: never one a later owner wrote.
  if (readOwner(path) !== process.pid) return;
  try {
    unlinkSync(path);
  } catch {
    // Already gone: nothing to release.
  }
}
