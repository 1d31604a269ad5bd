// Removing an overlay from masters on etcd: the refusal names a command that
// works as shown, and that command refuses while any master runs.

import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MasterState } from '../../src/api/types.js';
import { type EtcdCluster, startEtcdCluster } from './fixtures/etcd/cluster.js';
import { startEtcdMaster, stopAllMasters, waitForLeader } from './fixtures/etcd/masters.js';
import { runCli, tempDir, writeConfig } from './fixtures/master/master-process.js';

const dcos = { name: 'dcos', subnet: '44.128.0.0/16', prefix: 24 };
const extra = { name: 'extra', subnet: '44.192.0.0/16', prefix: 24 };
const base = { vtep_subnet: '198.15.0.0/20', vtep_mac_oui: '70:B3:D5:00:00:00' };

let cluster: EtcdCluster;
let dir: string;
beforeAll(async () => {
  cluster = await startEtcdCluster(1);
  dir = await tempDir('vxnet-etcd-netdel-');
});
afterAll(async () => {
  await stopAllMasters();
  await cluster?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('vxnet network delete --etcd', () => {
  it('frees a removed overlay once every master is stopped, so the masters start again', async () => {
    const prefix = `/netdel${process.pid}`;
    const etcd = cluster.endpoints.join(',');
    const both = await writeConfig(dir, 'both.json', { ...base, overlays: [dcos, extra] });
    const smaller = await writeConfig(dir, 'smaller.json', { ...base, overlays: [dcos] });

    const master = await waitForLeader([await startEtcdMaster({ endpoints: cluster.endpoints, prefix, config: both })]);
    for (const ip of ['10.0.0.1', '10.0.0.2']) {
      const res = await fetch(`${master.url}/overlay-master/agents`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ip }),
      });
      expect(res.status).toBe(200);
    }
    // A container on extra: a master started without extra refuses (a removal without containers is a delete).
    const containers = await fetch(`${master.url}/overlay-master/agents/10.0.0.1/containers`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ containers: [{ id: 'c1', network: 'extra', ip: '44.192.0.2', interface: 'eth0', runtime: 'cni' }] }),
    });
    expect(containers.status).toBe(200);

    const whileRunning = await runCli(['network', 'delete', 'extra', '--etcd', etcd, '--etcd-prefix', prefix]);
    expect(whileRunning.code).toBe(1);
    expect(whileRunning.stderr).toContain(`vxnet master(s) are running on etcd prefix ${prefix}`);
    expect(await master.stop()).toBe(0);

    // A master started with a file that lacks `extra` leads with the stored config (a stale copy of the
    // file must never undo what the cluster runs) and says so; nothing is freed.
    const edited = await waitForLeader([await startEtcdMaster({ endpoints: cluster.endpoints, prefix, config: smaller })]);
    const kept = (await (await fetch(`${edited.url}/overlay-master/state`)).json()) as MasterState;
    expect(kept.network.overlays.map((o) => o.name)).toEqual(['dcos', 'extra']);
    expect(edited.output()).toContain("this master's --config differs from the stored network config; leading with the stored one");
    expect(await edited.stop()).toBe(0);

    const fix = `vxnet network delete extra --etcd ${etcd} --etcd-prefix ${prefix}`;
    const deleted = await runCli(fix.split(' ').slice(1));
    expect(deleted.stderr).toBe('');
    expect(deleted.stdout).toContain('deleted overlay extra from etcd (prefix');
    expect(deleted.stdout).toContain('freed its subnets on 2 agent(s)');

    const again = await waitForLeader([await startEtcdMaster({ endpoints: cluster.endpoints, prefix, config: smaller })]);
    const state = (await (await fetch(`${again.url}/overlay-master/state`)).json()) as MasterState;
    expect(state.agents.map((a) => a.overlays.map((o) => `${a.ip} ${o.info.name} ${o.subnet}`))).toEqual([
      ['10.0.0.1 dcos 44.128.0.0/24'],
      ['10.0.0.2 dcos 44.128.1.0/24'],
    ]);
  });

  it('asks for exactly one store', async () => {
    const r = await runCli(['network', 'delete', 'extra']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('give exactly one store: --data DIR');
  });
});
