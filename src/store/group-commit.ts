// Group commit: every commit() of one event-loop turn is written by a single
// transaction (one fsync), so durability does not cap throughput at one disk
// flush per caller. Commits arriving while a batch is written join the next.

import { VxnetError } from '../errors.js';
import type { EncodedEvent } from './allocation-history.js';
import type { EncodedChange } from './change-codec.js';

/** What one written batch looked like; for metrics and tests. */
export interface FlushInfo {
  /** commit() calls served by this one transaction. */
  callers: number;
  changes: number;
  /** Time spent writing the batch, in milliseconds. */
  ms: number;
  ok: boolean;
}

/**
 * Writes a whole batch atomically and returns the revision of its last change
 * (the current revision when the batch is empty). Throws, having written
 * nothing, when the batch cannot be stored.
 */
export type BatchWriter = (changes: EncodedChange[], history: EncodedEvent[]) => number;

interface Pending {
  changes: EncodedChange[];
  history: EncodedEvent[];
  resolve: (revision: number) => void;
  reject: (err: unknown) => void;
}

export class GroupCommit {
  private queue: Pending[] = [];
  private scheduled = false;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly write: BatchWriter,
    private readonly onFlush?: (info: FlushInfo) => void,
  ) {}

  /** Queues changes for the next batch; resolves with the revision of the last of them once durable. */
  submit(changes: EncodedChange[], history: EncodedEvent[] = []): Promise<number> {
    if (this.closed) return Promise.reject(new VxnetError('STORE_UNAVAILABLE', 'the store is closed: open it again before committing'));
    return new Promise<number>((resolve, reject) => {
      this.queue.push({ changes, history, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // setImmediate, not a microtask: it gathers every caller of this loop turn.
        setImmediate(() => this.flush());
      }
    });
  }

  /** Refuses new commits and resolves once everything already queued is written. */
  close(): Promise<void> {
    this.closed = true;
    if (!this.scheduled) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private flush(): void {
    const batch = this.queue;
    this.queue = [];
    this.scheduled = false;
    const all = batch.flatMap((p) => p.changes);
    const started = performance.now();
    let last: number;
    try {
      last = this.write(
        all,
        batch.flatMap((p) => p.history),
      );
    } catch (err) {
      this.report(batch.length, all.length, started, false);
      for (const p of batch) p.reject(err);
      this.settleIdle();
      return;
    }
    this.report(batch.length, all.length, started, true);
    // Revisions were handed out in queue order, one per change.
    let revision = last - all.length;
    for (const p of batch) {
      revision += p.changes.length;
      p.resolve(revision);
    }
    this.settleIdle();
  }

  private report(callers: number, changes: number, started: number, ok: boolean): void {
    if (!this.onFlush) return;
    try {
      this.onFlush({ callers, changes, ms: performance.now() - started, ok });
    } catch {
      // A broken metrics hook must not fail commits that are already durable.
    }
  }

  private settleIdle(): void {
    if (this.scheduled) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
