// Several masters on etcd. Goal (g) of issue 10: `vxnet master --etcd` with
// 64 clients against one raw etcd transaction per agent (64 in flight), as
// medians over interleaved repetitions (master, floor, master, floor …) on
// the same 3-member loopback cluster. Then, for reference, sequential
// figures and the EtcdStore alone. Run: npm run bench:etcd (BENCH_REPS, default 3).
import { rm, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { EtcdStore } from '../src/store/etcd/etcd-store.js';
import type { AgentRecord } from '../src/store/store.js';
import { LeanConnection } from './master-harness.js';
import { startEtcdCluster } from '../test/integration/fixtures/etcd/cluster.js';
import { startEtcdMaster, stopAllMasters, waitForLeader } from '../test/integration/fixtures/etcd/masters.js';
import { cleanup, startMaster } from '../test/integration/fixtures/master/master-process.js';

const SEQUENTIAL = 300;
const CONCURRENT = 3_000;
const CLIENTS = 64;
const REPS = Number(process.env.BENCH_REPS ?? 3);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? Number.NaN;

const ipOf = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
const record = (i: number): AgentRecord => ({
  ip: ipOf(i),
  seq: i,
  networkConfig: { allocate_subnet: true, mesos_bridge: true, docker_bridge: true },
  vtepIp: `198.15.${(i >> 8) & 255}.${i & 255}`,
  vtepMac: '70:b3:d5:0f:00:01',
  overlays: { 'dcos-1': { subnet: '192.168.0.0/24' } },
  status: {},
  containers: [],
});
const p = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? 0;

/** Runs `count` calls with `clients` in flight: per second, p50 and p99 in ms. */
async function load(count: number, clients: number, call: (i: number, client: number) => Promise<void>) {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      while (next < count) {
        const i = next++;
        const t = performance.now();
        await call(i, client);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const ms = performance.now() - started;
  latencies.sort((a, b) => a - b);
  return { perSecond: (count * 1000) / ms, p50: p(latencies, 0.5), p99: p(latencies, 0.99) };
}

const show = (label: string, r: { perSecond: number; p50: number; p99: number }) =>
  console.log(
    `${label.padEnd(58)} ${String(Math.round(r.perSecond)).padStart(6)}/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms`,
  );

const cluster = await startEtcdCluster(3);
const dir = await mkdtemp(join(tmpdir(), 'vxnet-etcd-bench-'));
try {
  // Floor: one etcd transaction per agent (compare + put of a record-sized value), as raw as the client gets.
  const raw = new Etcd3({ hosts: cluster.endpoints });
  const value = JSON.stringify(record(1));
  const txn = (prefix: string) => async (i: number) => {
    await raw
      .if(`${prefix}/${i}`, 'Version', '==', 0)
      .then(raw.put(`${prefix}/${i}`).value(value))
      .commit();
  };

  const config = join(dir, 'config.json');
  await writeFile(
    config,
    JSON.stringify({
      dcos_overlay_network: {
        vtep_subnet: '198.15.0.0/16',
        vtep_mac_oui: '70:B3:D5:00:00:00',
        overlays: [{ name: 'dcos', subnet: '44.128.0.0/10', prefix: 24 }],
      },
    }),
  );
  const masters = [
    await startEtcdMaster({ endpoints: cluster.endpoints, prefix: '/bench-master', config }),
    await startEtcdMaster({ endpoints: cluster.endpoints, prefix: '/bench-master', config }),
  ];
  const leader = await waitForLeader(masters);
  // Lean keep-alive connections (master-harness.ts), one per client: fetch() costs the 2-core machine more CPU than the master.
  const pools = new Map<string, LeanConnection[]>();
  const connection = (url: string, slot: number): LeanConnection => {
    const pool = pools.get(url) ?? [];
    pools.set(url, pool);
    pool[slot] ??= new LeanConnection({ url: new URL(url) });
    return pool[slot];
  };
  const register = async (i: number, url = leader.url, slot = 0) => {
    const res = await connection(url, slot).post('/overlay-master/agents', JSON.stringify({ ip: ipOf(i + 1) }));
    if (res.status !== 200) throw new Error(`registration ${i} answered ${res.status}: ${res.text}`);
  };

  // (g): interleaved, medians.
  const figures: number[] = [];
  const floors: number[] = [];
  let next = 0;
  for (let r = 0; r < REPS; r++) {
    const first = next;
    next += CONCURRENT;
    figures.push((await load(CONCURRENT, CLIENTS, (i, c) => register(first + i, leader.url, c))).perSecond);
    floors.push((await load(CONCURRENT, CLIENTS, txn(`/floor-par-${r}`))).perSecond);
  }
  const ratio = median(figures) / median(floors);
  console.log(
    `${`(g) master --etcd, ${CLIENTS} clients (${CONCURRENT} x ${REPS})`.padEnd(46)} ${`${median(figures).toFixed(0)}/s`.padEnd(22)} ` +
      `floor ${`${median(floors).toFixed(0)}/s raw etcd txn, ${CLIENTS} in flight`.padEnd(34)} ${ratio.toFixed(2)}x  [${ratio >= 1 ? 'met' : 'MISSED'}: >= 1x]`,
  );
  console.log(`    reps: ${figures.map((x) => x.toFixed(0)).join(', ')}/s; floors: ${floors.map((x) => x.toFixed(0)).join(', ')}/s`);

  console.log('reference figures (single runs):');
  show(`floor: raw etcd txn, sequential (${SEQUENTIAL})`, await load(SEQUENTIAL, 1, txn('/floor-seq')));
  show(`master --etcd registrations, sequential (${SEQUENTIAL})`, await load(SEQUENTIAL, 1, (i) => register(next + i)));
  next += SEQUENTIAL;
  const state = (await (await fetch(`${leader.url}/overlay-master/state`)).json()) as {
    agents: { overlays: { backend: { vxlan: { vtep_ip: string } } }[] }[];
  };
  const vteps = state.agents.map((a) => a.overlays[0]!.backend.vxlan.vtep_ip);
  console.log(`  agents stored ${state.agents.length}, duplicate VTEPs ${vteps.length - new Set(vteps).size}`);
  raw.close();

  const store = await EtcdStore.open(cluster.endpoints, { prefix: '/bench-store' });
  show(
    `EtcdStore.commit, sequential (${SEQUENTIAL})`,
    await load(SEQUENTIAL, 1, async (i) => void (await store.commit([{ type: 'put', record: record(i) }]))),
  );
  let batches = 0;
  const grouped = await EtcdStore.open(cluster.endpoints, { prefix: '/bench-group', onFlush: () => (batches += 1) });
  show(
    `EtcdStore.commit, ${CLIENTS} concurrent (${CONCURRENT})`,
    await load(CONCURRENT, CLIENTS, async (i) => void (await grouped.commit([{ type: 'put', record: record(i) }]))),
  );
  console.log(`  (${batches} etcd transactions for ${CONCURRENT} commits)`);
  await Promise.all([store.close(), grouped.close()]);

  // The same load on a single master with SQLite.
  const single = await startMaster({ config, data: join(dir, 'sqlite') });
  show(
    `master --data (SQLite), ${CLIENTS} concurrent (${CONCURRENT})`,
    await load(CONCURRENT, CLIENTS, (i, c) => register(i + 1, single.url, c)),
  );
  await single.stop();
  for (const pool of pools.values()) for (const c of pool) c.close();
} finally {
  await stopAllMasters();
  await cleanup([]);
  await cluster.stop();
  await rm(dir, { recursive: true, force: true });
}
