// Several masters on etcd: registrations/s through a real `vxnet master
// --etcd` (sequential and 64 concurrent clients) and the EtcdStore alone,
// each beside the raw etcd transaction floor measured in the same run on the
// same 3-member loopback cluster. Run: npx tsx bench/etcd.bench.ts
import { rm, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { EtcdStore } from '../src/store/etcd/etcd-store.js';
import type { AgentRecord } from '../src/store/store.js';
import { startEtcdCluster } from '../test/integration/fixtures/etcd/cluster.js';
import { startEtcdMaster, stopAllMasters, waitForLeader } from '../test/integration/fixtures/etcd/masters.js';
import { cleanup, startMaster } from '../test/integration/fixtures/master/master-process.js';

const SEQUENTIAL = 300;
const CONCURRENT = 3_000;
const CLIENTS = 64;

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
async function load(count: number, clients: number, call: (i: number) => Promise<void>) {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < count) {
        const i = next++;
        const t = performance.now();
        await call(i);
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
  show(`floor: raw etcd txn, sequential (${SEQUENTIAL})`, await load(SEQUENTIAL, 1, txn('/floor-seq')));
  show(`floor: raw etcd txn, ${CLIENTS} concurrent (${CONCURRENT})`, await load(CONCURRENT, CLIENTS, txn('/floor-par')));
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

  const config = join(dir, 'config.json');
  await writeFile(
    config,
    JSON.stringify({
      dcos_overlay_network: {
        vtep_subnet: '198.15.0.0/18',
        vtep_mac_oui: '70:B3:D5:00:00:00',
        overlays: [{ name: 'dcos', subnet: '44.128.0.0/12', prefix: 24 }],
      },
    }),
  );
  const masters = [
    await startEtcdMaster({ endpoints: cluster.endpoints, prefix: '/bench-master', config }),
    await startEtcdMaster({ endpoints: cluster.endpoints, prefix: '/bench-master', config }),
  ];
  const leader = await waitForLeader(masters);
  const register = async (i: number, url = leader.url) => {
    const res = await fetch(`${url}/overlay-master/agents`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ip: ipOf(i + 1) }),
    });
    if (res.status !== 200) throw new Error(`registration ${i} answered ${res.status}: ${await res.text()}`);
    await res.arrayBuffer();
  };
  show(`master --etcd registrations, sequential (${SEQUENTIAL})`, await load(SEQUENTIAL, 1, register));
  show(
    `master --etcd registrations, ${CLIENTS} concurrent (${CONCURRENT})`,
    await load(CONCURRENT, CLIENTS, (i) => register(SEQUENTIAL + i)),
  );
  const state = (await (await fetch(`${leader.url}/overlay-master/state`)).json()) as {
    agents: { overlays: { backend: { vxlan: { vtep_ip: string } } }[] }[];
  };
  const vteps = state.agents.map((a) => a.overlays[0]!.backend.vxlan.vtep_ip);
  console.log(`  agents stored ${state.agents.length}, duplicate VTEPs ${vteps.length - new Set(vteps).size}`);
  // Reference from the same run: the same load on a single master with SQLite.
  const single = await startMaster({ config, data: join(dir, 'sqlite') });
  show(
    `reference: master --data (SQLite), ${CLIENTS} concurrent (${CONCURRENT})`,
    await load(CONCURRENT, CLIENTS, (i) => register(i + 1, single.url)),
  );
  await single.stop();
} finally {
  await stopAllMasters();
  await cleanup([]);
  await cluster.stop();
  await rm(dir, { recursive: true, force: true });
}
