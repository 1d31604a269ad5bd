// Benchmark helper, not product code: the floor the master's and the store's
// benchmarks compare against. One plain INSERT, each its own transaction (one
// fsync), at the store's durability pragmas.

import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { VxnetError } from '../src/errors.js';
import { applyDurablePragmas } from '../src/store/sqlite/schema.js';

export interface CommitFloor {
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

/** Times `n` single-row INSERT+COMMITs in a scratch file under `dir` (removed afterwards). */
export function measureRawSqliteCommit(dir: string, n: number): CommitFloor {
  if (!Number.isSafeInteger(n) || n < 1) throw new VxnetError('BAD_REQUEST', `n is ${String(n)}: pass a positive whole number of commits`);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `commit-floor-${process.pid}.db`);
  const db = new Database(file);
  try {
    applyDurablePragmas(db);
    db.exec('CREATE TABLE rows (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
    const insert = db.prepare<[string]>('INSERT INTO rows (body) VALUES (?)');
    const body = JSON.stringify({ ip: '10.0.0.1', vtepIp: '198.15.0.1', overlays: { 'dcos-1': { subnet: '192.168.0.0/24' } } });
    const times: number[] = [];
    const started = performance.now();
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      insert.run(body);
      times.push(performance.now() - t);
    }
    const total = performance.now() - started;
    times.sort((a, b) => a - b);
    return { perSecond: (n * 1000) / total, p50Ms: percentile(times, 0.5), p99Ms: percentile(times, 0.99) };
  } finally {
    db.close();
    for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(file + suffix, { force: true });
  }
}
