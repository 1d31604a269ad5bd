// Pure: per-overlay configuration status with bounded attempts. An overlay
// that keeps failing is given up after `maxAttempts` passes (its ops are no
// longer planned) until the master's view of this host changes.

import type { OverlayStatus, StatusReport } from '../api/types.js';

/** Scope of failures that hit every overlay (the VTEP, peers' entries). */
export const SHARED = '*';

interface Entry {
  status: OverlayStatus;
  error?: string;
  failedPasses: number;
}

export class StatusTracker {
  private entries = new Map<string, Entry>();
  private sharedFailures = 0;

  constructor(private readonly maxAttempts = 4) {}

  /** Starts over for these overlays (new or changed allocation). */
  reset(overlays: string[]): void {
    this.entries = new Map(overlays.map((name) => [name, { status: 'STATUS_CONFIGURING', failedPasses: 0 }]));
    this.sharedFailures = 0;
  }

  /** Records one pass: errors keyed by overlay name or SHARED; no key means it went well. */
  record(errors: Map<string, string[]>): void {
    const shared = errors.get(SHARED) ?? [];
    this.sharedFailures = shared.length > 0 ? this.sharedFailures + 1 : 0;
    for (const [name, entry] of this.entries) {
      if (this.givenUp(name)) continue;
      const own = [...shared, ...(errors.get(name) ?? [])];
      if (own.length === 0) {
        this.entries.set(name, { status: 'STATUS_OK', failedPasses: 0 });
      } else {
        this.entries.set(name, { status: 'STATUS_FAILED', error: own.join('; '), failedPasses: entry.failedPasses + 1 });
      }
    }
  }

  givenUp(name: string): boolean {
    if (name === SHARED) return this.sharedFailures >= this.maxAttempts;
    return (this.entries.get(name)?.failedPasses ?? 0) >= this.maxAttempts;
  }

  /** Overlays (and SHARED) whose attempts are used up. */
  skipped(): Set<string> {
    const names = [...this.entries.keys(), SHARED].filter((n) => this.givenUp(n));
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
