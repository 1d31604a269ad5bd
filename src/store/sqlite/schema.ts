// The SQLite file: durability pragmas, schema version 1 and its statements.
// Opening maps every failure to STORE_UNAVAILABLE with the path and a fix.

import Database from 'better-sqlite3';
import { VxnetError } from '../../errors.js';

export const SCHEMA_VERSION = 1;

type Db = Database.Database;

/**
 * A commit is on disk when it returns (WAL + synchronous=FULL), and the file
 * stays locked by this connection until it closes (no second writer).
 */
export function applyDurablePragmas(db: Db): void {
  db.pragma('locking_mode = EXCLUSIVE');
  const mode = db.pragma('journal_mode = WAL', { simple: true });
  if (mode !== 'wal') throw new Error(`journal_mode is ${String(mode)}, not wal`);
  db.pragma('synchronous = FULL');
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

function ensureSchema(db: Db, file: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new VxnetError(
      'STORE_UNAVAILABLE',
      `${file} was written by a newer vxnet (schema ${version}; this one knows ${SCHEMA_VERSION}): run the newer vxnet, or pass another --data DIR`,
      { file, version },
    );
  }
  if (version === SCHEMA_VERSION) return;
  const tables = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number };
  if (tables.n > 0) {
    throw new VxnetError('STORE_UNAVAILABLE', `${file} is an SQLite file but not a vxnet store: move it away or pass another --data DIR`, {
      file,
    });
  }
  db.transaction(() => {
    db.exec(SCHEMA_V1);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  })();
}

function explain(file: string, err: unknown): VxnetError {
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
  return new VxnetError('STORE_UNAVAILABLE', `cannot open the store ${file} (${reason}): ${fix}`, { file }, { cause: err });
}

/** Opens (creating if needed) and checks the store file. */
export function openDatabase(file: string): Db {
  let db: Db | undefined;
  try {
    db = new Database(file, { timeout: 0 });
    applyDurablePragmas(db);
    ensureSchema(db, file);
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw Object.assign(new Error(`integrity check says: ${String(check)}`), { code: 'SQLITE_CORRUPT' });
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

/** The statements the store runs, prepared once. */
export function prepareStatements(db: Db) {
  return {
    putAgent: db.prepare<[string, number, string]>(
      'INSERT INTO agents (ip, seq, record) VALUES (?, ?, ?) ON CONFLICT (ip) DO UPDATE SET seq = excluded.seq, record = excluded.record',
    ),
    deleteAgent: db.prepare<[string]>('DELETE FROM agents WHERE ip = ?'),
    agentsBySeq: db.prepare<[], { record: string }>('SELECT record FROM agents ORDER BY seq, ip'),
    setMeta: db.prepare<[string, string]>(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ),
    getMeta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
    addChange: db.prepare<[number, string, string]>('INSERT INTO changes (revision, type, payload) VALUES (?, ?, ?)'),
    changesAfter: db.prepare<[number], { revision: number; type: string; payload: string }>(
      'SELECT revision, type, payload FROM changes WHERE revision > ? ORDER BY revision',
    ),
    oldestChange: db.prepare<[], { revision: number | null }>('SELECT min(revision) AS revision FROM changes'),
    pruneChanges: db.prepare<[number]>('DELETE FROM changes WHERE revision <= ?'),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;
