// Watch semantics shared by every store: replay what is retained after a
// revision, then deliver live changes, in revision order, with a CONFLICT for
// a starting point the store can no longer (or not yet) serve.

import { VxnetError } from '../errors.js';
import { type HistoryBounds, trimCount } from './options.js';
import type { StoredChange } from './store.js';

type Listener = (change: StoredChange) => void;

/**
 * Throws unless `since` can be served: it must be a revision between the one
 * just before the oldest retained change and the current one.
 */
export function checkWatchStart(since: unknown, current: number, oldestRetained: number): number {
  if (typeof since !== 'number' || !Number.isSafeInteger(since) || since < 0) {
    throw new VxnetError('BAD_REQUEST', `watch revision ${String(since)} is invalid: pass a non-negative integer (0 for everything)`);
  }
  if (since > current) {
    throw new VxnetError(
      'CONFLICT',
      `revision ${since} is ahead of this store (current revision ${current}): resynchronise from a snapshot`,
      {
        since,
        current,
      },
    );
  }
  if (since < oldestRetained - 1) {
    throw new VxnetError(
      'CONFLICT',
      `revision ${since} is compacted; oldest retained is ${oldestRetained}: resynchronise from a snapshot`,
      {
        since,
        oldestRetained,
      },
    );
  }
  return since;
}

export class ChangeListeners {
  private readonly listeners = new Set<Listener>();

  /**
   * Replays `backlog` to `listener`, then subscribes it. Call it synchronously
   * after reading the backlog so no commit can slip in between.
   */
  subscribe(backlog: Iterable<StoredChange>, listener: Listener): () => void {
    const stop = (): void => {
      this.listeners.delete(listener);
    };
    for (const change of backlog) {
      if (!this.deliver(listener, change)) return stop;
    }
    this.listeners.add(listener);
    return stop;
  }

  /** Delivers committed changes (in revision order) to every live watcher. */
  publish(changes: readonly StoredChange[]): void {
    if (this.listeners.size === 0) return;
    for (const listener of [...this.listeners]) {
      for (const change of changes) {
        if (!this.listeners.has(listener) || !this.deliver(listener, change)) break;
      }
    }
  }

  get size(): number {
    return this.listeners.size;
  }

  clear(): void {
    this.listeners.clear();
  }

  // A throwing watcher is stopped so it cannot block commits or other
  // watchers; the error is raised as a process warning, not swallowed.
  private deliver(listener: Listener, change: StoredChange): boolean {
    try {
      listener(change);
      return true;
    } catch (err) {
      this.listeners.delete(listener);
      const reason = err instanceof Error ? err.message : String(err);
      process.emitWarning(`vxnet store: a watch callback threw at revision ${change.revision} and was stopped: ${reason}`);
      return false;
    }
  }
}

/**
 * The last committed changes within `bounds` (count and bytes), kept in
 * memory for stores whose backend keeps no replayable history of its own
 * (memory, etcd's mirror).
 */
export class RetainedHistory {
  /** Retained changes and their sizes, oldest first, from index `start`. */
  private items: StoredChange[] = [];
  private sizes: number[] = [];
  private start = 0;
  private bytes = 0;

  constructor(private readonly bounds: HistoryBounds) {}

  /** Adds committed changes; `sizes[i]` is the bytes of `changes[i]` as stored (its JSON). */
  add(changes: readonly StoredChange[], sizes: readonly number[]): void {
    this.items.push(...changes);
    this.sizes.push(...sizes);
    for (const n of sizes) this.bytes += n;
    const drop = trimCount(this.sizes, this.start, this.bytes, this.bounds);
    for (let i = this.start; i < this.start + drop; i++) this.bytes -= this.sizes[i]!;
    this.start += drop;
    // Drop the compacted prefix now and then, not on every commit.
    if (this.start > 1024 && this.start * 2 > this.items.length) {
      this.items = this.items.slice(this.start);
      this.sizes = this.sizes.slice(this.start);
      this.start = 0;
    }
  }

  /** Forgets everything (a gap: only replays from here on are exact). */
  clear(): void {
    this.items = [];
    this.sizes = [];
    this.start = 0;
    this.bytes = 0;
  }

  /** Bytes of the retained changes. */
  get retainedBytes(): number {
    return this.bytes;
  }

  /** Revision of the oldest retained change, or `current + 1` when none is retained. */
  oldest(current: number): number {
    return this.items[this.start]?.revision ?? current + 1;
  }

  /**
   * Replays what is retained after `since`, then follows `hub`, as
   * `Store.watch` promises; throws CONFLICT for a start it cannot serve.
   */
  watch(hub: ChangeListeners, since: number, current: number, listener: Listener): () => void {
    const from = checkWatchStart(since, current, this.oldest(current));
    return hub.subscribe(
      this.items.slice(this.start).filter((c) => c.revision > from),
      listener,
    );
  }
}
