import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { VxnetError } from '../../errors.js';
import { agentRecord, networkConfig, runStoreContract } from '../contract.case.test.js';
import type { StoredChange } from '../store.js';
import { SqliteStore } from './sqlite-store.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'vxnet-store-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function openError(dir: string): Promise<VxnetError> {
  const err: unknown = await SqliteStore.open(dir).then(
    async (store) => {
      await store.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(VxnetError);
  expect((err as VxnetError).code).toBe('STORE_UNAVAILABLE');
  return err as VxnetError;
}

runStoreContract('sqlite', (options) => SqliteStore.open(tempDir(), options));

describe('SqliteStore on disk', () => {
  it('keeps everything across close and reopen, and revisions keep growing', async () => {
    const dir = join(tempDir(), 'nested', 'data');
    const first = await SqliteStore.open(dir);
    await first.commit([{ type: 'config', config: networkConfig() }]);
    const rev = await first.commit([
      { type: 'put', record: agentRecord('10.0.0.2', 1) },
      { type: 'put', record: agentRecord('10.0.0.1', 0) },
    ]);
    const before = await first.snapshot();
    await first.close();
    expect(existsSync(join(dir, 'vxnet.lock'))).toBe(false);

    const again = await SqliteStore.open(dir);
    expect(await again.snapshot()).toEqual(before);
    const seen: StoredChange[] = [];
    again.watch(1, (c) => seen.push(c));
    expect(seen.map((c) => c.revision)).toEqual([2, 3]);
    const next = await again.commit([{ type: 'delete', ip: '10.0.0.2' }]);
    expect(next).toBe(rev + 1);
    expect(seen.at(-1)).toEqual({ type: 'delete', ip: '10.0.0.2', revision: next });
    await again.close();
    const third = await SqliteStore.open(dir);
    expect((await third.snapshot()).revision).toBe(next);
    await third.close();
  });

  it('refuses a second opener of the same directory, naming the owner', async () => {
    const dir = tempDir();
    const store = await SqliteStore.open(dir);
    const err = await openError(dir);
    expect(err.message).toBe(
      `another vxnet master (pid ${process.pid}) is using ${dir}: stop it first, or pass another --data DIR (if no such master runs, delete ${join(dir, 'vxnet.lock')})`,
    );
    await store.close();
    await (await SqliteStore.open(dir)).close();
  });

  it('takes over a lock left by a dead process', async () => {
    const dir = tempDir();
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    writeFileSync(join(dir, 'vxnet.lock'), `${dead}\n`);
    const store = await SqliteStore.open(dir);
    expect(readFileSync(join(dir, 'vxnet.lock'), 'utf8').split(' ')[0]).toBe(String(process.pid));
    await store.close();
  });

  it('takes over a lock whose owner was killed but not yet reaped (a zombie)', async () => {
    const dir = tempDir();
    // The forked child exits at once and stays a zombie: its parent sleeps without reaping it.
    // (A shell is no good here: it may reap the child before it execs.)
    const script = 'import os, time\npid = os.fork()\nif pid == 0:\n    os._exit(0)\nprint(pid, flush=True)\ntime.sleep(20)';
    const parent = spawn('python3', ['-c', script], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const zombie = Number((await new Promise<Buffer>((ok) => parent.stdout.once('data', ok))).toString().trim());
      for (let i = 0; i < 100 && !/\) Z /.test(readFileSync(`/proc/${zombie}/stat`, 'utf8')); i++)
        await new Promise((ok) => setTimeout(ok, 10));
      expect(readFileSync(`/proc/${zombie}/stat`, 'utf8')).toMatch(/\) Z /);
      writeFileSync(join(dir, 'vxnet.lock'), `${zombie}\n`);
      const store = await SqliteStore.open(dir);
      expect(readFileSync(join(dir, 'vxnet.lock'), 'utf8').split(' ')[0]).toBe(String(process.pid));
      await store.close();
    } finally {
      parent.kill('SIGKILL');
    }
  });

  it('refuses a lock file without a PID rather than guessing', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'vxnet.lock'), '');
    const err = await openError(dir);
    expect(err.message).toBe(
      `the lock file ${join(dir, 'vxnet.lock')} holds no PID: if no vxnet master uses ${dir}, delete it and start again`,
    );
  });

  it('reports a corrupt database file with its path and the fix', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'vxnet.db'), 'this is not sqlite '.repeat(500));
    const err = await openError(dir);
    expect(err.message).toContain(`cannot open the store ${join(dir, 'vxnet.db')} (SQLITE_NOTADB`);
    expect(err.message).toContain('restore');
    expect(existsSync(join(dir, 'vxnet.lock'))).toBe(false);
  });

  it('checks every page at open, or later when the caller asks (a master serves reads first), naming the file and the fix', async () => {
    const dir = tempDir();
    const store = await SqliteStore.open(dir);
    await store.commit(
      Array.from({ length: 2_000 }, (_, i) => ({ type: 'put' as const, record: agentRecord(`10.0.${i >> 8}.${i & 255}`, i + 1) })),
    );
    await store.close();
    // A page in the middle overwritten: the schema and the meta rows still read.
    const file = join(dir, 'vxnet.db');
    const bytes = readFileSync(file);
    const pages = bytes.length / 4096;
    bytes.fill(0x5a, Math.floor(pages / 2) * 4096, (Math.floor(pages / 2) + 1) * 4096);
    writeFileSync(file, bytes);
    const damage = `${file} (SQLITE_CORRUPT integrity check says:`;
    expect((await openError(dir)).message).toContain(`cannot open the store ${damage}`);
    const deferred = await SqliteStore.open(dir, { deferIntegrityCheck: true });
    expect(() => deferred.checkIntegrity()).toThrow(`the integrity check found damage in the store ${damage}`);
    expect(() => deferred.checkIntegrity()).toThrow(`restore ${file} from a backup`);
    await deferred.close();
  });

  it('refuses a database from a newer schema and a foreign SQLite file', async () => {
    const newer = tempDir();
    await (await SqliteStore.open(newer)).close();
    const raw = new Database(join(newer, 'vxnet.db'));
    raw.pragma('user_version = 4');
    raw.close();
    expect((await openError(newer)).message).toContain('was written by a newer vxnet (schema 4; this one knows 3)');

    const foreign = tempDir();
    const other = new Database(join(foreign, 'vxnet.db'));
    other.exec('CREATE TABLE photos (id INTEGER)');
    other.close();
    expect((await openError(foreign)).message).toContain('is an SQLite file but not a vxnet store');
  });

  it('opens a version-1 file (before the allocation history) with everything it held, and keeps history across reopen', async () => {
    const dir = tempDir();
    // Exactly what vxnet's schema version 1 wrote.
    const raw = new Database(join(dir, 'vxnet.db'));
    raw.pragma('journal_mode = WAL');
    raw.exec(`
      CREATE TABLE agents (ip TEXT PRIMARY KEY, seq INTEGER NOT NULL, record TEXT NOT NULL) WITHOUT ROWID;
      CREATE INDEX agents_by_seq ON agents (seq, ip);
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE changes (revision INTEGER PRIMARY KEY, type TEXT NOT NULL, payload TEXT NOT NULL);
      INSERT INTO meta (key, value) VALUES ('revision', '2');
    `);
    const record = agentRecord('10.0.0.1', 0);
    raw.prepare('INSERT INTO agents (ip, seq, record) VALUES (?, ?, ?)').run('10.0.0.1', 0, JSON.stringify(record));
    raw.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('config', JSON.stringify(networkConfig()));
    raw.prepare('INSERT INTO changes (revision, type, payload) VALUES (?, ?, ?)').run(2, 'put', JSON.stringify(record));
    raw.pragma('user_version = 1');
    raw.close();

    const store = await SqliteStore.open(dir);
    const snap = await store.snapshot();
    expect(snap).toEqual({ revision: 2, config: networkConfig(), agents: [record] });
    const replayed: number[] = [];
    store.watch(1, (c) => replayed.push(c.revision));
    expect(replayed).toEqual([2]);
    const at = new Date().toISOString();
    await store.commit(
      [{ type: 'delete', ip: '10.0.0.1' }],
      [{ at, kind: 'freed', agent: '10.0.0.1', overlay: 'dcos', subnet: '44.128.0.0/24' }],
    );
    await store.close();
    const check = new Database(join(dir, 'vxnet.db'), { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(3);
    check.close();
    const again = await SqliteStore.open(dir);
    expect((await again.allocationHistory({ subnet: '44.128.0.0/24', limit: 10 })).events).toEqual([
      { at, kind: 'freed', agent: '10.0.0.1', overlay: 'dcos', subnet: '44.128.0.0/24' },
    ]);
    expect((await again.snapshot()).revision).toBe(3);
    await again.close();
  });

  it('reports a data path it cannot use as a directory', async () => {
    const file = join(tempDir(), 'plain-file');
    writeFileSync(file, 'x');
    const err = await openError(file);
    expect(err.message).toContain(`cannot use ${file} as the store directory (it is a file, not a directory)`);
    expect(err.message).toContain('pass --data a writable directory');
  });

  it('rejects every caller of a failed batch and writes nothing of it', async () => {
    const dir = tempDir();
    const store = await SqliteStore.open(dir, { maxDatabaseBytes: 64 * 1024 });
    const before = await store.commit([{ type: 'put', record: agentRecord('10.0.0.1', 0) }]);
    const huge = (ip: string, seq: number) =>
      agentRecord(ip, seq, { containers: [{ id: 'x'.repeat(40_000), network: 'dcos', ip: '44.128.0.2', interface: 'eth0' }] });
    const results = await Promise.allSettled([
      store.commit([{ type: 'put', record: agentRecord('10.0.0.2', 1) }]),
      store.commit([{ type: 'put', record: huge('10.0.0.3', 2) }]),
      store.commit([{ type: 'put', record: huge('10.0.0.4', 3) }]),
    ]);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      const reason = (r as PromiseRejectedResult).reason as VxnetError;
      expect(reason.code).toBe('STORE_UNAVAILABLE');
      expect(reason.message).toContain('nothing of them was stored');
    }
    const snap = await store.snapshot();
    expect(snap.revision).toBe(before);
    expect(snap.agents.map((a) => a.ip)).toEqual(['10.0.0.1']);
    expect(await store.commit([{ type: 'put', record: agentRecord('10.0.0.2', 1) }])).toBe(before + 1);
    await store.close();
    const reopened = await SqliteStore.open(dir);
    expect((await reopened.snapshot()).agents.map((a) => a.ip)).toEqual(['10.0.0.1', '10.0.0.2']);
    await reopened.close();
  });

  it('refuses a size cap that is not a positive whole number and keeps the directory usable', async () => {
    const dir = tempDir();
    const err: unknown = await SqliteStore.open(dir, { maxDatabaseBytes: Number.NaN }).catch((e: unknown) => e);
    expect(String(err)).toContain('maxDatabaseBytes is NaN: pass a positive whole number of bytes');
    await (await SqliteStore.open(dir)).close();
  });

  it('keeps only the newest changes for replay, also across reopen', async () => {
    const dir = tempDir();
    const store = await SqliteStore.open(dir, { historyLimit: 4 });
    for (let i = 0; i < 10; i++) await store.commit([{ type: 'put', record: agentRecord(`10.0.0.${i}`, i) }]);
    await store.close();
    const reopened = await SqliteStore.open(dir, { historyLimit: 4 });
    expect(() => reopened.watch(5, () => {})).toThrow('revision 5 is compacted; oldest retained is 7');
    const seen: number[] = [];
    reopened.watch(6, (c) => seen.push(c.revision));
    expect(seen).toEqual([7, 8, 9, 10]);
    await reopened.close();
  });
});

describe('SqliteStore before and during a start', () => {
  const many = (n: number) =>
    Array.from({ length: n }, (_, i) => ({
      type: 'put' as const,
      record: agentRecord(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, i),
    }));

  it('reads a snapshot in slices with the event loop free between them, in registration order', async () => {
    const store = await SqliteStore.open(tempDir());
    await store.commit([{ type: 'config', config: networkConfig() }, ...many(20_000)]);
    let turns = 0;
    const ticking = setInterval(() => turns++, 0);
    const snap = await store.snapshot();
    clearInterval(ticking);
    expect(turns).toBeGreaterThan(0);
    expect(snap.agents.map((a) => a.seq)).toEqual(Array.from({ length: 20_000 }, (_, i) => i));
    expect(snap.revision).toBe(20_001);
    expect(snap.config).toEqual(networkConfig());
    await store.close();
  });

  it('reads again when a commit lands between slices, so the snapshot is whole at its revision', async () => {
    const store = await SqliteStore.open(tempDir());
    await store.commit(many(20_000));
    const reading = store.snapshot();
    const late = agentRecord('172.16.0.1', 20_000);
    const committed = await store.commit([{ type: 'put', record: late }]);
    const snap = await reading;
    expect(snap.revision).toBe(committed);
    expect(snap.agents).toHaveLength(20_001);
    expect(snap.agents.at(-1)).toEqual(late);
    await store.close();
  });

  it('peeks at the revision, the config and single records without a snapshot', async () => {
    const store = await SqliteStore.open(tempDir());
    expect(store.peek()).toMatchObject({ revision: 0, config: undefined });
    await store.commit([{ type: 'config', config: networkConfig() }, ...many(3)]);
    const peek = store.peek();
    expect([peek.revision, peek.config]).toEqual([4, networkConfig()]);
    expect(peek.record('10.0.0.2')).toEqual(agentRecord('10.0.0.2', 2));
    expect(peek.record('10.0.0.9')).toBeUndefined();
    await store.close();
  });
});

describe('SqliteStore against damage and misuse', () => {
  const dbFile = (dir: string) => join(dir, 'vxnet.db');
  async function storeWithAgent(): Promise<string> {
    const dir = tempDir();
    const store = await SqliteStore.open(dir);
    await store.commit([{ type: 'config', config: networkConfig() }]);
    await store.commit([{ type: 'put', record: agentRecord('10.0.0.1', 0) }]);
    await store.close();
    return dir;
  }
  function tamper(dir: string, sql: string, ...args: unknown[]): void {
    const raw = new Database(dbFile(dir));
    raw.prepare(sql).run(...args);
    raw.close();
  }
  async function snapshotError(dir: string): Promise<string> {
    const store = await SqliteStore.open(dir);
    try {
      const err: unknown = await store.snapshot().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(VxnetError);
      return (err as VxnetError).message;
    } finally {
      await store.close();
    }
  }

  it.each([
    ['a null record', 'null', 'record is null but must be an agent record object'],
    ['a record without containers', JSON.stringify({ ...agentRecord('10.0.0.1', 0), containers: undefined }), 'record.containers is'],
    ['a record keyed by another ip', JSON.stringify(agentRecord('10.0.0.9', 0)), 'record.ip is "10.0.0.9" but the row is keyed "10.0.0.1"'],
    ['a record that is not JSON', '{"ip":', 'is not JSON'],
  ])('names the file and the agents row for %s', async (_name, record, what) => {
    const dir = await storeWithAgent();
    tamper(dir, "UPDATE agents SET record = ? WHERE ip = '10.0.0.1'", record);
    const message = await snapshotError(dir);
    expect(message).toContain(`the store is damaged at ${dbFile(dir)}, agents row "10.0.0.1": ${what}`);
    expect(message).toContain('restore');
    expect(message).not.toMatch(/Cannot read properties|NaN/);
  });

  it('names the file and the meta row for a revision that is not a number', async () => {
    const dir = await storeWithAgent();
    tamper(dir, "UPDATE meta SET value = 'seven' WHERE key = 'revision'");
    const err = await openError(dir);
    expect(err.message).toContain(`the store is damaged at ${dbFile(dir)}, meta row "revision": the revision is "seven"`);
    expect(err.message).not.toContain('NaN');
  });

  it('takes the revision from the newest change, not from meta, which commits no longer write (a crash leaves it behind)', async () => {
    const dir = tempDir();
    const store = await SqliteStore.open(dir);
    await store.commit([{ type: 'config', config: networkConfig() }]);
    await store.commit([{ type: 'put', record: agentRecord('10.0.0.1', 0) }]);
    await store.commit([{ type: 'put', record: agentRecord('10.0.0.2', 1) }]);
    await store.close();
    // What a crash leaves: meta holds the revision of an earlier clean stop.
    tamper(dir, "UPDATE meta SET value = '1' WHERE key = 'revision'");
    const again = await SqliteStore.open(dir);
    expect(again.peek().revision).toBe(3);
    expect(await again.commit([{ type: 'delete', ip: '10.0.0.1' }])).toBe(4);
    await again.close();
    const raw = new Database(dbFile(dir), { readonly: true });
    expect(raw.prepare("SELECT value FROM meta WHERE key = 'revision'").pluck().get()).toBe('4');
    raw.close();
  });

  it('ages allocation events out by their own times, across a reopen and when the clock went back', async () => {
    const dir = tempDir();
    const day = 86_400_000;
    let clock = Date.UTC(2024, 0, 1);
    const t0 = clock;
    const event = (i: number, atMs: number) => ({
      at: new Date(atMs).toISOString(),
      kind: 'allocated' as const,
      agent: `10.0.1.${i}`,
      vtepIp: `198.15.0.${i}`,
    });
    const agents = async (s: SqliteStore) => (await s.allocationHistory({ limit: 100 })).events.map((e) => e.agent);
    const store = await SqliteStore.open(dir, { allocationHistoryDays: 30, wallClock: () => clock });
    await store.commit([], [event(1, t0)]);
    clock = t0 - 10 * day; // the clock went back: this event is older than the oldest so far
    await store.commit([], [event(2, clock)]);
    clock = t0 + 25 * day; // event 2 is 35 days old, event 1 twenty-five
    await store.commit([], [event(3, clock)]);
    expect(await agents(store)).toEqual(['10.0.1.1', '10.0.1.3']);
    await store.close();

    clock = t0 + 31 * day; // after a reopen, event 1 is 31 days old
    const again = await SqliteStore.open(dir, { allocationHistoryDays: 30, wallClock: () => clock });
    await again.commit([], [event(4, clock)]);
    expect(await agents(again)).toEqual(['10.0.1.3', '10.0.1.4']);
    await again.close();
  });

  it('opens a version-2 file at its revision and marks it version 3', async () => {
    const dir = tempDir();
    const store = await SqliteStore.open(dir);
    await store.commit([{ type: 'config', config: networkConfig() }]);
    await store.commit([{ type: 'put', record: agentRecord('10.0.0.1', 0) }]);
    await store.close();
    tamper(dir, 'PRAGMA user_version = 2');
    const again = await SqliteStore.open(dir);
    expect((await again.snapshot()).revision).toBe(2);
    await again.close();
    const raw = new Database(dbFile(dir), { readonly: true });
    expect(raw.pragma('user_version', { simple: true })).toBe(3);
    raw.close();
  });

  it('names the changes row of a damaged change when a watcher replays it', async () => {
    const dir = await storeWithAgent();
    tamper(dir, 'UPDATE changes SET payload = ? WHERE revision = 2', 'null');
    const store = await SqliteStore.open(dir);
    expect(() => store.watch(0, () => {})).toThrow(`the store is damaged at ${dbFile(dir)}, changes row 2: record is null`);
    await store.close();
  });

  it('refuses an existing store file truncated to 0 bytes unless told to start empty', async () => {
    const dir = await storeWithAgent();
    writeFileSync(dbFile(dir), '');
    for (const suffix of ['-wal', '-shm']) rmSync(dbFile(dir) + suffix, { force: true });
    const err = await openError(dir);
    expect(err.message).toContain(`${dbFile(dir)} exists but holds no store`);
    expect(err.message).toContain('restore it from a backup');
    expect(err.message).toContain('--allow-empty-store');
    expect(existsSync(join(dir, 'vxnet.lock'))).toBe(false);
    const store = await SqliteStore.open(dir, { allowEmpty: true });
    expect(await store.snapshot()).toEqual({ revision: 0, agents: [] });
    await store.close();
    // Once started over, the file is a store again.
    await (await SqliteStore.open(dir)).close();
  });

  it('says a read-only store file is read-only, with the fix', async () => {
    const dir = await storeWithAgent();
    if (spawnSync('chattr', ['+i', dbFile(dir)]).status !== 0) return; // no immutable flag on this file system
    try {
      const err = await openError(dir);
      expect(err.message).toContain(`cannot open the store ${dbFile(dir)}: the file is read-only`);
      expect(err.message).toContain('chattr -i');
      expect(err.message).not.toContain('SQLITE_IOERR_LOCK');
    } finally {
      spawnSync('chattr', ['-i', dbFile(dir)]);
    }
  });

  it('takes over a lock whose PID now belongs to another process', async () => {
    const dir = tempDir();
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      await new Promise((ok) => other.once('spawn', ok));
      const started = readFileSync(`/proc/${other.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19]!;
      // Same PID, another start time: the owner is gone and its number was reused.
      writeFileSync(join(dir, 'vxnet.lock'), `${other.pid} ${Number(started) - 1}\n`);
      await (await SqliteStore.open(dir)).close();
      // A lock from an older vxnet (PID only) naming a process that is no vxnet master.
      writeFileSync(join(dir, 'vxnet.lock'), `${other.pid}\n`);
      await (await SqliteStore.open(dir)).close();
      // The same PID and start time is the owner: refused.
      writeFileSync(join(dir, 'vxnet.lock'), `${other.pid} ${started}\n`);
      expect((await openError(dir)).message).toContain(`another vxnet master (pid ${other.pid})`);
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('says why writes fail until one succeeds again', async () => {
    const store = await SqliteStore.open(tempDir(), { maxDatabaseBytes: 64 * 1024 });
    await store.commit([{ type: 'put', record: agentRecord('10.0.0.1', 0) }]);
    expect(store.writeTrouble()).toBeUndefined();
    const huge = agentRecord('10.0.0.2', 1, {
      containers: [{ id: 'x'.repeat(200_000), network: 'dcos', ip: '44.128.0.2', interface: 'eth0' }],
    });
    await expect(store.commit([{ type: 'put', record: huge }])).rejects.toThrow('nothing of them was stored');
    expect(store.writeTrouble()).toMatch(/the last write to .*vxnet\.db failed \(.*full/);
    await store.commit([{ type: 'put', record: agentRecord('10.0.0.2', 1) }]);
    expect(store.writeTrouble()).toBeUndefined();
    await store.close();
  });

  it('bounds the retained history by bytes and keeps the file near that size', async () => {
    const dir = tempDir();
    const historyBytes = 1024 * 1024;
    const store = await SqliteStore.open(dir, { historyBytes });
    const containers = (n: number, tag: string) =>
      Array.from({ length: n }, (_, i) => ({
        id: `${tag}${i}`.padEnd(64, '0'),
        network: 'dcos',
        ip: `44.128.${i >> 8}.${i & 255}`,
        interface: 'eth0',
      }));
    const a = agentRecord('10.0.0.1', 0, { containers: containers(440, 'a') });
    const b = agentRecord('10.0.0.1', 0, { containers: containers(440, 'b') });
    const recordBytes = JSON.stringify(a).length;
    let last = 0;
    // 300 puts of ~50 KB: 16 MB of history without the byte bound.
    for (let i = 0; i < 300; i++) last = await store.commit([{ type: 'put', record: i % 2 ? a : b }]);
    const size = (f: string) => (existsSync(f) ? statSync(f).size : 0);
    const onDisk = size(dbFile(dir)) + size(`${dbFile(dir)}-wal`);
    // History + one record + the WAL limit (4 MiB) + free pages kept (4 MiB) + slack.
    expect(onDisk).toBeLessThan(historyBytes + 9 * 1024 * 1024);
    // The newest changes still replay; older ones ask for a resync.
    const kept = Math.floor(historyBytes / recordBytes);
    const seen: number[] = [];
    store.watch(last - kept + 1, (c) => seen.push(c.revision));
    expect(seen.at(-1)).toBe(last);
    expect(() => store.watch(last - kept - 5, () => {})).toThrow('is compacted');
    await store.close();
  }, 60_000);
});
