import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
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
    expect(readFileSync(join(dir, 'vxnet.lock'), 'utf8').trim()).toBe(String(process.pid));
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
      expect(readFileSync(join(dir, 'vxnet.lock'), 'utf8').trim()).toBe(String(process.pid));
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

  it('refuses a database from a newer schema and a foreign SQLite file', async () => {
    const newer = tempDir();
    await (await SqliteStore.open(newer)).close();
    const raw = new Database(join(newer, 'vxnet.db'));
    raw.pragma('user_version = 2');
    raw.close();
    expect((await openError(newer)).message).toContain('was written by a newer vxnet (schema 2; this one knows 1)');

    const foreign = tempDir();
    const other = new Database(join(foreign, 'vxnet.db'));
    other.exec('CREATE TABLE photos (id INTEGER)');
    other.close();
    expect((await openError(foreign)).message).toContain('is an SQLite file but not a vxnet store');
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
