// Construction options every store accepts; none of them changes the port.

import { VxnetError } from '../errors.js';
import type { AllocationHistoryOptions } from './allocation-history.js';
import type { FlushInfo } from './group-commit.js';

export const DEFAULT_HISTORY_LIMIT = 10_000;
/**
 * 16 MiB of retained changes (their JSON). Twice the whole state of 20,000
 * agents (about 7.8 MB): a watcher that fell further behind resynchronises
 * from a snapshot, which then costs less than the replay would. Without a
 * byte bound, 10,000 changes of an agent with 440 containers were 250 MB.
 */
export const DEFAULT_HISTORY_BYTES = 16 * 1024 * 1024;

/** The allocation history's retention (AllocationHistoryOptions) is its own, apart from the change log's. */
export interface StoreOptions extends AllocationHistoryOptions {
  /** How many recent changes watch() can replay (default 10,000). Older starts get CONFLICT. */
  historyLimit?: number;
  /** How many bytes of recent changes (their JSON) watch() can replay (default 16 MiB); whichever bound is hit first trims. */
  historyBytes?: number;
  /** Called after each batch is written (or fails); for metrics such as commit latency and batch size. */
  onFlush?: (info: FlushInfo) => void;
}

export interface HistoryBounds {
  changes: number;
  bytes: number;
}

function positive(name: string, value: number, fallback: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new VxnetError('BAD_REQUEST', `${name} is ${String(value)}: must be a positive integer; omit it for ${fallback}`);
  }
  return value;
}

/** The history limit to use, or a clear error for a bad one. */
export function historyLimitOf(options: StoreOptions | undefined): number {
  return positive('historyLimit', options?.historyLimit ?? DEFAULT_HISTORY_LIMIT, DEFAULT_HISTORY_LIMIT);
}

/** Both history bounds, or a clear error for a bad one. */
export function historyBoundsOf(options: StoreOptions | undefined): HistoryBounds {
  return {
    changes: historyLimitOf(options),
    bytes: positive('historyBytes', options?.historyBytes ?? DEFAULT_HISTORY_BYTES, DEFAULT_HISTORY_BYTES),
  };
}

/**
 * How many of the oldest retained changes to drop so that at most `bounds`
 * remain; `sizes` are the retained changes' bytes, oldest first, `total` their sum.
 * The newest change is always kept, however large, so a watcher can still
 * follow from the current revision.
 */
export function trimCount(sizes: ArrayLike<number>, from: number, total: number, bounds: HistoryBounds): number {
  let drop = Math.max(0, sizes.length - from - bounds.changes);
  let bytes = total;
  for (let i = from; i < from + drop; i++) bytes -= sizes[i]!;
  while (bytes > bounds.bytes && from + drop < sizes.length - 1) {
    bytes -= sizes[from + drop]!;
    drop += 1;
  }
  return drop;
}
