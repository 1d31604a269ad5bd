// One master per data directory: a lock file holding the owner's PID and its
// start time, so a second master fails with a message naming the first. A
// lock left by a dead process is taken over, and so is one whose PID was
// reused by another process since (its start time differs). (SQLite's
// exclusive lock backs this up.)

import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { VxnetError } from '../../errors.js';

export const LOCK_FILE = 'vxnet.lock';

/** Lock files this process holds, so a reused PID is never mistaken for a live owner. */
const heldHere = new Set<string>();

/** The fields of /proc/PID/stat after the command name, from field 3 (state) on; undefined if unreadable. */
function procStat(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat
      .slice(stat.lastIndexOf(')') + 2)
      .trim()
      .split(' ');
  } catch {
    return undefined;
  }
}

/** When the process started, in clock ticks since boot (field 22): with the PID, it names one process. */
export function startTimeOf(pid: number): string | undefined {
  return procStat(pid)?.[19];
}

/** A killed owner stays a zombie until its parent reaps it: that holds no lock. */
function isZombie(pid: number): boolean {
  const state = procStat(pid)?.[0];
  return state === 'Z' || state === 'X';
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

/** The process the lock names: PID and, since vxnet wrote it, start time. */
interface Owner {
  pid: number;
  started?: string;
}

function readOwner(path: string): Owner | undefined {
  try {
    const [pidText, started] = readFileSync(path, 'utf8').trim().split(/\s+/);
    const pid = Number.parseInt(pidText ?? '', 10);
    if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
    return started !== undefined && /^\d+$/.test(started) ? { pid, started } : { pid };
  } catch {
    return undefined;
  }
}

/**
 * Whether the lock's owner still runs: the same PID and start time. A lock
 * written without a start time (an older vxnet) counts as held only while
 * its PID runs node or vxnet, not any process that got the number since.
 */
function ownerRuns(owner: Owner): boolean {
  if (!isAlive(owner.pid)) return false;
  const started = startTimeOf(owner.pid);
  if (started === undefined) return true; // no /proc: liveness is all there is
  if (owner.started !== undefined) return owner.started === started;
  try {
    const cmdline = readFileSync(`/proc/${owner.pid}/cmdline`, 'utf8');
    return /node|vxnet/.test(cmdline);
  } catch {
    return true;
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
    writeSync(fd, `${process.pid} ${startTimeOf(process.pid) ?? ''}\n`);
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
    const stale = owner === undefined ? false : owner.pid === process.pid ? !heldHere.has(path) : !ownerRuns(owner);
    if (owner !== undefined && !stale) {
      throw new VxnetError(
        'STORE_UNAVAILABLE',
        `another vxnet master (pid ${owner.pid}) is using ${dir}: stop it first, or pass another --data DIR (if no such master runs, delete ${path})`,
        { dir, pid: owner.pid },
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
  if (readOwner(path)?.pid !== process.pid) return;
  try {
    unlinkSync(path);
  } catch {
    // Already gone: nothing to release.
  }
}
