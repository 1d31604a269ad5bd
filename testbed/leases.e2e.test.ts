// Agent leases on real namespaces: a master with a 2 s TTL and a 6 s
// quarantine. A frozen agent (SIGSTOP) expires; its peers drop its routes and
// FDB entries; it is listed as expired. Once it runs again (SIGCONT) it
// withdraws, gets a fresh allocation and epoch, and reports its containers on
// the old subnet as stranded. Then repeated freezes of agents, sampling that
// no subnet or VTEP is ever held by two agents, and that no running host
// routes, as its own, a subnet allocated to another.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentOverlayState, LeasesView, MasterState } from '../src/api/types.js';
import { type Cluster, type Host, peerEntries, runOk, startCluster, waitFor } from '../src/testbed/index.js';

const TTL = '2s';
const QUARANTINE = '6s';

let c: Cluster;
const stopped = new Set<Host>();

const getJsonAt = async <T>(path: string): Promise<{ body: T; revision: string | null }> => {
  const res = await fetch(`${c.localMasterUrl}${path}`);
  if (!res.ok) throw new Error(`${path} answered ${res.status}`);
  return { body: (await res.json()) as T, revision: res.headers.get('x-vxnet-revision') };
};
const getJson = async <T>(path: string): Promise<T> => (await getJsonAt<T>(path)).body;
const subnetOf = (state: MasterState, ip: string): string | undefined =>
  state.agents.find((a) => a.ip === ip)?.overlays.find((o) => o.info.name === 'dcos-1')?.subnet;
const agentState = async (h: Host): Promise<AgentOverlayState> =>
  (await fetch(`http://${h.ip}:5051/overlay-agent/overlay`)).json() as Promise<AgentOverlayState>;

/** The agent's own process (not a wrapper): the PID the test bed gives us must be the node process. */
function agentPid(h: Host): number {
  const pid = h.agent!.pid;
  expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toContain('agent');
  return pid;
}
const freeze = (h: Host) => {
  process.kill(agentPid(h), 'SIGSTOP');
  stopped.add(h);
};
const thaw = (h: Host) => {
  process.kill(agentPid(h), 'SIGCONT');
  stopped.delete(h);
};

beforeAll(async () => {
  c = await startCluster({ hosts: 3, masterArgs: ['--agent-ttl', TTL, '--agent-quarantine', QUARANTINE] });
  await c.waitAllOk();
});

afterAll(async () => {
  for (const h of [...stopped]) thaw(h);
  await c?.teardown();
  if (c)
    expect(
      await waitFor('nothing left behind', async () => ((await c.leftovers()).length === 0 ? [] : undefined), { timeoutMs: 10_000 }),
    ).toEqual([]);
});

describe('agent leases', () => {
  it('a frozen agent expires, its peers drop it at once, and once thawed it withdraws and comes back with a fresh allocation', async () => {
    const [h1, h2, h3] = c.hosts as [Host, Host, Host];
    const containerIp = await c.runContainer(h1, c.names.container('old'), 'dcos-1', ['sleep', '600']);
    const before = await c.state();
    const oldSubnet = subnetOf(before, h1.ip)!;
    expect((await peerEntries(h2.ns)).routes).toContain(oldSubnet);
    expect((await agentState(h1)).lease).toMatchObject({ epoch: 1, ttl_seconds: 2 });

    const frozenAt = performance.now();
    freeze(h1);
    const expired = await waitFor(
      'the master to expire h1',
      async () => (await getJson<LeasesView>('/overlay-master/leases')).held.find((x) => x.ip === h1.ip && x.kind === 'expired'),
      { timeoutMs: 30_000, intervalMs: 25 },
    );
    const expiredSeen = performance.now();
    expect(expired.overlays['dcos-1']!.subnet).toBe(oldSubnet);
    expect(Date.parse(expired.until) - Date.parse(expired.expired_at)).toBe(6_000);
    // Out of /state, exactly as a deleted agent.
    expect((await c.state()).agents.map((a) => a.ip)).not.toContain(h1.ip);
    expect((await fetch(`${c.localMasterUrl}/overlay-master/agents/${h1.ip}`)).status).toBe(404);
    const gone = async (h: Host) => {
      const e = await peerEntries(h.ns);
      return !e.routes.includes(oldSubnet) && !e.fdb.some((f) => f.endsWith(` ${h1.ip}`));
    };
    await waitFor('h2 and h3 to drop h1', async () => (await gone(h2)) && (await gone(h3)), { timeoutMs: 30_000, intervalMs: 10 });
    const dropped = performance.now();
    console.log(
      `lease figures: SIGSTOP to expiry seen ${Math.round(expiredSeen - frozenAt)} ms (TTL 2000 ms), ` +
        `expiry to peers' routes and FDB removed ${Math.round(dropped - expiredSeen)} ms (polling every 25/10 ms)`,
    );
    const text = await c.vxnet(h2, ['state', '--master', c.masterUrl]);
    expect(text.stdout).toMatch(new RegExp(`${h1.ip.replace(/\./g, '\\.')}\\s+1\\s+expired`));

    const thawedAt = performance.now();
    thaw(h1);
    const after = await waitFor(
      'h1 to come back with a fresh allocation',
      async () => {
        const s = await c.state();
        const now = subnetOf(s, h1.ip);
        return now !== undefined && now !== oldSubnet ? now : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 25 },
    );
    console.log(`lease figures: SIGCONT to fresh allocation ${Math.round(performance.now() - thawedAt)} ms`);
    // Not one of the blocks still held: the old one is quarantined for its old epoch.
    const leases = await getJson<LeasesView>('/overlay-master/leases');
    expect(leases.held).toMatchObject([{ ip: h1.ip, epoch: 1, kind: 'quarantined', overlays: { 'dcos-1': { subnet: oldSubnet } } }]);
    await c.waitAllOk();
    // h1 no longer has the old subnet's bridge address; peers route its new one.
    const addrs = await runOk(['ip', '-n', h1.ns, '-j', 'addr', 'show', 'dev', 'm-dcos-1']);
    const oldPrefix = oldSubnet.split('.').slice(0, 3).join('.');
    expect(addrs).not.toContain(`"${oldPrefix}.`);
    await waitFor('h2 to route the new subnet', async () => (await peerEntries(h2.ns)).routes.includes(after), { timeoutMs: 30_000 });
    expect((await peerEntries(h2.ns)).routes).not.toContain(oldSubnet);
    // The container on the old subnet is stranded: reported, shown, never routed.
    await waitFor(
      'the master to list the stranded container',
      async () => (await getJson<LeasesView>('/overlay-master/leases')).stranded.some((s) => s.ip === containerIp && s.agent === h1.ip),
      { timeoutMs: 30_000 },
    );
    const mine = await agentState(h1);
    expect(mine.lease).toMatchObject({ epoch: 2, ttl_seconds: 2 });
    expect(mine.stranded?.map((s) => s.ip)).toContain(containerIp);
    expect((await c.vxnet(h2, ['state', '--master', c.masterUrl])).stdout).toContain('STRANDED');
    const containers = await getJson<{ containers: { ip: string }[] }>('/overlay-master/containers');
    expect(containers.containers.map((x) => x.ip)).not.toContain(containerIp);
  });

  it('over repeated freezes, no block is ever held twice and no running host routes as its own a subnet held by another', async () => {
    const targets = c.hosts.slice(1) as Host[];
    const counts = { samples: 0, unmatched: 0, expiries: new Set<string>(), hostChecks: 0, freezes: 0 };
    const violations: string[] = [];
    let running = true;

    /** Every block the master holds, with its holder (a live agent by IP, an expired or quarantined lease by IP@epoch). */
    const sampleMaster = async (): Promise<Map<string, string> | undefined> => {
      // Both answers must be of one store revision: a /state read before an
      // expiry and a /leases read after it would list one lease twice.
      let state: MasterState | undefined;
      let leases: LeasesView | undefined;
      for (let attempt = 0; attempt < 20 && state === undefined; attempt++) {
        const [s, l] = await Promise.all([
          getJsonAt<MasterState>('/overlay-master/state'),
          getJsonAt<LeasesView>('/overlay-master/leases'),
        ]);
        expect(s.revision).toMatch(/^\d+$/);
        if (s.revision === l.revision) [state, leases] = [s.body, l.body];
      }
      if (state === undefined || leases === undefined) {
        counts.unmatched++;
        return undefined;
      }
      const holders = new Map<string, string>();
      const hold = (block: string, holder: string) => {
        const other = holders.get(block);
        if (other !== undefined && other !== holder) violations.push(`${block} held by ${other} and ${holder}`);
        holders.set(block, holder);
      };
      for (const a of state.agents) {
        const owner = a.ip;
        hold(`vtep ${a.overlays[0]!.backend.vxlan.vtep_ip.split('/')[0]}`, owner);
        for (const o of a.overlays) if (o.subnet) hold(o.subnet, owner);
      }
      for (const h of leases.held) {
        if (h.kind === 'expired') counts.expiries.add(`${h.ip}@${h.epoch}`);
        hold(`vtep ${h.vtep_ip}`, `${h.ip}@${h.epoch}`);
        for (const o of Object.values(h.overlays)) if (o.subnet) hold(o.subnet, `${h.ip}@${h.epoch}`);
      }
      counts.samples++;
      return holders;
    };

    /** Subnets a running host routes as its own (its bridges' connected routes). */
    const ownRoutes = async (h: Host): Promise<string[]> => {
      const routes = JSON.parse((await runOk(['ip', '-n', h.ns, '-j', 'route', 'show'])) || '[]') as { dst: string; dev: string }[];
      return routes.filter((r) => /^[md]-/.test(r.dev)).map((r) => r.dst);
    };

    const sampler = (async () => {
      while (running) {
        const checked = c.hosts.filter((h) => !stopped.has(h));
        const routed = await Promise.all(checked.map(async (h) => ({ h, own: await ownRoutes(h) })));
        const holders = (await sampleMaster()) ?? new Map<string, string>();
        for (const { h, own } of holders.size === 0 ? [] : routed) {
          // Still running and not frozen since the routes were read.
          if (stopped.has(h)) continue;
          counts.hostChecks++;
          for (const half of own) {
            const subnet = [...holders.keys()].find((block) => !block.startsWith('vtep') && sameSubnet(block, half));
            const holder = subnet === undefined ? undefined : holders.get(subnet)!;
            if (holder !== undefined && holder.split('@')[0] !== h.ip)
              violations.push(`${h.ip} routes ${half} as its own, held by ${holder}`);
          }
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    // Freezes from 0.5 s (renewed in time) to 5 s (expired, quarantine still running when it resumes).
    const deadline = performance.now() + 40_000;
    let k = 0;
    while (performance.now() < deadline) {
      const h = targets[k++ % targets.length]!;
      freeze(h);
      counts.freezes++;
      await new Promise((r) => setTimeout(r, 500 + ((k * 1_700) % 4_500)));
      thaw(h);
      await new Promise((r) => setTimeout(r, 1_000 + ((k * 700) % 2_000)));
    }
    await c.waitAllOk(60_000);
    running = false;
    await sampler;
    await sampleMaster();
    console.log(
      `lease invariant: ${counts.freezes} freezes, ${counts.expiries.size} expiries, ${counts.samples} master samples, ` +
        `${counts.hostChecks} host route checks, ${counts.unmatched} samples skipped (revisions kept moving), ${violations.length} violations`,
    );
    expect(violations).toEqual([]);
    expect(counts.expiries.size).toBeGreaterThan(0);
    expect(counts.samples).toBeGreaterThan(10 * counts.unmatched);
  });
});

/** Whether a bridge half (e.g. 192.168.3.0/25) lies in an agent subnet (e.g. 192.168.3.0/24): the same first three octets for /24 agents. */
function sameSubnet(subnet: string, half: string): boolean {
  const [net, len] = subnet.split('/') as [string, string];
  const [hnet] = half.split('/') as [string];
  const toInt = (ip: string) => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  const mask = Number(len) === 0 ? 0 : 2 ** 32 - 2 ** (32 - Number(len));
  return (toInt(hnet) & mask) >>> 0 === (toInt(net) & mask) >>> 0;
}
