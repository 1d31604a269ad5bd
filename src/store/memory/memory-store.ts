// The in-memory store: the fake for master tests, with the same semantics as
// the durable stores (group commit, one revision per change, bounded history,
// JSON copies in and out), just without the disk.

import type { NetworkConfig } from '../../config/types.js';
import { VxnetError } from '../../errors.js';
import {
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
import { decodeChange, encodeChanges, type EncodedChange } from '../change-codec.js';
import { GroupCommit } from '../group-commit.js';
import { historyBoundsOf, type StoreOptions } from '../options.js';
import type { AgentRecord, AllocationEvent, Change, Snapshot, Store, StoredChange } from '../store.js';
import { RetainedHistory, ChangeListeners } from '../watch-hub.js';

export class MemoryStore implements Store {
  private readonly agents = new Map<string, { seq: number; json: string }>();
  private config: string | undefined;
  private revision = 0;
  private readonly history: RetainedHistory;
  private readonly hub = new ChangeListeners();
  private readonly group: GroupCommit;
  private closed = false;
  /** The allocation history, oldest first (JSON copies). */
  private allocations: EncodedEvent[] = [];
  private readonly retention: AllocationRetention;
  private readonly wallClock: () => number;

  constructor(options?: StoreOptions) {
    this.history = new RetainedHistory(historyBoundsOf(options));
    this.retention = retentionOf(options);
    this.wallClock = options?.wallClock ?? Date.now;
    this.group = new GroupCommit((batch, events) => this.write(batch, events), options?.onFlush);
  }

  async snapshot(): Promise<Snapshot> {
    this.ensureOpen();
    const rows = [...this.agents.entries()].sort(([ipA, a], [ipB, b]) => a.seq - b.seq || (ipA < ipB ? -1 : ipA > ipB ? 1 : 0));
    return {
      revision: this.revision,
      ...(this.config !== undefined && { config: JSON.parse(this.config) as NetworkConfig }),
      agents: rows.map(([, row]) => JSON.parse(row.json) as AgentRecord),
    };
  }

  async commit(changes: Change[], history?: AllocationEvent[]): Promise<number> {
    return this.group.submit(encodeChanges(changes), encodeHistory(history));
  }

  async allocationHistory(query: HistoryQuery): Promise<HistoryPage> {
    const q = compileQuery(query);
    this.ensureOpen();
    const collector = new HistoryCollector(q);
    for (let i = this.allocations.length - 1; i >= 0; i--) {
      if (!collector.offer(JSON.parse(this.allocations[i]!.json) as AllocationEvent)) break;
    }
    return collector.page();
  }

  watch(sinceRevision: number, onChange: (change: StoredChange) => void): () => void {
    this.ensureOpen();
    return this.history.watch(this.hub, sinceRevision, this.revision, onChange);
  }

  async close(): Promise<void> {
    await this.group.close();
    this.closed = true;
    this.hub.clear();
  }

  private ensureOpen(): void {
    if (this.closed) throw new VxnetError('STORE_UNAVAILABLE', 'the memory store is closed: create a new one');
  }

  private write(batch: EncodedChange[], events: EncodedEvent[]): number {
    if (events.length > 0) {
      this.allocations.push(...events);
      const units = this.allocations.map((e) => ({ events: 1, bytes: e.json.length, atMs: e.atMs }));
      const drop = historyTrimCount(units, this.wallClock(), this.retention);
      if (drop > 0) this.allocations = this.allocations.slice(drop);
    }
    const stored: StoredChange[] = [];
    for (const change of batch) {
      this.revision += 1;
      if (change.type === 'put') this.agents.set(change.ip, { seq: change.seq, json: change.payload });
      else if (change.type === 'delete') this.agents.delete(change.ip);
      else this.config = change.payload;
      stored.push(decodeChange(change.type, JSON.parse(change.payload), this.revision));
    }
    this.history.add(
      stored,
      batch.map((c) => c.payload.length),
    );
    this.hub.publish(stored);
    return this.revision;
  }
}
