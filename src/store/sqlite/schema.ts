// The SQLite file: durability pragmas, schema version 3 (1 plus the
// allocation history; 3 no longer writes meta "revision" with every batch)
// and its statements. Older files are migrated in place.
// Opening maps every failure to STORE_UNAVAILABLE with the path and a fix.

import { closeSync, openSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { VxnetError } from '../../errors.js';

export const SCHEMA_VERSION = 3;

type Db = Database.Database;

/**
 * A commit is on disk when it returns (WAL + synchronous=FULL), and the file
 * stays locked by this connection until it closes (no second writer).
 */
export function applyDurablePragmas(db: Db): void {
  // Before the first table exists: freed pages can then go back to the file system
  // (incremental_vacuum). An older file is converted once by the store (VACUUM).
  db.pragma('auto_vacuum = INCREMENTAL');
  db.pragma('locking_mode = EXCLUSIVE');
  const mode = db.pragma('journal_mode = WAL', { simple: true });
  if (mode !== 'wal') throw new Error(`journal_mode is ${String(mode)}, not wal`);
  db.pragma('synchronous = FULL');
  // A checkpoint (every 1,000 pages, SQLite's default) truncates the WAL back to this size.
  db.pragma(`journal_size_limit = ${WAL_LIMIT_BYTES}`);
  // Take the write lock now, so a second opener fails at open, not at its first commit.
  db.exec('BEGIN IMMEDIATE; COMMIT');
}

const SCHEMA_V1 = `
  CREATE TABLE agents (ip TEXT PRIMARY KEY, seq INTEGER NOT NULL, record TEXT NOT NULL) WITHOUT ROWID;
  CREATE INDEX agents_by_seq ON agents (seq, ip);
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE changes (revision INTEGER PRIMARY KEY, type TEXT NOT NULL, payload TEXT NOT NULL);
  INSERT INTO meta (key, value) VALUES ('revision', '0');
`;

/**
 * Version 2: the allocation history, apart from the change log (its own retention).
 * Version 3 changes no table: the revision is the newest change's (the log
 * always keeps it), and meta "revision" is only a floor, so a commit writes
 * one page fewer. An older vxnet would take that floor for the revision, so
 * it must refuse the file, and the version says so.
 */
const SCHEMA_V2 = `
  CREATE TABLE allocation_history (id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, agent TEXT NOT NULL, payload TEXT NOT NULL);
  CREATE INDEX allocation_history_by_agent ON allocation_history (agent, id);
  CREATE INDEX allocation_history_by_time ON allocation_history (at_ms);
`;

/** What the WAL file is cut back to after each checkpoint. */
export const WAL_LIMIT_BYTES = 4 * 1024 * 1024;

export interface OpenOptions {
  /** Accept an existing file that holds no store (e.g. truncated to 0 bytes) as an empty store. */
  allowEmpty?: boolean;
  /** Leave the integrity check to the caller (checkIntegrity), to run once the store's reads are served. */
  deferIntegrityCheck?: boolean;
}

function ensureSchema(db: Db, file: string, existed: boolean, options: OpenOptions): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new VxnetError(
      'STORE_UNAVAILABLE',
      `${file} was written by a newer vxnet (schema ${version}; this one knows ${SCHEMA_VERSION}): run the newer vxnet, or pass another --data DIR`,
      { file, version },
    );
  }
  if (version === SCHEMA_VERSION) return;
  if (version === 1 || version === 2) {
    // A file of an older vxnet: add what the newer versions add, keeping everything it holds.
    db.transaction(() => {
      if (version === 1) db.exec(SCHEMA_V2);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    })();
    return;
  }
  const tables = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number };
  if (tables.n > 0) {
    throw new VxnetError('STORE_UNAVAILABLE', `${file} is an SQLite file but not a vxnet store: move it away or pass another --data DIR`, {
      file,
    });
  }
  // Starting empty on a file that was there would hand out subnets agents already use.
  if (existed && !options.allowEmpty) {
    throw new VxnetError(
      'STORE_UNAVAILABLE',
      `${file} exists but holds no store (it is empty or was truncated), so every allocation it held is unknown: ` +
        'restore it from a backup; or, to start over with no allocations (agents re-register and may get other subnets ' +
        'than the ones their containers use), start once with --allow-empty-store',
      { file },
    );
  }
  db.transaction(() => {
    db.exec(SCHEMA_V1);
    db.exec(SCHEMA_V2);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  })();
}

function explain(file: string, err: unknown, failed = 'cannot open the store'): VxnetError {
  if (err instanceof VxnetError) return err;
  const e = err as { code?: string; message?: string };
  const code = e.code ?? '';
  const reason = `${code} ${e.message ?? String(err)}`.trim();
  let fix = `check that ${file} is a readable and writable file`;
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') fix = `another process holds ${file} open: stop it or pass another --data DIR`;
  else if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT'))
    fix = `the file is damaged: restore ${file} from a backup, or move it away to start with an empty store (all allocations are then forgotten)`;
  else if (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_PERM'))
    fix = `make ${file} and its directory writable, or pass another --data DIR`;
  else if (code === 'SQLITE_FULL') fix = 'free disk space and start again';
  return new VxnetError('STORE_UNAVAILABLE', `${failed} ${file} (${reason}): ${fix}`, { file }, { cause: err });
}

/**
 * SQLite opens a file it cannot write read-only and then fails on its lock
 * (SQLITE_IOERR_LOCK): say what is wrong instead. Root ignores modes, not an
 * immutable flag or a read-only mount.
 */
function checkWritable(file: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'r+');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code === 'ENOENT') return false;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
      throw new VxnetError(
        'STORE_UNAVAILABLE',
        `cannot open the store ${file}: the file is read-only (${code}): make it writable (chmod u+w; chattr -i if it is immutable; ` +
          'remount its file system read-write), or pass another --data DIR',
        { file },
        { cause: err },
      );
    }
    throw err;
  }
  closeSync(fd);
  return true;
}

/** Opens (creating if needed) and checks the store file. */
export function openDatabase(file: string, options: OpenOptions = {}): Db {
  let db: Db | undefined;
  try {
    const existed = checkWritable(file) && statSync(file).isFile();
    db = new Database(file, { timeout: 0 });
    applyDurablePragmas(db);
    ensureSchema(db, file, existed, options);
    if (!options.deferIntegrityCheck) quickCheck(db);
    return db;
  } catch (err) {
    try {
      db?.close();
    } catch {
      // Closing a half-open handle may fail too; the first error is the one to report.
    }
    throw explain(file, err);
  }
}

/** SQLite's quick_check of every page (100,000 agents: about 0.3 s); throws as openDatabase does when it finds damage. */
export function checkIntegrity(db: Db, file: string): void {
  try {
    quickCheck(db);
  } catch (err) {
    throw explain(file, err, 'the integrity check found damage in the store');
  }
}

function quickCheck(db: Db): void {
  const check = db.pragma('quick_check', { simple: true });
  if (check !== 'ok') throw Object.assign(new Error(`integrity check says: ${String(check)}`), { code: 'SQLITE_CORRUPT' });
}

/** The statements the store runs, prepared once. */
export function prepareStatements(db: Db) {
  return {
    putAgent: db.prepare<[string, number, string]>(
      'INSERT INTO agents (ip, seq, record) VALUES (?, ?, ?) ON CONFLICT (ip) DO UPDATE SET seq = excluded.seq, record = excluded.record',
    ),
    deleteAgent: db.prepare<[string]>('DELETE FROM agents WHERE ip = ?'),
    setMeta: db.prepare<[string, string]>(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ),
    getMeta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
    addChange: db.prepare<[number, string, string]>('INSERT INTO changes (revision, type, payload) VALUES (?, ?, ?)'),
    changeSizes: db.prepare<[], { revision: number; bytes: number }>(
      'SELECT revision, length(payload) AS bytes FROM changes ORDER BY revision',
    ),
    // Rows as [ip, record] arrays: a restart reads 100,000 of them, and an object per row costs more.
    agentRows: db.prepare<[], [string, string]>('SELECT ip, record FROM agents ORDER BY seq, ip').raw(),
    // The same order from a row on: a snapshot reads in slices, letting the event loop run between them.
    agentRowsAfter: db
      .prepare<[number, string], [string, string, number]>('SELECT ip, record, seq FROM agents WHERE (seq, ip) > (?, ?) ORDER BY seq, ip')
      .raw(),
    agentRecord: db.prepare<[string], [string]>('SELECT record FROM agents WHERE ip = ?').raw(),
    changesAfter: db.prepare<[number], { revision: number; type: string; payload: string }>(
      'SELECT revision, type, payload FROM changes WHERE revision > ? ORDER BY revision',
    ),
    oldestChange: db.prepare<[], { revision: number | null }>('SELECT min(revision) AS revision FROM changes'),
    newestChange: db.prepare<[], { revision: number | null }>('SELECT max(revision) AS revision FROM changes'),
    pruneChanges: db.prepare<[number]>('DELETE FROM changes WHERE revision <= ?'),
    addEvent: db.prepare<[number, string, string]>('INSERT INTO allocation_history (at_ms, agent, payload) VALUES (?, ?, ?)'),
    eventTotals: db.prepare<[], { n: number; bytes: number }>(
      'SELECT count(*) AS n, coalesce(sum(length(payload)), 0) AS bytes FROM allocation_history',
    ),
    oldestEventAt: db.prepare<[], { atMs: number | null }>('SELECT min(at_ms) AS atMs FROM allocation_history'),
    eventsBefore: db.prepare<[number], { n: number; bytes: number }>(
      'SELECT count(*) AS n, coalesce(sum(length(payload)), 0) AS bytes FROM allocation_history WHERE at_ms < ?',
    ),
    pruneEventsBefore: db.prepare<[number]>('DELETE FROM allocation_history WHERE at_ms < ?'),
    oldestEvents: db.prepare<[number, number], { id: number; bytes: number }>(
      'SELECT id, length(payload) AS bytes FROM allocation_history WHERE id > ? ORDER BY id LIMIT ?',
    ),
    pruneEventsTo: db.prepare<[number]>('DELETE FROM allocation_history WHERE id <= ?'),
    eventsNewestFirst: db.prepare<[number], { payload: string }>(
      'SELECT payload FROM allocation_history WHERE at_ms >= ? ORDER BY id DESC',
    ),
    agentEventsNewestFirst: db.prepare<[string, number], { payload: string }>(
      'SELECT payload FROM allocation_history WHERE agent = ? AND at_ms >= ? ORDER BY id DESC',
    ),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;
