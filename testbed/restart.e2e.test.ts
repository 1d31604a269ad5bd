// Restarts under traffic: an agent restarted right after the master allocated
// a new peer, and the master restarted while agents run. Containers keep
// talking throughout, and the agents follow changes made afterwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentInfo } from '../src/api/types.js';
import { inNetns, peerEntries, ping, run, startCluster, waitFor, type Cluster } from '../src/testbed/index.js';

let c: Cluster;
const ips: Record<string, string> = {};
const name = (label: string) => c.names.container(label);

/** A ping of `count` packets every 50 ms from container `from` to `ip`, as a promise of its summary. */
const pingLoop = (from: string, ip: string, count: number) =>
  run(inNetns(name(from), ['ping', '-n', '-q', '-i', '0.05', '-c', String(count), '-W', '1', ip]), { timeoutMs: 60_000 });

beforeAll(async () => {
  c = await startCluster({ hosts: 3, startAgents: false });
  for (const h of c.hosts.slice(0, 2)) await c.startAgent(h);
  await c.waitAllOk();
  ips.a = await c.runContainer(c.hosts[0]!, name('a'), 'dcos-1', ['sleep', '600']);
  ips.b = await c.runContainer(c.hosts[1]!, name('b'), 'dcos-1', ['sleep', '600']);
});

afterAll(async () => {
  await c?.teardown();
  if (c)
    expect(
      await waitFor('nothing left behind', async () => ((await c.leftovers()).length === 0 ? [] : undefined), { timeoutMs: 10_000 }),
    ).toEqual([]);
});

describe('restarts under traffic', () => {
  it('an agent restarted right after the master allocated a new peer drops no packets and programs that peer', async () => {
    const [h1, , h3] = c.hosts as [(typeof c.hosts)[0], (typeof c.hosts)[1], (typeof c.hosts)[2]];
    const pinging = pingLoop('a', ips.b!, 100);
    await new Promise((r) => setTimeout(r, 300));
    await c.startAgent(h3);
    // A generous ceiling: starting node on a loaded 2-core machine can take seconds.
    await waitFor('the master to allocate h3', async () => (await c.state()).agents.some((a) => a.ip === h3.ip), {
      timeoutMs: 60_000,
      intervalMs: 10,
    });
    await c.stopAgent(h1);
    await c.startAgent(h1);
    await c.waitAllOk();
    ips.c = await c.runContainer(h3, name('c'), 'dcos-1', ['sleep', '600']);
    expect(await ping(name('a'), ips.c)).toBe(true);
    expect((await pinging).stdout).toMatch(/100 packets transmitted, 100 received/);
  });

  it('a master restart drops no packets, and the agents follow changes made after it', async () => {
    const pinging = pingLoop('a', ips.b!, 80);
    await new Promise((r) => setTimeout(r, 300));
    await c.restartMaster(1_500);
    await c.waitAllOk();
    expect((await pinging).stdout).toMatch(/80 packets transmitted, 80 received/);
    // A delete at the restarted master reaches the agents' kernels: their watches reconnected.
    const h3 = c.hosts[2]!;
    await c.stopAgent(h3);
    const info = (await c.state()).agents.find((a) => a.ip === h3.ip) as AgentInfo;
    const subnet = info.overlays.find((o) => o.info.name === 'dcos-1')!.subnet!;
    const routes = async () => (await peerEntries(c.hosts[0]!.ns)).routes;
    expect(await routes()).toContain(subnet);
    const res = await fetch(`${c.localMasterUrl}/overlay-master/agents/delete`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ agents: [h3.ip] }),
    });
    expect(res.status).toBe(200);
    await waitFor('h1 to drop the deleted peer', async () => !(await routes()).includes(subnet), { timeoutMs: 30_000, intervalMs: 25 });
    expect(await ping(name('a'), ips.b!)).toBe(true);
  });
});
