// Pure: per-overlay configuration status with bounded attempts. A failed
// pass makes an overlay STATUS_FAILED with its error. After `maxAttempts`
// failed passes in a row (DC/OS's --max-attempts) its ops are no longer
// planned on every pass: it rests, and is tried again after a capped
// exponential back-off (2, 4, 8 … ticks, at most RETRY_CAP_MS), so that
// it heals by itself once the cause is gone. A new allocation starts over.
// Time is passed in, so the back-off is tested without waiting.

import type { OverlayStatus, StatusReport } from '../api/types.js';

/** Scope of failures that hit every overlay (the VTEP, peers' entries). */
export const SHARED = '*';

/** The longest rest between two attempts at an overlay that keeps failing. */
export const RETRY_CAP_MS = 60_000;

interface Entry {
  status: OverlayStatus;
  error?: string;
  failedPasses: number;
  /** Set while resting: no attempt before this time. */
  retryAt?: number;
}

interface Attempts {
  failedPasses: number;
  retryAt?: number;
}

export interface StatusOptions {
  maxAttempts: number;
  /** The first rest is twice this (the agent passes its tick). */
  baseMs: number;
  capMs?: number;
}

/** A scope that has just started a rest, for the log. */
export interface Rest {
  scope: string;
  failedPasses: number;
  retryInMs: number;
}

export class StatusTracker {
  private entries = new Map<string, Entry>();
  private shared: Attempts = { failedPasses: 0 };
  private readonly maxAttempts: number;
  private readonly baseMs: number;
  private readonly capMs: number;

  constructor(options: StatusOptions) {
    this.maxAttempts = options.maxAttempts;
    this.baseMs = options.baseMs;
    this.capMs = options.capMs ?? RETRY_CAP_MS;
  }

  /** Starts over for these overlays (new or changed allocation). */
  reset(overlays: string[]): void {
    this.entries = new Map(overlays.map((name) => [name, { status: 'STATUS_CONFIGURING', failedPasses: 0 }]));
    this.shared = { failedPasses: 0 };
  }

  /** The rest after `failedPasses` failures in a row, or undefined while attempts remain. */
  private restAfter(failedPasses: number): number | undefined {
    const beyond = failedPasses - this.maxAttempts;
    if (beyond < 0) return undefined;
    return Math.min(this.capMs, this.baseMs * 2 ** Math.min(beyond + 1, 30));
  }

  /**
   * Records one pass made at `now` that left out the scopes in `skipped`
   * (as `skipped(now)` answered before it): errors keyed by overlay name or
   * SHARED; no key means it went well. Returns the scopes that start a rest.
   */
  record(errors: Map<string, string[]>, skipped: ReadonlySet<string>, now: number): Rest[] {
    // Nothing was tried while the shared part rests.
    if (skipped.has(SHARED)) return [];
    const rests: Rest[] = [];
    const next = (scope: string, before: Attempts, failed: boolean): Attempts => {
      if (!failed) return { failedPasses: 0 };
      const failedPasses = before.failedPasses + 1;
      const rest = this.restAfter(failedPasses);
      if (rest === undefined) return { failedPasses };
      rests.push({ scope, failedPasses, retryInMs: rest });
      return { failedPasses, retryAt: now + rest };
    };
    const shared = errors.get(SHARED) ?? [];
    this.shared = next(SHARED, this.shared, shared.length > 0);
    for (const [name, entry] of this.entries) {
      if (skipped.has(name)) continue;
      const own = [...shared, ...(errors.get(name) ?? [])];
      const attempts = next(name, entry, own.length > 0);
      const status: Entry =
        own.length === 0 ? { status: 'STATUS_OK', ...attempts } : { status: 'STATUS_FAILED', error: own.join('; '), ...attempts };
      this.entries.set(name, status);
    }
    return rests;
  }

  private resting(attempts: Attempts | undefined, now: number): boolean {
    return attempts?.retryAt !== undefined && now < attempts.retryAt;
  }

  /** Overlays (and SHARED) that rest at `now`: a pass leaves them as they are. */
  skipped(now: number): Set<string> {
    const names = [...this.entries].filter(([, e]) => this.resting(e, now)).map(([name]) => name);
    if (this.resting(this.shared, now)) names.push(SHARED);
    return new Set(names);
  }

  report(): StatusReport {
    return {
      overlays: [...this.entries].map(([name, e]) => ({ name, status: e.status, ...(e.error ? { error: e.error } : {}) })),
    };
  }

  statusOf(name: string): { status: OverlayStatus; error?: string } | undefined {
    const e = this.entries.get(name);
    return e && { status: e.status, ...(e.error ? { error: e.error } : {}) };
  }
}
