// Container MTU chosen from the underlay (`--mtu auto`, src/agent/mtu.ts):
// at a 9000-byte underlay containers get 8950, and the largest ping payload
// that passes between hosts with "don't fragment" is exactly the MTU minus
// 28 (IPv4 + ICMP headers). One host whose underlay drops to 1450 lowers
// every host (through the master's `mtu` event): VXLAN devices, bridges and
// conflists; new containers get the new MTU, running ones keep theirs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentOverlayState, MtuView } from '../src/api/types.js';
import { AGENT_PORT, inNetns, run, runOk, startCluster, waitFor, type Cluster, type Host } from '../src/testbed/index.js';

const NET = 'dcos-1';
let cluster: Cluster;

const linkMtu = async (ns: string, dev: string): Promise<number | undefined> =>
  (JSON.parse((await runOk(['ip', '-n', ns, '-j', 'link', 'show', dev])) || '[]') as { mtu?: number }[])[0]?.mtu;
const conflistMtu = (h: Host): number =>
  (JSON.parse(readFileSync(join(h.cniConfDir, `vxnet-${NET}.conflist`), 'utf8')) as { plugins: { mtu?: number }[] }).plugins[0]!.mtu!;
/** What every MTU on a host is: the VXLAN device, both bridges, the conflist. */
const hostMtus = async (h: Host) => ({
  vtep: await linkMtu(h.ns, 'vtep1024'),
  mesos: await linkMtu(h.ns, `m-${NET}`),
  docker: await linkMtu(h.ns, `d-${NET}`),
  conflist: conflistMtu(h),
});
const agentMtu = async (h: Host) =>
  ((await (await fetch(`http://${h.ip}:${AGENT_PORT}/overlay-agent/overlay`)).json()) as AgentOverlayState).mtu;

/** `ping -M do` (never fragment) with `size` payload bytes, from a container's namespace. */
const pingDf = async (fromNs: string, ip: string, size: number): Promise<boolean> => {
  const r = await run(inNetns(fromNs, ['ping', '-n', '-q', '-M', 'do', '-s', String(size), '-c', '1', '-W', '2', ip]), {
    timeoutMs: 10_000,
  });
  return r.code === 0 && /1 received/.test(r.stdout);
};

/** The largest payload passes (after ARP settles), one byte more does not. */
async function expectLargestPayload(fromNs: string, ip: string, mtu: number): Promise<void> {
  await waitFor(`a ${mtu - 28}-byte ping to ${ip}`, () => pingDf(fromNs, ip, mtu - 28), { timeoutMs: 15_000, intervalMs: 200 });
  expect(await pingDf(fromNs, ip, mtu - 28)).toBe(true);
  expect(await pingDf(fromNs, ip, mtu - 27)).toBe(false);
}

let lastSeen = '';
const everyHost = (want: number) => async () => {
  const all = await Promise.all(cluster.hosts.map(hostMtus));
  lastSeen = JSON.stringify(all);
  return all.every((m) => m.vtep === want && m.mesos === want && m.docker === want && m.conflist === want) ? all : undefined;
};
/** Waits for every host at `want`; on a timeout, says what each host had and what the agents logged. */
const waitEveryHost = async (want: number): Promise<void> => {
  try {
    // The agent reads the underlay's MTU from sysfs on each tick; the ceiling is for a loaded machine.
    await waitFor(`every host at ${want}`, everyHost(want), { timeoutMs: 30_000, intervalMs: 100 });
  } catch (e) {
    const logs = cluster.hosts.map((h) => `--- ${h.agent?.name}:\n${h.agent?.log().slice(-1500) ?? ''}`).join('\n');
    throw new Error(`${(e as Error).message}\nhosts: ${lastSeen}\n${logs}`);
  }
};

beforeAll(async () => {
  cluster = await startCluster({ hosts: 3, underlayMtu: 9000, agentArgs: ['--no-docker'] });
  await cluster.waitAllOk(60_000);
});

afterAll(async () => {
  await cluster?.teardown();
  if (cluster) expect(await cluster.leftovers()).toEqual([]);
});

describe('container MTU from the underlay', () => {
  let oldNs: string;
  let oldPeer: string;

  it('gives containers 8950 on a 9000-byte underlay; 8922 bytes pass between hosts, 8923 do not', async () => {
    const [h1, h2] = cluster.hosts as [Host, Host];
    await waitEveryHost(8950);
    expect(await agentMtu(h1)).toMatchObject({ container: 8950, vxlan: 8950, underlay: 8950 });
    const master = (await (await fetch(`${cluster.localMasterUrl}/overlay-master/mtu`)).json()) as MtuView;
    expect(master.lowest?.mtu).toBe(8950);
    expect(master.agents).toEqual({ '8950': 3 });

    oldNs = cluster.names.container('a');
    await cluster.runContainer(h1, oldNs, NET, ['sleep', '600']);
    oldPeer = await cluster.runContainer(h2, cluster.names.container('b'), NET, ['sleep', '600']);
    expect(await linkMtu(oldNs, 'eth0')).toBe(8950);
    const started = Date.now();
    await expectLargestPayload(oldNs, oldPeer, 8950);
    console.log(`8950: largest DF payload 8922 checked in ${Date.now() - started} ms`);
  });

  it('lowers every host when one host’s underlay drops to 1450; new containers get 1400, running ones keep theirs', async () => {
    const [h1, h2, h3] = cluster.hosts as [Host, Host, Host];
    const started = Date.now();
    await runOk(['ip', '-n', h3.ns, 'link', 'set', 'ul0', 'mtu', '1450']);
    await waitEveryHost(1400);
    console.log(`one host's underlay at 1450 -> every host's bridges and conflists at 1400 in ${Date.now() - started} ms`);
    expect(await agentMtu(h1)).toMatchObject({ container: 1400, vxlan: 1400, underlay: 8950, cluster: 1400, source: 'cluster' });
    expect(await agentMtu(h3)).toMatchObject({ container: 1400, underlay: 1400, source: 'underlay' });
    const master = (await (await fetch(`${cluster.localMasterUrl}/overlay-master/mtu`)).json()) as MtuView;
    expect(master).toMatchObject({ lowest: { mtu: 1400, agent: h3.ip }, agents: { '1400': 1, '8950': 2 } });

    expect(await linkMtu(oldNs, 'eth0')).toBe(8950); // a running container keeps its MTU

    const c = cluster.names.container('c');
    await cluster.runContainer(h1, c, NET, ['sleep', '600']);
    const d = await cluster.runContainer(h3, cluster.names.container('d'), NET, ['sleep', '600']);
    expect(await linkMtu(c, 'eth0')).toBe(1400);
    await expectLargestPayload(c, d, 1400);
    // And to the host with the big underlay as well.
    const e = await cluster.runContainer(h2, cluster.names.container('e'), NET, ['sleep', '600']);
    await expectLargestPayload(c, e, 1400);
  });
});
