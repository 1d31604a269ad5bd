// The master's limit flags and their defaults, apart from the server that
// enforces them, so the CLI can show defaults without loading the HTTP stack.

import type { WatchStreamsOptions } from './watch-streams.js';

/** What clients may hold of the server; the CLI's flags (src/cli/master.ts). */
export interface HttpLimits {
  /**
   * Time for a whole request, headers and body, to arrive; after it the
   * client gets a 408 and the connection is closed (a slow body). Watch
   * streams are unaffected: their request is complete once its headers are in.
   */
  requestTimeoutMs: number;
  /** Open connections of every kind, watch streams included; more are closed as they arrive. */
  maxConnections: number;
}

/** Everything the CLI's limit flags set: the HTTP server's and the watch streams'. */
export interface MasterLimits {
  http: HttpLimits;
  watch: WatchStreamsOptions;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = { requestTimeoutMs: 30_000, maxConnections: 50_000 };
