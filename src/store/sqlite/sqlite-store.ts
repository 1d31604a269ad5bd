// The embedded store of a single master: one SQLite file, DIR/vxnet.db.
// Every batch of concurrent commits is one transaction with one fsync.

import { join, resolve } from 'node:path';
import type Database from 'better-sqlite3';
import { VxnetError } from '../../errors.js';
import {
  type AllocationRetention,
  compileQuery,
  type EncodedEvent,
  encodeHistory,
  HistoryCollector,
  type HistoryPage,
  type HistoryQuery,
  retentionOf,
} from '../allocation-history.js';
import { decodeChange, encodeChanges, type EncodedChange } from '../change-codec.js';
import { GroupCommit } from '../group-commit.js';
import { HistoryLedger } from '../history-ledger.js';
import { historyBoundsOf, type StoreOptions } from '../options.js';
import type { NetworkConfig } from '../../config/types.js';
import type { AgentRecord, AllocationEvent, Change, Snapshot, Store, StoredChange, StorePeek } from '../store.js';
import { readChange, readConfig, readRecord, readRevision } from '../stored-rows.js';
import { checkWatchStart, ChangeListeners } from '../watch-hub.js';
import { DB_FILE, makeDataDirectory } from './data-dir.js';
import { lockDirectory } from './dir-lock.js';
import { checkIntegrity, openDatabase, prepareStatements, type Statements } from './schema.js';

export interface SqliteStoreOptions extends StoreOptions {
  /** Caps the file size; a batch that would grow it further fails with STORE_UNAVAILABLE. */
  maxDatabaseBytes?: number;
  /** Accept an existing vxnet.db that holds no store (truncated, replaced) as an empty store. */
  allowEmpty?: boolean;
  /** Skip the integrity check at open: the caller runs checkIntegrity once its reads are served (a master's start). */
  deferIntegrityCheck?: boolean;
}

/** Free pages past this are given back to the file system after a write. */
const FREE_BYTES_KEPT = 4 * 1024 * 1024;
/** How long a snapshot reads rows before it lets the event loop run (a socket write, a /healthz). */
const SNAPSHOT_SLICE_MS = 5;

export class SqliteStore implements Store {
  private readonly hub = new ChangeListeners();
  private readonly group: GroupCommit;
  private readonly writeBatch: (batch: EncodedChange[], events: EncodedEvent[], first: number, trimTo: number) => EventTotals;
  private readonly retention: AllocationRetention;
  private readonly wallClock: () => number;
  private closed = false;
  /** The fix every "the store is damaged" error names. */
  private readonly repair: string;
  /** Why the last batch failed, until one succeeds (for /healthz). */
  private trouble: string | undefined;

  private constructor(
    private readonly db: Database.Database,
    private readonly sql: Statements,
    private readonly file: string,
    private readonly ledger: HistoryLedger,
    private readonly unlock: () => void,
    private revision: number,
    options: SqliteStoreOptions | undefined,
    /** The allocation history's size, for its retention. */
    private events: EventTotals,
    private readonly pageSize: number,
  ) {
    this.retention = retentionOf(options);
    this.repair = REPAIR(file);
    this.wallClock = options?.wallClock ?? Date.now;
    this.writeBatch = db.transaction((batch: EncodedChange[], events: EncodedEvent[], first: number, trimTo: number) =>
      this.apply(batch, events, first, trimTo),
    );
    this.group = new GroupCommit((batch, events) => this.write(batch, events), options?.onFlush);
  }

  /** Opens DIR/vxnet.db, creating both if needed; fails with STORE_UNAVAILABLE (path and fix) otherwise. */
  static async open(dir: string, options?: SqliteStoreOptions): Promise<SqliteStore> {
    if (typeof dir !== 'string' || dir.trim() === '') {
      throw new VxnetError('STORE_UNAVAILABLE', `store directory ${JSON.stringify(dir)} is empty: pass --data DIR`);
    }
    const bounds = historyBoundsOf(options);
    retentionOf(options); // a bad retention is refused before anything is opened
    const absDir = resolve(dir);
    makeDataDirectory(absDir);
    const unlock = lockDirectory(absDir);
    const file = join(absDir, DB_FILE);
    let db: Database.Database | undefined;
    try {
      db = openDatabase(file, { allowEmpty: options?.allowEmpty === true, deferIntegrityCheck: options?.deferIntegrityCheck === true });
      // Fixed once the schema exists (a VACUUM keeps it).
      const pageSize = db.pragma('page_size', { simple: true }) as number;
      if (options?.maxDatabaseBytes !== undefined) {
        if (!Number.isSafeInteger(options.maxDatabaseBytes) || options.maxDatabaseBytes < 1) {
          throw new VxnetError(
            'BAD_REQUEST',
            `maxDatabaseBytes is ${String(options.maxDatabaseBytes)}: pass a positive whole number of bytes, or omit it for no cap`,
          );
        }
        db.pragma(`max_page_count = ${Math.max(1, Math.floor(options.maxDatabaseBytes / pageSize))}`);
      }
      const sql = prepareStatements(db);
      // The newest change is the revision (the log always keeps it); meta "revision" is the floor for a log still empty.
      const floor = readRevision(`${file}, meta row "revision"`, sql.getMeta.get('revision')?.value ?? '0', REPAIR(file));
      const revision = Math.max(floor, sql.newestChange.get()?.revision ?? 0);
      const ledger = new HistoryLedger(bounds);
      const retained = sql.changeSizes.all();
      const revs = retained.map((r) => r.revision);
      const sizes = retained.map((r) => r.bytes);
      // A history beyond today's bounds (an older vxnet kept more) is cut now, before the file is compacted.
      const trimTo = ledger.cutoffAfter(revs, sizes);
      ledger.add(revs, sizes);
      if (trimTo > 0) sql.pruneChanges.run(trimTo);
      useIncrementalVacuum(db);
      returnFreePages(db, pageSize);
      const events = { ...sql.eventTotals.get()!, oldestAtMs: sql.oldestEventAt.get()?.atMs ?? undefined };
      return new SqliteStore(db, sql, file, ledger, unlock, revision, options, events, pageSize);
    } catch (err) {
      db?.close();
      unlock();
      throw err;
    }
  }

  /**
   * Everything stored, read in slices of a few milliseconds with the event
   * loop free between them: at 100,000 agents the rows take about a second,
   * during which a starting master answers /healthz and its saved /state.
   * A commit between slices makes it read again in one go.
   */
  async snapshot(): Promise<Snapshot> {
    const revision = this.revision;
    const config = this.storedConfig();
    const agents: AgentRecord[] = [];
    let after: [number, string] = [Number.MIN_SAFE_INTEGER, ''];
    for (;;) {
      const done = this.read(() => {
        const until = performance.now() + SNAPSHOT_SLICE_MS;
        let n = 0;
        // Row by row, so each row's text is garbage before the next is read (all() would keep 100,000 alive at once).
        for (const [ip, record, seq] of this.sql.agentRowsAfter.iterate(...after)) {
          agents.push(this.storedRecord(ip, record));
          after = [seq, ip];
          if (++n % 64 === 0 && performance.now() >= until) return false; // leaving the loop ends the statement
        }
        return true;
      });
      if (done) break;
      await new Promise((resolve) => setImmediate(resolve));
      if (this.revision !== revision) return this.snapshotAtOnce();
    }
    return { revision, ...(config !== undefined && { config }), agents };
  }

  private snapshotAtOnce(): Snapshot {
    return this.read(() => {
      const config = this.storedConfig();
      return {
        revision: this.revision,
        ...(config !== undefined && { config }),
        agents: Array.from(this.sql.agentRows.iterate(), ([ip, record]) => this.storedRecord(ip, record)),
      };
    });
  }

  /** SQLite's check of every page, deferred from open (deferIntegrityCheck); STORE_UNAVAILABLE with the path and fix on damage. */
  checkIntegrity(): void {
    this.read(() => checkIntegrity(this.db, this.file));
  }

  /** The revision, the config and single records, read at once (StorePeek), before a snapshot. */
  peek(): StorePeek {
    return {
      revision: this.revision,
      config: this.storedConfig(),
      record: (ip) => {
        const row = this.read(() => this.sql.agentRecord.get(ip));
        return row === undefined ? undefined : this.storedRecord(ip, row[0]);
      },
    };
  }

  /** The stored network config, checked, or undefined before one is stored. */
  private storedConfig(): NetworkConfig | undefined {
    const text = this.read(() => this.sql.getMeta.get('config')?.value);
    return text === undefined ? undefined : readConfig(`${this.file}, meta row "config"`, text, this.repair);
  }

  /** An agents row, checked; its location is put into words only for an error. */
  private storedRecord(ip: string, text: string): AgentRecord {
    return readRecord(() => `${this.file}, agents row ${JSON.stringify(ip)}`, ip, text, this.repair);
  }

  async commit(changes: Change[], history?: AllocationEvent[]): Promise<number> {
    return this.group.submit(encodeChanges(changes), encodeHistory(history));
  }

  async allocationHistory(query: HistoryQuery): Promise<HistoryPage> {
    const q = compileQuery(query);
    return this.read(() => {
      const collector = new HistoryCollector(q);
      const since = q.sinceMs ?? Number.MIN_SAFE_INTEGER;
      const rows =
        q.agent !== undefined ? this.sql.agentEventsNewestFirst.iterate(q.agent, since) : this.sql.eventsNewestFirst.iterate(since);
      for (const row of rows) {
        if (!collector.offer(JSON.parse(row.payload) as AllocationEvent)) break;
      }
      return collector.page();
    });
  }

  watch(sinceRevision: number, onChange: (change: StoredChange) => void): () => void {
    const backlog = this.read(() => {
      const oldest = this.sql.oldestChange.get()?.revision ?? this.revision + 1;
      const since = checkWatchStart(sinceRevision, this.revision, oldest);
      return this.sql.changesAfter
        .all(since)
        .map((row) => readChange(`${this.file}, changes row ${row.revision}`, row.type, row.payload, row.revision, this.repair));
    });
    return this.hub.subscribe(backlog, onChange);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.group.close();
    this.closed = true;
    this.hub.clear();
    try {
      // For whoever reads the file by hand: since schema 3 commits no longer write it.
      this.sql.setMeta.run('revision', String(this.revision));
    } catch {
      // Only a floor: the changes hold the revision.
    }
    try {
      this.db.close();
    } finally {
      this.unlock();
    }
  }

  /** Why writes fail right now (the last batch failed and none succeeded since), or undefined. */
  writeTrouble(): string | undefined {
    return this.trouble;
  }

  private write(batch: EncodedChange[], events: EncodedEvent[]): number {
    const first = this.revision + 1;
    const revs = batch.map((_, i) => first + i);
    const sizes = batch.map((c) => c.payload.length);
    let totals: EventTotals;
    try {
      totals = this.writeBatch(batch, events, first, this.ledger.cutoffAfter(revs, sizes));
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      this.trouble = `the last write to ${this.file} failed (${reason})`;
      throw new VxnetError(
        'STORE_UNAVAILABLE',
        `could not write ${batch.length} change(s) to ${this.file} (${reason}); nothing of them was stored: check the disk and retry`,
        { file: this.file },
        { cause: err },
      );
    }
    this.trouble = undefined;
    this.events = totals;
    this.ledger.add(revs, sizes);
    this.revision = first + batch.length - 1;
    try {
      returnFreePages(this.db, this.pageSize);
    } catch {
      // The batch is durable; the space is given back after a later write.
    }
    if (this.hub.size > 0) this.hub.publish(batch.map((c, i) => decodeChange(c.type, JSON.parse(c.payload), first + i)));
    return this.revision;
  }

  /** Runs inside the batch transaction; answers the allocation history's size after it. */
  private apply(batch: EncodedChange[], events: EncodedEvent[], first: number, trimTo: number): EventTotals {
    const totals = events.length > 0 ? this.addEvents(events) : this.events;
    let revision = first - 1;
    for (const change of batch) {
      revision += 1;
      if (change.type === 'put') this.sql.putAgent.run(change.ip, change.seq, change.payload);
      else if (change.type === 'delete') this.sql.deleteAgent.run(change.ip);
      else this.sql.setMeta.run('config', change.payload);
      this.sql.addChange.run(revision, change.type, change.payload);
    }
    if (batch.length === 0) return totals;
    if (trimTo > 0) this.sql.pruneChanges.run(trimTo);
    return totals;
  }

  /** Appends allocation events and trims that history to its own retention (never the change log's). */
  private addEvents(events: EncodedEvent[]): EventTotals {
    let { n, bytes, oldestAtMs } = this.events;
    for (const e of events) {
      this.sql.addEvent.run(e.atMs, e.event.agent, e.json);
      n += 1;
      bytes += e.json.length;
      if (oldestAtMs === undefined || e.atMs < oldestAtMs) oldestAtMs = e.atMs;
    }
    const cutoff = this.wallClock() - this.retention.maxAgeMs;
    let pruned = false;
    // Knowing the oldest event's time spares every commit a query when nothing is old enough yet.
    if (oldestAtMs !== undefined && oldestAtMs < cutoff) {
      const old = this.sql.eventsBefore.get(cutoff)!;
      this.sql.pruneEventsBefore.run(cutoff);
      n -= old.n;
      bytes -= old.bytes;
      pruned = true;
    }
    let last = 0;
    while (n > this.retention.maxEvents || bytes > this.retention.maxBytes) {
      const oldest = this.sql.oldestEvents.all(last, 1000);
      if (oldest.length === 0) break;
      for (const row of oldest) {
        if (n <= this.retention.maxEvents && bytes <= this.retention.maxBytes) break;
        last = row.id;
        n -= 1;
        bytes -= row.bytes;
      }
    }
    if (last > 0) this.sql.pruneEventsTo.run(last);
    if (pruned || last > 0) oldestAtMs = this.sql.oldestEventAt.get()?.atMs ?? undefined;
    return { n, bytes, oldestAtMs };
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

/** How many allocation events the file holds, their bytes, and when the oldest happened. */
interface EventTotals {
  n: number;
  bytes: number;
  oldestAtMs: number | undefined;
}

const REPAIR = (file: string): string =>
  `restore ${file} from a backup, or correct or delete that row (sqlite3 ${file}) with the master stopped`;

/**
 * Keeps the file near the size of what it holds: a file from before
 * auto_vacuum is converted once at open (VACUUM), then free pages past a few
 * MiB go back to the file system after a write (trimmed history, smaller records).
 */
function useIncrementalVacuum(db: Database.Database): void {
  if (db.pragma('auto_vacuum', { simple: true }) === 2) return;
  db.pragma('auto_vacuum = INCREMENTAL');
  db.exec('VACUUM');
}

function returnFreePages(db: Database.Database, pageSize: number): void {
  const free = db.pragma('freelist_count', { simple: true }) as number;
  if (free * pageSize > FREE_BYTES_KEPT) db.pragma(`incremental_vacuum(${free - Math.floor(FREE_BYTES_KEPT / pageSize / 2)})`);
}
