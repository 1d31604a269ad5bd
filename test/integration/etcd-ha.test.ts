// Several masters on a real 3-member etcd cluster: election, standby answers,
// failover during a registration storm, an agent's watch across failover,
// etcd losing its leader, and etcd gone entirely. Every wait is for an event,
// with a generous ceiling; takeover times are printed, and measured in bench/.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AgentInfo, MasterState, WatchEvent } from '../../src/api/types.js';
import { MasterClient } from '../../src/agent/master-client.js';
import { type EtcdCluster, startEtcdCluster } from './fixtures/etcd/cluster.js';
import { type EtcdMaster, startEtcdMaster, stopAllMasters, waitForLeader } from './fixtures/etcd/masters.js';
import { tempDir, writeConfig } from './fixtures/master/master-process.js';
import { rm } from 'node:fs/promises';
import { Etcd3 } from 'etcd3';

let cluster: EtcdCluster;
let dir: string;
let config: string;
let n = 0;
const prefix = (): string => `/ha${process.pid}-${n++}`;
let lastPrefix = '';

beforeAll(async () => {
  cluster = await startEtcdCluster(3);
  dir = await tempDir('vxnet-ha-');
  // 1,024 agent subnets: a storm never runs into exhaustion.
  config = await writeConfig(dir, 'config.json', {
    vtep_subnet: '198.15.0.0/20',
    vtep_mac_oui: '70:B3:D5:00:00:00',
    overlays: [{ name: 'dcos', subnet: '44.128.0.0/14', prefix: 24 }],
  });
});
afterEach(async () => {
  await stopAllMasters();
});
afterAll(async () => {
  await stopAllMasters();
  await cluster?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function post(url: string, path: string, body: unknown, timeoutMs = 15_000): Promise<{ status: number; body: any; ms: number }> {
  const started = Date.now();
  const res = await fetch(url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  return { status: res.status, body: await res.json(), ms: Date.now() - started };
}

/** Registers like an agent: rotates through the masters until one answers 200 (or the deadline passes). */
async function registerAnywhere(urls: string[], ip: string, deadlineMs = 30_000, answeredBy?: (url: string) => void): Promise<AgentInfo> {
  const deadline = Date.now() + deadlineMs;
  for (let i = 0; Date.now() < deadline; i++) {
    const url = urls[i % urls.length]!;
    const res = await post(url, '/overlay-master/agents', { ip }, 5_000).catch(() => undefined);
    if (res?.status === 200) {
      answeredBy?.(url);
      return res.body as AgentInfo;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${ip} was never registered`);
}

const summary = (a: AgentInfo) => ({ vtep: a.overlays[0]!.backend.vxlan.vtep_ip, subnet: a.overlays[0]!.subnet });

async function state(url: string): Promise<MasterState> {
  const res = await fetch(`${url}/overlay-master/state`);
  expect(res.status).toBe(200);
  return (await res.json()) as MasterState;
}

async function pair(): Promise<{ leader: EtcdMaster; standby: EtcdMaster; all: EtcdMaster[] }> {
  const p = prefix();
  lastPrefix = p;
  const all = [
    await startEtcdMaster({ endpoints: cluster.endpoints, prefix: p, config }),
    await startEtcdMaster({ endpoints: cluster.endpoints, prefix: p, config }),
  ];
  const leader = await waitForLeader(all);
  return { leader, standby: all.find((m) => m !== leader)!, all };
}

describe('several masters on etcd', () => {
  it('elects one leader; the standby serves reads from the store, refuses writes and agents with 503 NOT_LEADER naming it', async () => {
    const { leader, standby } = await pair();
    // The standby learns who leads from the election within moments.
    let write = await post(standby.url, '/overlay-master/agents', { ip: '10.0.0.1' });
    for (let i = 0; i < 600 && !String(write.body.error?.message).includes(leader.url); i++) {
      await new Promise((r) => setTimeout(r, 50));
      write = await post(standby.url, '/overlay-master/agents', { ip: '10.0.0.1' });
    }
    expect(write.status).toBe(503);
    expect(write.body.error.code).toBe('NOT_LEADER');
    expect(write.body.error.message).toContain(`the leader is ${leader.url}`);
    const written = await post(leader.url, '/overlay-master/agents', { ip: '10.0.0.1' });
    expect(written.status).toBe(200);
    const leaderRevision = Number((await fetch(`${leader.url}/overlay-master/state`)).headers.get('x-vxnet-revision'));
    // The standby's reads follow etcd: wait until it reflects the leader's revision.
    let read = await fetch(`${standby.url}/overlay-master/state`);
    const deadline = Date.now() + 30_000;
    while (Number(read.headers.get('x-vxnet-revision')) < leaderRevision && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      read = await fetch(`${standby.url}/overlay-master/state`);
    }
    expect(read.status).toBe(200);
    expect(Number(read.headers.get('x-vxnet-revision'))).toBe(leaderRevision);
    expect(((await read.json()) as MasterState).agents).toEqual([written.body]);
    const one = await fetch(`${standby.url}/overlay-master/agents/10.0.0.1`);
    expect([one.status, await one.json()]).toEqual([200, written.body]);
    expect((await fetch(`${standby.url}/`)).status).toBe(200);
    // Agents use the leader for everything, reads included.
    const agentRead = await fetch(`${standby.url}/overlay-master/watch`, { headers: { 'x-vxnet-agent': '1' } });
    expect(agentRead.status).toBe(503);
    expect(((await agentRead.json()) as any).error).toMatchObject({ code: 'NOT_LEADER', message: expect.stringContaining(leader.url) });
    expect(await (await fetch(`${standby.url}/healthz`)).json()).toEqual({
      status: 'standby',
      leader: leader.url,
      agents: 1,
      revision: leaderRevision,
    });
    expect(await standby.stop()).toBe(0);
  });

  it('SIGKILL of the leader during a registration storm: the standby takes over with every acknowledged allocation and no duplicates', async () => {
    const { leader, standby, all } = await pair();
    const urls = [leader.url, standby.url];
    const ips = Array.from({ length: 240 }, (_, i) => `10.1.${Math.floor(i / 200)}.${(i % 200) + 1}`);
    const acked = new Map<string, ReturnType<typeof summary>>();
    let killedAt = 0;
    let firstAfterKill = 0;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < ips.length) {
        const ip = ips[next++]!;
        const info = await registerAnywhere(urls, ip, 30_000, (url) => {
          if (url === standby.url && firstAfterKill === 0) firstAfterKill = Date.now();
        });
        acked.set(ip, summary(info));
        if (acked.size === 60 && killedAt === 0) {
          killedAt = Date.now();
          void leader.kill();
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    expect(acked.size).toBe(ips.length);
    expect(killedAt).toBeGreaterThan(0);
    const newLeader = await waitForLeader(all.filter((m) => m !== leader));
    expect(newLeader).toBe(standby);
    const takeover = firstAfterKill - killedAt;
    expect(takeover).toBeGreaterThan(0);
    expect(takeover).toBeLessThan(60_000);
    const final = await state(newLeader.url);
    const stored = new Map(final.agents.map((a) => [a.ip, summary(a as AgentInfo)]));
    for (const [ip, s] of acked) expect(stored.get(ip), ip).toEqual(s);
    expect(final.agents).toHaveLength(ips.length);
    const vteps = final.agents.map((a) => summary(a as AgentInfo).vtep);
    const subnets = final.agents.map((a) => summary(a as AgentInfo).subnet);
    expect(new Set(vteps).size).toBe(vteps.length);
    expect(new Set(subnets).size).toBe(subnets.length);
    console.log(`takeover: first registration acknowledged by the new leader ${takeover} ms after SIGKILL`);
  });

  it('SIGTERM hands the leadership over at once (the lease is given up, not left to expire)', async () => {
    const { leader, standby } = await pair();
    await registerAnywhere([leader.url], '10.2.0.1');
    const etcd = new Etcd3({ hosts: cluster.endpoints });
    try {
      const candidates = () => etcd.getAll().prefix(`${lastPrefix}/election/`).keys();
      // Both masters campaign (the standby may still be opening its store).
      const deadline = Date.now() + 30_000;
      while ((await candidates()).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(await candidates()).toHaveLength(2);
      expect(await leader.stop()).toBe(0);
      // Resigned before it exited: only the standby's candidacy is left (an expiring lease would still hold its key).
      expect(await candidates()).toHaveLength(1);
    } finally {
      etcd.close();
    }
    await waitForLeader([standby], 30_000);
    expect(summary((await state(standby.url)).agents[0] as AgentInfo).vtep).toBe('198.15.0.1/20');
  });

  it("a leader frozen past its lease is deposed: its late write is refused, the new leader's allocation stands", async () => {
    const { leader, standby } = await pair();
    await registerAnywhere([leader.url], '10.6.0.1');
    leader.child.kill('SIGSTOP');
    try {
      await waitForLeader([standby], 30_000);
      const theirs = await registerAnywhere([standby.url], '10.6.0.2');
      // Sent while frozen: the old leader still believes 198.15.0.2 is free.
      const late = post(leader.url, '/overlay-master/agents', { ip: '10.6.0.3' }).catch((e: unknown) => e);
      await new Promise((r) => setTimeout(r, 100));
      leader.child.kill('SIGCONT');
      const res = await late;
      if (!(res instanceof Error)) {
        expect(res.status).toBe(503);
        expect(['NOT_LEADER', 'STORE_UNAVAILABLE']).toContain((res as { body: any }).body.error.code);
      }
      const final = await state(standby.url);
      expect(final.agents.map((a) => a.ip)).toEqual(['10.6.0.1', '10.6.0.2']);
      expect(summary(final.agents[1] as AgentInfo)).toEqual(summary(theirs));
      // The deposed master stepped down: it now stands by behind the new leader.
      let health: unknown;
      for (let i = 0; i < 300; i++) {
        // Refused for a moment while it reopens the store as a standby.
        health = await fetch(`${leader.url}/healthz`).then(
          (r) => r.json(),
          () => undefined,
        );
        const h = health as { status?: string; leader?: string } | undefined;
        if (h?.status === 'standby' && h.leader === standby.url) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(health).toMatchObject({ status: 'standby', leader: standby.url });
    } finally {
      leader.child.kill('SIGCONT');
    }
  });

  it("an agent's watch follows the failover and resumes on the new leader with only what it missed", async () => {
    const { leader, standby } = await pair();
    const client = new MasterClient({
      urls: [leader.url, standby.url],
      sleep: (ms, signal) =>
        new Promise((r) => {
          const t = setTimeout(r, Math.min(ms, 200));
          signal.addEventListener('abort', () => {
            clearTimeout(t);
            r();
          });
        }),
    });
    const view = new Map<string, string>();
    let resyncs = 0;
    const abort = new AbortController();
    void client.watch((e: WatchEvent) => {
      if (e.type === 'resync') {
        resyncs++;
        view.clear();
        for (const a of e.state.agents) view.set(a.ip, JSON.stringify(a));
      } else if (e.type === 'put') view.set(e.agent.ip, JSON.stringify(e.agent));
      else if (e.type === 'delete') view.delete(e.ip);
    }, abort.signal);
    try {
      await registerAnywhere([leader.url], '10.3.0.1');
      await until(() => view.has('10.3.0.1'));
      await leader.kill();
      await registerAnywhere([standby.url], '10.3.0.2');
      await until(() => view.has('10.3.0.2'));
      const final = await state(standby.url);
      expect(new Map(final.agents.map((a) => [a.ip, JSON.stringify(a)]))).toEqual(view);
      // One resync when it first connected; the new leader replays from etcd's log instead of resending the state.
      expect(resyncs).toBe(1);
    } finally {
      abort.abort();
    }
  });
});

async function until(check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('etcd failures under the masters', () => {
  it('writes resume after the etcd leader member is killed', async () => {
    const { leader, all } = await pair();
    await registerAnywhere([leader.url], '10.4.0.1');
    const member = await cluster.leader();
    const started = Date.now();
    await cluster.kill(member);
    try {
      // The leader may have stepped down meanwhile: any master will do, as for an agent.
      const info = await registerAnywhere(
        all.map((m) => m.url),
        '10.4.0.2',
        20_000,
      );
      expect(summary(info).vtep).toBe('198.15.0.2/20');
      console.log(`etcd leader killed: next registration acknowledged after ${Date.now() - started} ms`);
    } finally {
      await cluster.restart(member);
    }
  });

  it('etcd entirely down: clear 503 answers within seconds, then recovery with nothing lost', async () => {
    const { leader, all } = await pair();
    const before = await registerAnywhere([leader.url], '10.5.0.1');
    const members = cluster.members.filter((m) => m.child);
    for (const m of members) await cluster.kill(m);
    try {
      // Each attempt ends within seconds: a 503 saying why, or (while the master steps down) a closed connection.
      const answers: { status: number; body: any; ms: number }[] = [];
      const deadline = Date.now() + 10_000;
      while (answers.length < 3 && Date.now() < deadline) {
        const res = await post(leader.url, '/overlay-master/agents', { ip: '10.5.0.2' }, 12_000).catch(() => undefined);
        if (res) answers.push(res);
      }
      expect(answers).toHaveLength(3);
      for (const res of answers) {
        expect(res.status).toBe(503);
        // An answer, not a hang: well inside the client's own 12 s abort.
        expect(res.ms).toBeLessThan(11_000);
        expect(['STORE_UNAVAILABLE', 'NOT_LEADER']).toContain(res.body.error.code);
      }
      expect(answers[2]!.body.error.message).toContain('etcd at');
    } finally {
      await cluster.restart(...members);
    }
    const again = await waitForLeader(all, 30_000);
    const after = await registerAnywhere([again.url], '10.5.0.1');
    expect(summary(after)).toEqual(summary(before));
    expect(
      summary(
        await registerAnywhere(
          all.map((m) => m.url),
          '10.5.0.2',
        ),
      ),
    ).toEqual({ vtep: '198.15.0.2/20', subnet: '44.128.1.0/24' });
  });
});
