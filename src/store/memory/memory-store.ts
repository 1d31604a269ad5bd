// The in-memory store: the fake for master tests, with the same semantics as
// the durable stores (group commit, one revision per change, bounded history,
// JSON copies in and out), just without the disk.

import type { NetworkConfig } from '../../config/types.js';
import { VxnetError } from '../../errors.js';
import { decodeChange, encodeChanges, type EncodedChange } from '../change-codec.js';
import { GroupCommit } from '../group-commit.js';
import { historyBoundsOf, type StoreOptions } from '../options.js';
import type { AgentRecord, Change, Snapshot, Store, StoredChange } from '../store.js';
import { RetainedHistory, ChangeListeners } from '../watch-hub.js';

export class MemoryStore implements Store {
  private readonly agents = new Map<string, { seq: number; json: string }>();
  private config: string | undefined;
  private revision = 0;
  private readonly history: RetainedHistory;
  private readonly hub = new ChangeListeners();
  private readonly group: GroupCommit;
  private closed = false;

  constructor(options?: StoreOptions) {
    this.history = new RetainedHistory(historyBoundsOf(options));
    this.group = new GroupCommit((batch) => this.write(batch), options?.onFlush);
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

  async commit(changes: Change[]): Promise<number> {
    return this.group.submit(encodeChanges(changes));
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

  private write(batch: EncodedChange[]): number {
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
