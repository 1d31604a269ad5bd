// Network reload with several masters on a real 3-member etcd cluster: a
// standby refuses POST /overlay-master/network/reload with 503 NOT_LEADER
// naming the leader; the leader applies it and the standby's reads follow;
// a config a standby re-read on SIGHUP is what it leads with once the leader
// is killed (by PID). Every wait is for an event, with a generous ceiling.

import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MasterState } from '../../src/api/types.js';
import { type EtcdCluster, startEtcdCluster } from './fixtures/etcd/cluster.js';
import { type EtcdMaster, startEtcdMaster, stopAllMasters, waitForLeader } from './fixtures/etcd/masters.js';
import { call, tempDir, writeConfig } from './fixtures/master/master-process.js';

const ADMIN = 'admin-token-0123456789abcdef';
const admin = { authorization: `Bearer ${ADMIN}` };
const JOIN = 'join-token-0123456789abcdefgh';
const base = {
  vtep_subnet: '198.15.0.0/20',
  vtep_mac_oui: '70:B3:D5:00:00:00',
  overlays: [{ name: 'dcos', subnet: '44.128.0.0/16', prefix: 24 }],
};
const EXTRA = { name: 'extra', subnet: '44.129.0.0/16', prefix: 24 };
const LATER = { name: 'later', subnet: '44.130.0.0/16', prefix: 24 };

let cluster: EtcdCluster;
let dir: string;

beforeAll(async () => {
  cluster = await startEtcdCluster(3);
  dir = await tempDir('vxnet-etcd-reload-');
  await writeFile(join(dir, 'admin'), ADMIN);
  await writeFile(join(dir, 'join'), JOIN);
});
afterAll(async () => {
  await stopAllMasters();
  await cluster?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Polls `check` every 50 ms until it returns a value, for at most 30 s. */
async function until<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const state = async (m: EtcdMaster): Promise<MasterState> => {
  const r = await call<MasterState>(m.url, 'GET', '/overlay-master/state');
  if (r.status !== 200) throw new Error(`GET ${m.url}/overlay-master/state: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
};
const overlaysOf = (s: MasterState): string[] => s.network.overlays.map((o) => o.name);
const subnetsOf = (s: MasterState, ip: string): Record<string, string | undefined> =>
  Object.fromEntries(s.agents.find((a) => a.ip === ip)!.overlays.map((o) => [o.info.name, o.subnet]));

describe('network reload with several masters', () => {
  it('standby: 503 NOT_LEADER naming the leader; leader: applies it, and the standby reads the new config; a standby SIGHUP is used when it leads', async () => {
    // Each master has its own copy of the config, as on separate hosts.
    const files = [await writeConfig(dir, 'a.json', base), await writeConfig(dir, 'b.json', base)];
    const prefix = `/reload${process.pid}`;
    const extra = ['--admin-token-file', join(dir, 'admin'), '--token-file', join(dir, 'join')];
    const all = [
      await startEtcdMaster({ endpoints: cluster.endpoints, prefix, config: files[0], extra }),
      await startEtcdMaster({ endpoints: cluster.endpoints, prefix, config: files[1], extra }),
    ];
    const leader = await waitForLeader(all);
    const standby = all.find((m) => m !== leader)!;
    const standbyFile = files[all.indexOf(standby)]!;
    expect((await call(leader.url, 'POST', '/overlay-master/agents', { ip: '10.0.0.1' }, { authorization: `Bearer ${JOIN}` })).status).toBe(
      200,
    );
    await until('the standby to serve reads and know the leader', async () => {
      const h = (await call(standby.url, 'GET', '/healthz')).body as { status?: string; leader?: string };
      return (h.status === 'standby' && h.leader === leader.url) || undefined;
    });

    // The operator edits every master's file, then reloads.
    for (const f of files) await writeConfig(dir, f.slice(dir.length + 1), { ...base, overlays: [...base.overlays, EXTRA] });
    const refused = await call(standby.url, 'POST', '/overlay-master/network/reload', {}, admin);
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('NOT_LEADER');
    expect(refused.body.error.message).toContain(`the leader is ${leader.url}`);
    expect(overlaysOf(await state(standby))).toEqual(['dcos']);

    const applied = await call(leader.url, 'POST', '/overlay-master/network/reload', {}, admin);
    expect(applied.status).toBe(200);
    expect(applied.body).toMatchObject({ added: ['extra'], agents: 1 });
    // The standby's reads follow etcd: the new config, and the agent's new subnet.
    const followed = await until('the standby to list overlay extra', async () => {
      const s = await state(standby);
      return overlaysOf(s).includes('extra') && subnetsOf(s, '10.0.0.1').extra ? s : undefined;
    });
    expect(overlaysOf(followed)).toEqual(['dcos', 'extra']);
    expect(subnetsOf(followed, '10.0.0.1')).toEqual({ dcos: '44.128.0.0/24', extra: '44.129.0.0/24' });

    // SIGHUP on the standby re-reads its file (adding `later`), and changes nothing until it leads.
    await writeConfig(dir, standbyFile.slice(dir.length + 1), { ...base, overlays: [...base.overlays, EXTRA, LATER] });
    expect(JSON.parse(await readFile(standbyFile, 'utf8')).dcos_overlay_network.overlays).toHaveLength(3);
    process.kill(standby.child.pid!, 'SIGHUP');
    await until(
      'the standby to re-read its config',
      async () => standby.output().includes('SIGHUP: standby: re-read the config; it is applied when this master leads') || undefined,
    );
    expect(overlaysOf(await state(leader))).toEqual(['dcos', 'extra']);

    // The leader dies: the standby takes over with what it re-read.
    const killedAt = performance.now();
    await leader.kill();
    expect(await waitForLeader([standby])).toBe(standby);
    const led = await until('the new leader to apply overlay later', async () => {
      const s = await state(standby);
      return subnetsOf(s, '10.0.0.1').later ? s : undefined;
    });
    console.log(`leader killed → standby leads with its re-read config: ${Math.round(performance.now() - killedAt)} ms`);
    expect(overlaysOf(led)).toEqual(['dcos', 'extra', 'later']);
    expect(subnetsOf(led, '10.0.0.1')).toEqual({ dcos: '44.128.0.0/24', extra: '44.129.0.0/24', later: '44.130.0.0/24' });
  });

  it('a takeover keeps what the old leader reloaded, even when the standby read its file before that reload', async () => {
    const files = [await writeConfig(dir, 'c.json', base), await writeConfig(dir, 'd.json', base)];
    const prefix = `/takeover${process.pid}`;
    const extra = ['--admin-token-file', join(dir, 'admin'), '--token-file', join(dir, 'join')];
    const all = [
      await startEtcdMaster({ endpoints: cluster.endpoints, prefix, config: files[0], extra }),
      await startEtcdMaster({ endpoints: cluster.endpoints, prefix, config: files[1], extra }),
    ];
    const leader = await waitForLeader(all);
    const standby = all.find((m) => m !== leader)!;
    const leaderFile = files[all.indexOf(leader)]!;
    expect((await call(leader.url, 'POST', '/overlay-master/agents', { ip: '10.0.0.1' }, { authorization: `Bearer ${JOIN}` })).status).toBe(
      200,
    );
    // Only the leader's file gains `extra`; the standby's copy (read at its start) does not.
    await writeConfig(dir, leaderFile.slice(dir.length + 1), { ...base, overlays: [...base.overlays, EXTRA] });
    expect((await call(leader.url, 'POST', '/overlay-master/network/reload', {}, admin)).status).toBe(200);
    await until('the standby to list overlay extra', async () => (overlaysOf(await state(standby)).includes('extra') ? true : undefined));

    await leader.kill();
    expect(await waitForLeader([standby])).toBe(standby);
    // The new leader answers writes, and `extra` and the agent's subnet in it are still there.
    await until('the new leader to answer a registration', async () => {
      const r = await call(standby.url, 'POST', '/overlay-master/agents', { ip: '10.0.0.2' }, { authorization: `Bearer ${JOIN}` });
      return r.status === 200 ? true : undefined;
    });
    const s = await state(standby);
    expect(overlaysOf(s)).toEqual(['dcos', 'extra']);
    expect(subnetsOf(s, '10.0.0.1')).toEqual({ dcos: '44.128.0.0/24', extra: '44.129.0.0/24' });
  });
});
