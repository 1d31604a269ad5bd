// The store of several masters, on an etcd cluster. Layout in layout.ts.
//
// Revisions: the store numbers changes itself (one revision per change, as
// the port says) in the key `rev`, and every batch is also written as one log
// entry keyed by its first revision. A commit is one etcd transaction that
// compares `rev` with the revision this store last saw (so no batch is
// numbered twice) and, when fenced, the leader's election key (so a deposed
// master's write is refused). Watchers are fed from a local mirror of the log:
// own batches when their transaction succeeds, others' from an etcd watch.
// Replays are exact and do not depend on etcd's compaction.

import { type Etcd3, type IKeyValue, type ITxnResponse, Range, type Watcher } from 'etcd3';
import type { NetworkConfig } from '../../config/types.js';
import { VxnetError } from '../../errors.js';
import {
  type AllocationEvent,
  type AllocationRetention,
  compileQuery,
  type EncodedEvent,
  encodeHistory,
  HistoryCollector,
  type HistoryPage,
  type HistoryQuery,
  historyTrimCount,
  retentionOf,
} from '../allocation-history.js';
import { encodeChanges, type EncodedChange } from '../change-codec.js';
import type { FlushInfo } from '../group-commit.js';
import { historyBoundsOf, type HistoryBounds, type StoreOptions } from '../options.js';
import type { AgentRecord, Change, Snapshot, Store, StoredChange } from '../store.js';
import { RetainedHistory, ChangeListeners } from '../watch-hub.js';
import { connectEtcd, DEFAULT_TIMEOUT_MS, type EtcdTls, reasonOf } from './connect.js';
import {
  chunkCallers,
  decodeLogEntry,
  encodeLogEntry,
  type HistoryUnit,
  historyEntry,
  historyUnitOf,
  type Layout,
  layoutOf,
} from './layout.js';

export interface EtcdStoreOptions extends StoreOptions {
  /** Key prefix (default /vxnet): several clusters can share one etcd. */
  prefix?: string;
  /** Deadline of each etcd call (default 2 s). */
  timeoutMs?: number;
  /** etcd's --max-txn-ops (default 128): larger group commits are split between callers. */
  maxTxnOps?: number;
  /** CA (and client certificate) for https:// endpoints. */
  tls?: EtcdTls;
  /**
   * Called once when this store stops accepting writes because it may be out
   * of step: fenced out (NOT_LEADER), another writer, or a write of unknown outcome.
   */
  onLost?: (reason: VxnetError) => void;
}

/** The leader's election key and its create revision: writes succeed only while it exists unchanged. */
export interface Fence {
  key: string;
  createRevision: string;
}

interface Pending {
  changes: EncodedChange[];
  history: EncodedEvent[];
  resolve: (revision: number) => void;
  reject: (err: unknown) => void;
}

const MAX_TXN_BYTES = 1024 * 1024; // under etcd's default 1.5 MiB request limit

export class EtcdStore implements Store {
  private readonly hub = new ChangeListeners();
  private readonly history: RetainedHistory;
  /** Log entries we know of, oldest first: which keys pruning may delete. */
  private batches: { first: number; last: number }[] = [];
  private queue: Pending[] = [];
  private scheduled = false;
  private writing = false;
  private idleWaiters: (() => void)[] = [];
  private revisionWaiters: { revision: number; resolve: () => void }[] = [];
  private fence: Fence | undefined;
  private lost: VxnetError | undefined;
  private closed = false;
  private watcher: Watcher | undefined;
  private historyWatcher: Watcher | undefined;
  /** The allocation history's entries, oldest first, known from their keys (any master's, through a watch). */
  private historyUnits: HistoryUnit[] = [];
  /** The etcd revision `historyUnits` reflects: older watch events (our own writes among them) are skipped. */
  private historyRev = 0;
  private readonly retention: AllocationRetention;

  private constructor(
    readonly client: Etcd3,
    readonly layout: Layout,
    readonly endpoints: string[],
    private revision: number,
    private readonly bounds: HistoryBounds,
    private readonly options: EtcdStoreOptions,
  ) {
    this.history = new RetainedHistory(bounds);
    this.retention = retentionOf(options);
  }

  /** Connects, loads the log for replays and follows it; STORE_UNAVAILABLE (endpoints and fix) if etcd cannot be reached. */
  static async open(endpoints: string[], options: EtcdStoreOptions = {}): Promise<EtcdStore> {
    const bounds = historyBoundsOf(options);
    retentionOf(options); // a bad retention is refused before connecting
    const layout = layoutOf(options.prefix);
    const client = connectEtcd(endpoints, options.timeoutMs ?? DEFAULT_TIMEOUT_MS, options.tls);
    try {
      const res = await client.if(layout.rev, 'Version', '>', -1).then(client.get(layout.rev), client.getAll().prefix(layout.log)).commit();
      const revText = res.responses[0]?.response_range?.kvs[0]?.value.toString();
      const entries = (res.responses[1]?.response_range?.kvs ?? []).map((kv) => decodeLogEntry(kv.value.toString()));
      const entryBytes = (res.responses[1]?.response_range?.kvs ?? []).map((kv) => kv.value.length);
      const stored = revText ? Number(revText) : 0;
      // Learn the log from its oldest entry on, then trust `rev`.
      const store = new EtcdStore(client, layout, endpoints, (entries[0]?.[0]?.revision ?? stored + 1) - 1, bounds, options);
      entries.forEach((changes, i) => store.learn(changes, spread(entryBytes[i]!, changes.length)));
      store.revision = Math.max(store.revision, stored);
      store.forgetCompactedBatches();
      store.historyUnits = await readHistoryUnits(client, layout, res.header.revision);
      store.historyRev = Number(res.header.revision);
      store.follow(String(Number(res.header.revision) + 1));
      return store;
    } catch (err) {
      client.close();
      throw unreachable(endpoints, 'open the store', err);
    }
  }

  /** Fences every later write to this leader key; undefined removes the fence. */
  setFence(fence: Fence | undefined): void {
    this.fence = fence;
  }

  /**
   * Everything stored, read at one etcd revision. Resolves only once this
   * store's log mirror has caught up with it, so a commit that follows builds
   * on at least this state.
   */
  async snapshot(): Promise<Snapshot> {
    this.ensureOpen();
    const { client, layout } = this;
    let res: ITxnResponse;
    try {
      res = await client
        .if(layout.rev, 'Version', '>', -1)
        .then(client.get(layout.rev), client.getAll().prefix(layout.agents), client.get(layout.config))
        .commit();
    } catch (err) {
      throw unreachable(this.endpoints, 'read a snapshot', err);
    }
    const [revRes, agentsRes, configRes] = res.responses.map((r) => r.response_range?.kvs ?? []);
    const revision = Number(revRes?.[0]?.value.toString() ?? 0);
    const agents = (agentsRes ?? []).map((kv: IKeyValue) => JSON.parse(kv.value.toString()) as AgentRecord);
    agents.sort((a, b) => a.seq - b.seq || (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0));
    const config = configRes?.[0]?.value.toString();
    await this.caughtUp(revision);
    return { revision, ...(config !== undefined && { config: JSON.parse(config) as NetworkConfig }), agents };
  }

  async commit(changes: Change[], history?: AllocationEvent[]): Promise<number> {
    const encoded = encodeChanges(changes);
    const events = encodeHistory(history);
    if (this.closed) throw new VxnetError('STORE_UNAVAILABLE', 'the etcd store is closed: open it again before committing');
    return new Promise<number>((resolve, reject) => {
      this.queue.push({ changes: encoded, history: events, resolve, reject });
      this.schedule();
    });
  }

  watch(sinceRevision: number, onChange: (change: StoredChange) => void): () => void {
    this.ensureOpen();
    return this.history.watch(this.hub, sinceRevision, this.revision, onChange);
  }

  /** Scans the history newest first, a page of entries at a time, until the answer is full. */
  async allocationHistory(query: HistoryQuery): Promise<HistoryPage> {
    const q = compileQuery(query);
    this.ensureOpen();
    const collector = new HistoryCollector(q);
    let end = `${this.layout.history.slice(0, -1)}0`; // just past every history key ('0' follows '/')
    for (;;) {
      let kvs: IKeyValue[];
      try {
        kvs = (await this.client.getAll().inRange(new Range(this.layout.history, end)).sort('Key', 'Descend').limit(100).exec()).kvs;
      } catch (err) {
        throw unreachable(this.endpoints, 'read the allocation history', err);
      }
      for (const kv of kvs) {
        const key = kv.key.toString();
        const unit = historyUnitOf(this.layout, key);
        // Entries are in time order (one leader at a time): one all before `since` ends the scan.
        if (unit && q.sinceMs !== undefined && unit.atMs < q.sinceMs) return collector.page();
        const events = JSON.parse(kv.value.toString()) as AllocationEvent[];
        for (let i = events.length - 1; i >= 0; i--) if (!collector.offer(events[i]!)) return collector.page();
        end = key;
      }
      if (kvs.length < 100) return collector.page();
    }
  }

  writeTrouble(): string | undefined {
    return this.lost?.message;
  }

  /** Writes what is queued, then stops following etcd and disconnects. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.scheduled || this.writing) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    this.hub.clear();
    await this.watcher?.cancel().catch(() => undefined);
    await this.historyWatcher?.cancel().catch(() => undefined);
    this.client.close();
  }

  private ensureOpen(): void {
    if (this.closed) throw new VxnetError('STORE_UNAVAILABLE', 'the etcd store is closed: open it again');
  }

  private schedule(): void {
    if (this.scheduled || this.writing) return;
    this.scheduled = true;
    // setImmediate, not a microtask: it gathers every caller of this loop turn.
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    this.writing = true;
    const queue = this.queue;
    this.queue = [];
    for (const chunk of chunkCallers(queue, this.options.maxTxnOps ?? 128, MAX_TXN_BYTES)) await this.writeChunk(chunk);
    this.writing = false;
    if (this.queue.length > 0) this.schedule();
    else for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private async writeChunk(chunk: Pending[]): Promise<void> {
    const all = chunk.flatMap((p) => p.changes);
    const events = chunk.flatMap((p) => p.history);
    const started = performance.now();
    const failAll = (err: VxnetError): void => {
      this.report(chunk.length, all.length, started, false);
      for (const p of chunk) p.reject(err);
    };
    if (this.lost) return failAll(this.lost);
    if (all.length === 0 && events.length === 0) {
      for (const p of chunk) p.resolve(this.revision);
      return;
    }
    const first = this.revision + 1;
    const last = this.revision + all.length;
    const { client, layout } = this;
    const ops = all.map((c) =>
      c.type === 'put'
        ? client.put(layout.agent(c.ip)).value(c.payload)
        : c.type === 'delete'
          ? client.delete().key(layout.agent(c.ip))
          : client.put(layout.config).value(c.payload),
    );
    if (all.length > 0)
      ops.push(client.put(layout.logEntry(first)).value(encodeLogEntry(first, all)), client.put(layout.rev).value(String(last)));
    // Prune log entries wholly older than the history we keep (by count, or already trimmed by bytes).
    const keepFrom = Math.max(last + 1 - this.bounds.changes, this.history.oldest(this.revision));
    const stale = this.batches.filter((b) => b.last < keepFrom).length;
    if (stale > 0) {
      const end = this.batches[stale]?.first ?? first;
      ops.push(client.delete().range(new Range(layout.log, layout.logEntry(end))));
    }
    // The allocation history: its own entry and its own retention, trimmed only as events are added.
    // `keepFrom`: the position the prune deletes below (what stays is known by position, not by count:
    // the watch may have removed some of the pruned units already).
    let written: { unit: HistoryUnit; keepFrom: string | undefined } | undefined;
    if (events.length > 0) {
      const prefix = String(first).padStart(16, '0');
      const next = this.historyUnits.filter((u) => u.pos.startsWith(prefix)).reduce((n, u) => Math.max(n, Number(u.pos.slice(17)) + 1), 0);
      const entry = historyEntry(layout, first, next, events);
      ops.push(client.put(entry.unit.key).value(entry.value));
      const units = [...this.historyUnits, entry.unit];
      const dropped = Math.min(historyTrimCount(units, (this.options.wallClock ?? Date.now)(), this.retention), units.length - 1);
      if (dropped > 0) ops.push(client.delete().range(new Range(layout.history, layout.historyFrom(units[dropped]!.pos))));
      written = { unit: entry.unit, keepFrom: dropped > 0 ? units[dropped]!.pos : undefined };
    }
    let txn = this.revision === 0 ? client.if(layout.rev, 'Version', '==', 0) : client.if(layout.rev, 'Value', '==', String(this.revision));
    if (this.fence) txn = txn.and(this.fence.key, 'Create', '==', this.fence.createRevision);
    let res: ITxnResponse;
    try {
      res = await txn
        .then(...ops)
        .else(client.get(layout.rev), ...(this.fence ? [client.get(this.fence.key)] : []))
        .commit();
    } catch (err) {
      const reason = reasonOf(err);
      if (/too many operations|request is too large/.test(reason)) {
        return failAll(
          new VxnetError(
            'STORE_UNAVAILABLE',
            `etcd refused a batch of ${all.length} change(s) (${reason}); nothing of it was stored: raise etcd's --max-txn-ops / --max-request-bytes, or commit fewer changes at once`,
          ),
        );
      }
      // A timed-out write may still land: stop writing until recovered from a fresh snapshot.
      return failAll(
        this.lose(
          unreachable(
            this.endpoints,
            `write ${all.length} change(s)`,
            err,
            ' It may or may not have been stored; this store accepts no more writes (a master recovers from a new snapshot).',
          ),
        ),
      );
    }
    if (!res.succeeded) {
      const [revRes, fenceRes] = res.responses.map((r) => r.response_range?.kvs ?? []);
      const theirs = Number(revRes?.[0]?.value.toString() ?? 0);
      if (this.fence && fenceRes?.[0]?.create_revision !== this.fence.createRevision) {
        return failAll(
          this.lose(
            new VxnetError(
              'NOT_LEADER',
              `this master is no longer the leader (its election key ${this.fence.key} is gone); nothing of ${all.length} change(s) was stored: retry on the current leader`,
            ),
          ),
        );
      }
      return failAll(
        this.lose(
          new VxnetError(
            'STORE_UNAVAILABLE',
            `the store under ${layout.prefix} was changed by another writer (revision ${theirs} in etcd, ${this.revision} here); nothing of ${all.length} change(s) was stored: retry (a master recovers from a new snapshot)`,
          ),
        ),
      );
    }
    this.report(chunk.length, all.length, started, true);
    if (written) {
      const { unit, keepFrom } = written;
      this.historyRev = Math.max(this.historyRev, Number(res.header.revision));
      if (keepFrom !== undefined) this.historyUnits = this.historyUnits.filter((u) => u.pos >= keepFrom);
      if (!this.historyUnits.some((u) => u.key === unit.key)) this.historyUnits.push(unit);
    }
    // The etcd watch may have brought this batch already.
    if (all.length > 0 && first > this.revision)
      this.apply(
        decodeLogEntry(encodeLogEntry(first, all)),
        all.map((c) => c.payload.length),
      );
    let revision = first - 1;
    for (const p of chunk) {
      revision += p.changes.length;
      p.resolve(revision);
    }
  }

  private lose(err: VxnetError): VxnetError {
    if (!this.lost) {
      this.lost = err;
      try {
        this.options.onLost?.(err);
      } catch {
        // A broken hook must not hide the error from the callers.
      }
    }
    return err;
  }

  /** Follows the log from etcd revision `from`: batches written by other stores. */
  private follow(from: string): void {
    this.followHistory(from);
    void this.client
      .watch()
      .prefix(this.layout.log)
      .startRevision(from)
      .create()
      .then((watcher) => {
        if (this.closed) return void watcher.cancel();
        this.watcher = watcher;
        watcher.on('put', (kv) => {
          const changes = decodeLogEntry(kv.value.toString());
          if (changes.length > 0 && changes[0]!.revision > this.revision) this.apply(changes, spread(kv.value.length, changes.length));
        });
        watcher.on('error', () => undefined); // reconnects by itself
      })
      .catch((err: unknown) => {
        if (!this.closed)
          process.emitWarning(
            `vxnet etcd store: cannot follow ${this.layout.log} (${reasonOf(err)}); watchers see only this master's writes`,
          );
      });
  }

  /** Keeps `historyUnits` current with other masters' history entries and prunings. */
  private followHistory(from: string): void {
    void this.client
      .watch()
      .prefix(this.layout.history)
      .startRevision(from)
      .create()
      .then((watcher) => {
        if (this.closed) return void watcher.cancel();
        this.historyWatcher = watcher;
        const fresh = (kv: IKeyValue): boolean => {
          const rev = Number(kv.mod_revision);
          if (rev < this.historyRev) return false; // same revision: idempotent (a put and a delete of one transaction)
          this.historyRev = rev;
          return true;
        };
        watcher.on('put', (kv) => {
          if (!fresh(kv)) return;
          const unit = historyUnitOf(this.layout, kv.key.toString());
          if (!unit || this.historyUnits.some((u) => u.key === unit.key)) return;
          this.historyUnits.push(unit);
          this.historyUnits.sort((a, b) => (a.pos < b.pos ? -1 : a.pos > b.pos ? 1 : 0));
        });
        watcher.on('delete', (kv) => {
          if (!fresh(kv)) return;
          const key = kv.key.toString();
          this.historyUnits = this.historyUnits.filter((u) => u.key !== key);
        });
        watcher.on('error', () => undefined); // reconnects by itself
      })
      .catch((err: unknown) => {
        if (!this.closed)
          process.emitWarning(
            `vxnet etcd store: cannot follow ${this.layout.history} (${reasonOf(err)}); its retention sees only this master's entries`,
          );
      });
  }

  /** Adds a batch to the mirror and hands it to watchers. */
  private apply(changes: StoredChange[], sizes: number[]): void {
    this.learn(changes, sizes);
    this.forgetCompactedBatches();
    this.hub.publish(changes);
    const ready = this.revisionWaiters.filter((w) => w.revision <= this.revision);
    this.revisionWaiters = this.revisionWaiters.filter((w) => w.revision > this.revision);
    for (const w of ready) w.resolve();
  }

  /** `sizes`: each change's bytes, for the history's byte bound. */
  private learn(changes: StoredChange[], sizes: number[]): void {
    if (changes.length === 0) return;
    const first = changes[0]!.revision;
    const last = changes[changes.length - 1]!.revision;
    if (this.batches.length > 0 && first !== this.revision + 1) {
      // A gap (history lost): only replays from here on are exact.
      this.history.clear();
      this.batches = [];
    }
    this.history.add(changes, sizes);
    this.batches.push({ first, last });
    this.revision = Math.max(this.revision, last);
  }

  private forgetCompactedBatches(): void {
    const oldest = this.history.oldest(this.revision);
    while (this.batches.length > 1 && this.batches[0]!.last < oldest) this.batches.shift();
  }

  private caughtUp(revision: number): Promise<void> {
    if (revision <= this.revision) return Promise.resolve();
    const timeoutMs = (this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS) * 2;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.revisionWaiters = this.revisionWaiters.filter((w) => w !== waiter);
        reject(
          new VxnetError(
            'STORE_UNAVAILABLE',
            `the log under ${this.layout.log} did not reach revision ${revision} within ${timeoutMs} ms (at ${this.revision}): check etcd at ${this.endpoints.join(',')} and retry`,
          ),
        );
      }, timeoutMs);
      const waiter = {
        revision,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.revisionWaiters.push(waiter);
    });
  }

  private report(callers: number, changes: number, started: number, ok: boolean): void {
    try {
      this.options.onFlush?.({ callers, changes, ms: performance.now() - started, ok } satisfies FlushInfo);
    } catch {
      // A broken metrics hook must not fail commits.
    }
  }
}

/** Every history entry's unit (keys only, in pages, at one etcd revision), oldest first. */
async function readHistoryUnits(client: Etcd3, layout: Layout, revision: string): Promise<HistoryUnit[]> {
  const units: HistoryUnit[] = [];
  const end = `${layout.history.slice(0, -1)}0`;
  let start = layout.history;
  for (;;) {
    const keys = await client.getAll().inRange(new Range(start, end)).revision(revision).limit(10_000).keys();
    for (const key of keys) {
      const unit = historyUnitOf(layout, key);
      if (unit) units.push(unit);
    }
    if (keys.length < 10_000) return units;
    start = `${keys[keys.length - 1]!}\0`;
  }
}

/** A log entry's bytes shared out over its changes (the entry is all etcd returns). */
const spread = (bytes: number, n: number): number[] => new Array<number>(n).fill(Math.ceil(bytes / Math.max(1, n)));

function unreachable(endpoints: string[], what: string, err: unknown, more = ''): VxnetError {
  return new VxnetError(
    'STORE_UNAVAILABLE',
    `cannot ${what} in etcd at ${endpoints.join(',')} (${reasonOf(err)}).${more} Check that etcd runs and is reachable there, or fix --etcd`,
    { endpoints },
    { cause: err },
  );
}
