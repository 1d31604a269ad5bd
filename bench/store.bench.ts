// Store throughput: the raw one-fsync-per-row floor next to group commit of
// 10,000 changes from 64 concurrent callers. Run: npx tsx bench/store.bench.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentRecord } from '../src/store/store.js';
import { measureRawSqliteCommit } from './commit-floor.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';

const FLOOR_COMMITS = 500;
const CHANGES = 10_000;
const CALLERS = 64;

const record = (i: number): AgentRecord => ({
  ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
  seq: i,
  networkConfig: { allocate_subnet: true, mesos_bridge: true, docker_bridge: true },
  vtepIp: `198.15.${(i >> 8) & 255}.${i & 255}`,
  vtepMac: '70:b3:d5:0f:00:01',
  overlays: { 'dcos-1': { subnet: '192.168.0.0/24' }, 'dcos-2': { subnet: '192.168.128.0/24' } },
  status: {},
  containers: [],
});

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

async function groupCommit(dir: string) {
  let batches = 0;
  const store = await SqliteStore.open(dir, { onFlush: () => (batches += 1) });
  const latencies: number[] = [];
  let next = 0;
  const caller = async (): Promise<void> => {
    while (next < CHANGES) {
      const i = next++;
      const t = performance.now();
      await store.commit([{ type: 'put', record: record(i) }]);
      latencies.push(performance.now() - t);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: CALLERS }, caller));
  const ms = performance.now() - started;
  const stored = (await store.snapshot()).agents.length;
  await store.close();
  // What a master restart pays before it can answer: open (with its integrity check) plus a snapshot.
  const reopenStarted = performance.now();
  const reopened = await SqliteStore.open(dir);
  await reopened.snapshot();
  const reopenMs = performance.now() - reopenStarted;
  await reopened.close();
  latencies.sort((a, b) => a - b);
  return {
    perSecond: (CHANGES * 1000) / ms,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    batches,
    stored,
    reopenMs,
  };
}

const dir = mkdtempSync(join(tmpdir(), 'vxnet-store-bench-'));
try {
  const floor = measureRawSqliteCommit(join(dir, 'floor'), FLOOR_COMMITS);
  const group = await groupCommit(join(dir, 'store'));
  const f = (x: number) => x.toFixed(2);
  console.log(
    `floor: ${FLOOR_COMMITS} single-row INSERT+COMMIT (WAL, synchronous=FULL): ${Math.round(floor.perSecond)}/s, p50 ${f(floor.p50Ms)} ms, p99 ${f(floor.p99Ms)} ms`,
  );
  console.log(
    `group commit: ${CHANGES} changes from ${CALLERS} concurrent callers: ${Math.round(group.perSecond)}/s, p50 ${f(group.p50Ms)} ms, p99 ${f(group.p99Ms)} ms, ` +
      `${group.batches} transactions (${(CHANGES / group.batches).toFixed(1)} changes each), ${group.stored} stored, ${(group.perSecond / floor.perSecond).toFixed(1)}x the floor`,
  );
  console.log(`reopen with ${group.stored} agents: open + snapshot in ${f(group.reopenMs)} ms`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
