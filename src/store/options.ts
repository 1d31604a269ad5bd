// Construction options every store accepts; none of them changes the port.

import { VxnetError } from '../errors.js';
import type { FlushInfo } from './group-commit.js';

export const DEFAULT_HISTORY_LIMIT = 10_000;

export interface StoreOptions {
  /** How many recent changes watch() can replay (default 10,000). Older starts get CONFLICT. */
  historyLimit?: number;
  /** Called after each batch is written (or fails); for metrics such as commit latency and batch size. */
  onFlush?: (info: FlushInfo) => void;
}

/** The history limit to use, or a clear error for a bad one. */
export function historyLimitOf(options: StoreOptions | undefined): number {
  const limit = options?.historyLimit ?? DEFAULT_HISTORY_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new VxnetError(
      'BAD_REQUEST',
      `historyLimit is ${String(limit)}: must be a positive integer; omit it for ${DEFAULT_HISTORY_LIMIT}`,
    );
  }
  return limit;
}
