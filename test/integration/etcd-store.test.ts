// The store contract against a real 3-member etcd cluster, plus what only
// etcd has: fencing, other writers, an etcd member dying, etcd gone.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Etcd3 } from 'etcd3';
import { VxnetError } from '../../src/errors.js';
import { agentRecord, networkConfig, runStoreContract } from '../../src/store/contract.case.test.js';
import { EtcdStore, type Fence } from '../../src/store/etcd/etcd-store.js';
import type { StoredChange } from '../../src/store/store.js';
import { type EtcdCluster, startEtcdCluster } from './fixtures/etcd/cluster.js';

let cluster: EtcdCluster;
let n = 0;
const prefix = (): string => `/t${process.pid}-${Date.now()}-${n++}`;

beforeAll(async () => {
  cluster = await startEtcdCluster(3);
});
afterAll(async () => {
  await cluster?.stop();
});

runStoreContract('etcd', (options) => EtcdStore.open(cluster.endpoints, { ...options, prefix: prefix() }));

async function rejection(p: Promise<unknown>): Promise<VxnetError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(VxnetError);
  return err as VxnetError;
}

/** Holds a lease-bound key like an elected master does; `revoke` deposes it. */
async function leaderKey(client: Etcd3, key: string): Promise<{ fence: Fence; revoke: () => Promise<void> }> {
  const lease = client.lease(30, { autoKeepAlive: false });
  await lease.put(key).value('master').exec();
  const kv = (await client.get(key).exec()).kvs[0]!;
  return { fence: { key, createRevision: String(kv.create_revision) }, revoke: () => lease.revoke() };
}

describe('EtcdStore on etcd', () => {
  it("refuses a deposed leader's write and keeps the new leader's allocation", async () => {
    const p = prefix();
    const a = await EtcdStore.open(cluster.endpoints, { prefix: p });
    const lost: string[] = [];
    const b = await EtcdStore.open(cluster.endpoints, { prefix: p, onLost: (e) => lost.push(e.code) });
    const client = new Etcd3({ hosts: cluster.endpoints });
    try {
      const first = await leaderKey(client, `${p}/election/a`);
      b.setFence(first.fence);
      await b.commit([{ type: 'put', record: agentRecord('10.0.0.1', 0) }]);
      await first.revoke(); // b is deposed
      const second = await leaderKey(client, `${p}/election/b`);
      a.setFence(second.fence);
      await a.snapshot(); // catches up with b's write
      await a.commit([{ type: 'put', record: agentRecord('10.0.0.2', 1) }]);
      const err = await rejection(
        b.commit([{ type: 'put', record: agentRecord('10.0.0.9', 1, { overlays: { dcos: { subnet: '44.128.1.0/24' } } }) }]),
      );
      expect(err.code).toBe('NOT_LEADER');
      expect(err.message).toContain('no longer the leader');
      expect(lost).toEqual(['NOT_LEADER']);
      const snap = await a.snapshot();
      expect(snap.agents.map((r) => r.ip)).toEqual(['10.0.0.1', '10.0.0.2']);
      expect(snap.revision).toBe(2);
      await second.revoke();
    } finally {
      client.close();
      await a.close();
      await b.close();
    }
  });

  it("delivers another store's commits to watchers, and a new store replays them exactly", async () => {
    const p = prefix();
    const writer = await EtcdStore.open(cluster.endpoints, { prefix: p });
    const reader = await EtcdStore.open(cluster.endpoints, { prefix: p });
    const seen: StoredChange[] = [];
    reader.watch(0, (c) => seen.push(c));
    await writer.commit([
      { type: 'config', config: networkConfig() },
      { type: 'put', record: agentRecord('10.0.0.1', 0) },
    ]);
    await writer.commit([{ type: 'delete', ip: '10.0.0.1' }]);
    for (let i = 0; i < 100 && seen.length < 3; i++) await new Promise((r) => setTimeout(r, 20));
    expect(seen.map((c) => [c.type, c.revision])).toEqual([
      ['config', 1],
      ['put', 2],
      ['delete', 3],
    ]);
    const late = await EtcdStore.open(cluster.endpoints, { prefix: p });
    const replay: StoredChange[] = [];
    late.watch(1, (c) => replay.push(c));
    expect(replay).toEqual(seen.slice(1));
    // The reader's mirror is current, so it may write next (no other writer in between).
    expect(await reader.commit([{ type: 'put', record: agentRecord('10.0.0.3', 2) }])).toBe(4);
    await Promise.all([writer.close(), reader.close(), late.close()]);
  });

  it('refuses a write built on a stale view (another writer went first)', async () => {
    const p = prefix();
    const a = await EtcdStore.open(cluster.endpoints, { prefix: p });
    const b = await EtcdStore.open(cluster.endpoints, { prefix: p });
    // Both believe the store is at revision 0; whoever commits second must not overwrite.
    const results = await Promise.allSettled([
      a.commit([{ type: 'put', record: agentRecord('10.0.0.1', 0) }]),
      b.commit([{ type: 'put', record: agentRecord('10.0.0.2', 0) }]),
    ]);
    const ok = results.filter((r) => r.status === 'fulfilled');
    expect(ok).toHaveLength(1);
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect((failed.reason as VxnetError).message).toContain('was changed by another writer');
    expect((await a.snapshot()).agents).toHaveLength(1);
    await Promise.all([a.close(), b.close()]);
  });
});
