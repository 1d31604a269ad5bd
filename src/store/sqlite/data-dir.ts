// Creates the store directory one level at a time. Node's recursive mkdir
// loops forever where mkdir answers ENOENT under an existing parent (e.g.
// /proc/x), and calls a plain file "EEXIST"; this names both plainly.

import { mkdirSync, type Stats, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { VxnetError } from '../../errors.js';

/** The store's file in its --data directory. */
export const DB_FILE = 'vxnet.db';

const unusable = (dir: string, reason: string, cause?: unknown): VxnetError =>
  new VxnetError(
    'STORE_UNAVAILABLE',
    `cannot use ${dir} as the store directory (${reason}): pass --data a writable directory`,
    { dir },
    cause === undefined ? undefined : { cause },
  );

/** The entry at `path`, or undefined when there is none (ENOTDIR: a parent is a file, found further up). */
function entryAt(dir: string, path: string): Stats | undefined {
  try {
    return statSync(path, { throwIfNoEntry: false });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOTDIR') return undefined;
    throw unusable(dir, `stat ${path}: ${e.code ?? e.message}`, err);
  }
}

/** Makes absolute `dir` and any missing parents; throws STORE_UNAVAILABLE naming the path and the fix. */
export function makeDataDirectory(dir: string): void {
  const missing: string[] = [];
  let at = dir;
  // Bounded by the path's depth: dirname of the root is the root.
  for (;;) {
    const stat = entryAt(dir, at);
    if (stat) {
      if (!stat.isDirectory()) throw unusable(dir, at === dir ? 'it is a file, not a directory' : `${at} is a file, not a directory`);
      break;
    }
    missing.push(at);
    const parent = dirname(at);
    if (parent === at) break;
    at = parent;
  }
  for (const path of missing.reverse()) {
    try {
      mkdirSync(path);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'EEXIST' && entryAt(dir, path)?.isDirectory()) continue;
      throw unusable(dir, `mkdir ${path}: ${e.code ?? e.message}`, err);
    }
  }
}
