// The embedded store of a single master: one SQLite file, DIR/vxnet.db.
// Every batch of concurrent commits is one transaction with one fsync.

import { join, resolve } from 'node:path';
import type Database from 'better-sqlite3';
import type { NetworkConfig } from '../../config/types.js';
import { VxnetError } from '../../errors.js';
import { decodeChange, encodeChanges, type EncodedChange } from '../change-codec.js';
import { GroupCommit } from '../group-commit.js';
import { historyLimitOf, type StoreOptions } from '../options.js';
import type { AgentRecord, Change, Snapshot, Store, StoredChange } from '../store.js';
import { checkWatchStart, ChangeListeners } from '../watch-hub.js';
import { makeDataDirectory } from './data-dir.js';
import { lockDirectory } from './dir-lock.js';
import { openDatabase, prepareStatements, type Statements } from './schema.js';

export const DB_FILE = 'vxnet.db';

export interface SqliteStoreOptions extends StoreOptions {
  /** Caps the file size; a batch that would grow it further fails with STORE_UNAVAILABLE. */
  maxDatabaseBytes?: number;
}

export class SqliteStore implements Store {
  private readonly hub = new ChangeListeners();
  private readonly group: GroupCommit;
  private readonly writeBatch: (batch: EncodedChange[], first: number) => void;
  private closed = false;

  private constructor(
    private readonly db: Database.Database,
    private readonly sql: Statements,
    private readonly file: string,
    private readonly historyLimit: number,
    private readonly unlock: () => void,
    private revision: number,
    options: SqliteStoreOptions | undefined,
  ) {
    this.writeBatch = db.transaction((batch: EncodedChange[], first: number) => this.apply(batch, first));
    this.group = new GroupCommit((batch) => this.write(batch), options?.onFlush);
  }

  /** Opens DIR/vxnet.db, creating both if needed; fails with STORE_UNAVAILABLE (path and fix) otherwise. */
  static async open(dir: string, options?: SqliteStoreOptions): Promise<SqliteStore> {
    if (typeof dir !== 'string' || dir.trim() === '') {
      throw new VxnetError('STORE_UNAVAILABLE', `store directory ${JSON.stringify(dir)} is empty: pass --data DIR`);
    }
    const historyLimit = historyLimitOf(options);
    const absDir = resolve(dir);
    makeDataDirectory(absDir);
    const unlock = lockDirectory(absDir);
    const file = join(absDir, DB_FILE);
    let db: Database.Database | undefined;
    try {
      db = openDatabase(file);
      if (options?.maxDatabaseBytes !== undefined) {
        if (!Number.isSafeInteger(options.maxDatabaseBytes) || options.maxDatabaseBytes < 1) {
          throw new VxnetError(
            'BAD_REQUEST',
            `maxDatabaseBytes is ${String(options.maxDatabaseBytes)}: pass a positive whole number of bytes, or omit it for no cap`,
          );
        }
        const pageSize = db.pragma('page_size', { simple: true }) as number;
        db.pragma(`max_page_count = ${Math.max(1, Math.floor(options.maxDatabaseBytes / pageSize))}`);
      }
      const sql = prepareStatements(db);
      const revision = Number(sql.getMeta.get('revision')?.value ?? 0);
      return new SqliteStore(db, sql, file, historyLimit, unlock, revision, options);
    } catch (err) {
      db?.close();
      unlock();
      throw err;
    }
  }

  async snapshot(): Promise<Snapshot> {
    return this.read(() => {
      const config = this.sql.getMeta.get('config')?.value;
      return {
        revision: this.revision,
        ...(config !== undefined && { config: JSON.parse(config) as NetworkConfig }),
        agents: this.sql.agentsBySeq.all().map((row) => JSON.parse(row.record) as AgentRecord),
      };
    });
  }

  async commit(changes: Change[]): Promise<number> {
    return this.group.submit(encodeChanges(changes));
  }

  watch(sinceRevision: number, onChange: (change: StoredChange) => void): () => void {
    const backlog = this.read(() => {
      const oldest = this.sql.oldestChange.get()?.revision ?? this.revision + 1;
      const since = checkWatchStart(sinceRevision, this.revision, oldest);
      return this.sql.changesAfter.all(since).map((row) => decodeChange(row.type, JSON.parse(row.payload), row.revision));
    });
    return this.hub.subscribe(backlog, onChange);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.group.close();
    this.closed = true;
    this.hub.clear();
    try {
      this.db.close();
    } finally {
      this.unlock();
    }
  }

  private write(batch: EncodedChange[]): number {
    const first = this.revision + 1;
    try {
      this.writeBatch(batch, first);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new VxnetError(
        'STORE_UNAVAILABLE',
        `could not write ${batch.length} change(s) to ${this.file} (${reason}); nothing of them was stored: check the disk and retry`,
        { file: this.file },
        { cause: err },
      );
    }
    this.revision = first + batch.length - 1;
    if (this.hub.size > 0) this.hub.publish(batch.map((c, i) => decodeChange(c.type, JSON.parse(c.payload), first + i)));
    return this.revision;
  }

  /** Runs inside the batch transaction. */
  private apply(batch: EncodedChange[], first: number): void {
    let revision = first - 1;
    for (const change of batch) {
      revision += 1;
      if (change.type === 'put') this.sql.putAgent.run(change.ip, change.seq, change.payload);
      else if (change.type === 'delete') this.sql.deleteAgent.run(change.ip);
      else this.sql.setMeta.run('config', change.payload);
      this.sql.addChange.run(revision, change.type, change.payload);
    }
    if (batch.length === 0) return;
    this.sql.setMeta.run('revision', String(revision));
    this.sql.pruneChanges.run(revision - this.historyLimit);
  }

  private read<T>(fn: () => T): T {
    if (this.closed) throw new VxnetError('STORE_UNAVAILABLE', `the store ${this.file} is closed: open it again`);
    try {
      return fn();
    } catch (err) {
      if (err instanceof VxnetError) throw err;
      const reason = err instanceof Error ? err.message : String(err);
      throw new VxnetError(
        'STORE_UNAVAILABLE',
        `cannot read ${this.file} (${reason}): check the disk, then restart the master`,
        { file: this.file },
        { cause: err },
      );
    }
  }
}
