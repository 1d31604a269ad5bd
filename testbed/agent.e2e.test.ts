// The agent's data plane on real kernels: a real master and two real agents in
// host namespaces of a per-run test bed. Checks the kernel state they build,
// drift repair, restart without reprogramming, peer removal and cleanup.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentOverlayState, MasterState } from '../src/api/types.js';
import { AGENT_PORT, inNetns, ping, runOk, startCluster, waitFor, type Cluster, type Host } from '../src/testbed/index.js';

let cluster: Cluster;
let state: MasterState;

const ipj = async (ns: string, args: string[]): Promise<Record<string, unknown>[]> =>
  JSON.parse((await runOk(['ip', '-n', ns, '-j', ...args])) || '[]') as Record<string, unknown>[];
const info = (h: Host) => state.agents.find((a) => a.ip === h.ip)!;
const vtepOf = (h: Host) => info(h).overlays[0]!.backend.vxlan;
const neighbours = async (h: Host) =>
  (await ipj(h.ns, ['neigh', 'show', 'dev', 'vtep1024', 'nud', 'permanent'])).map((n) => `${n.dst} ${n.lladdr}`);
const fdb = async (h: Host) =>
  (JSON.parse(await runOk(['bridge', '-n', h.ns, '-j', 'fdb', 'show', 'dev', 'vtep1024'])) as { mac: string; dst?: string }[])
    .filter((f) => f.dst)
    .map((f) => `${f.mac} ${f.dst}`);
const routes = async (h: Host) =>
  (await ipj(h.ns, ['route', 'show', 'proto', '177'])).map((r) => `${r.dst} via ${r.gateway} dev ${r.dev}`).sort();
const ifindex = async (h: Host) => (await ipj(h.ns, ['link', 'show', 'vtep1024']))[0]?.ifindex;
const agentState = async (h: Host) =>
  (await (await fetch(`http://${h.ip}:${AGENT_PORT}/overlay-agent/overlay`)).json()) as AgentOverlayState;

beforeAll(async () => {
  cluster = await startCluster({ hosts: 3, startAgents: false });
  await cluster.startAgent(cluster.hosts[0]!);
  await cluster.startAgent(cluster.hosts[1]!);
  state = await cluster.waitAllOk(30_000);
});

afterAll(async () => {
  await cluster?.teardown();
  if (cluster) expect(await cluster.leftovers()).toEqual([]);
});

describe('vxnet agent on real kernels', () => {
  it('builds the VTEP, bridges, peer entries, NAT table and conflists the master describes', async () => {
    const [h1, h2] = cluster.hosts as [Host, Host];
    const link = (await ipj(h1.ns, ['-d', 'addr', 'show', 'vtep1024']))[0]!;
    const vx = (link.linkinfo as { info_data: Record<string, unknown> }).info_data;
    expect({ id: vx.id, port: vx.port, local: vx.local, learning: vx.learning, dev: vx.link }).toEqual({
      id: 1024,
      port: 64000,
      local: h1.ip,
      learning: false,
      dev: 'ul0',
    });
    expect(link.address).toBe(vtepOf(h1).vtep_mac);
    expect(link.mtu).toBe(1450);
    expect(
      (link.addr_info as { local: string; prefixlen: number; scope: string }[])
        .filter((a) => a.scope === 'global')
        .map((a) => `${a.local}/${a.prefixlen}`),
    ).toEqual([vtepOf(h1).vtep_ip]);

    for (const o of info(h1).overlays) {
      const bridges = await ipj(h1.ns, ['-d', 'addr', 'show', o.mesos_bridge!.name]);
      expect(bridges[0]?.mtu).toBe(1450); // --mtu auto: the 1500-byte underlay minus 50
      const first = o.mesos_bridge!.ip!.replace(/\.0\/25$/, '.1/25');
      expect((bridges[0]!.addr_info as { local: string; prefixlen: number }[]).map((a) => `${a.local}/${a.prefixlen}`)).toContain(first);
      expect(existsSync(join(h1.cniConfDir, `vxnet-${o.info.name}.conflist`))).toBe(true);
    }

    const peerVtep = vtepOf(h2).vtep_ip.split('/')[0];
    expect(await neighbours(h1)).toEqual([`${peerVtep} ${vtepOf(h2).vtep_mac}`]);
    expect(await fdb(h1)).toEqual([`${vtepOf(h2).vtep_mac} ${h2.ip}`]);
    expect(await routes(h1)).toEqual(
      info(h2)
        .overlays.map((o) => `${o.subnet} via ${peerVtep} dev vtep1024`)
        .sort(),
    );
    expect(await runOk(inNetns(h1.ns, ['nft', 'list', 'table', 'ip', 'vxnet']))).toContain('masquerade');

    // Real packets over the VXLAN: h1 reaches h2's bridge address through its route.
    const h2Bridge = info(h2).overlays[0]!.mesos_bridge!.ip!.replace(/\.0\/25$/, '.1');
    expect(await ping(h1.ns, h2Bridge)).toBe(true);

    const reported = await agentState(h1);
    expect(reported.ip).toBe(h1.ip);
    expect(reported.overlays.map((o) => o.state.status)).toEqual(['STATUS_OK', 'STATUS_OK']);
    expect(reported.configuration_attempts).toBeGreaterThanOrEqual(1);
  });

  it('reports the containers host-local has attached to the master', async () => {
    const h1 = cluster.hosts[0]!;
    const ip = info(h1).overlays[0]!.mesos_bridge!.ip!.replace(/\.0\/25$/, '.7');
    mkdirSync(join(h1.stateDir, 'ipam', 'dcos-1'), { recursive: true });
    writeFileSync(join(h1.stateDir, 'ipam', 'dcos-1', ip), 'ctr-e2e\r\neth0'); // what host-local writes
    const listed = await waitFor(
      'the master to list the container',
      async () => {
        const body = (await (await fetch(`${cluster.localMasterUrl}/overlay-master/containers`)).json()) as {
          containers: Record<string, unknown>[];
        };
        return body.containers.find((c) => c.id === 'ctr-e2e');
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(listed).toEqual({ agent: h1.ip, id: 'ctr-e2e', network: 'dcos-1', ip, interface: 'eth0', runtime: 'cni' });
  });

  it('repairs a neighbour entry deleted by hand (time logged; the 2 s target is a bench figure)', async () => {
    const [h1, h2] = cluster.hosts as [Host, Host];
    const peerVtep = vtepOf(h2).vtep_ip.split('/')[0]!;
    await runOk(['ip', '-n', h1.ns, 'neigh', 'del', peerVtep, 'dev', 'vtep1024']);
    const started = Date.now();
    expect(await neighbours(h1)).toEqual([]);
    await waitFor('the neighbour entry to come back', async () => (await neighbours(h1)).length === 1, {
      timeoutMs: 2_000,
      intervalMs: 50,
    });
    console.log(`took ${Date.now() - started} ms (target 2 s; measured in bench:agent)`);
  });

  it('puts back a VTEP MAC changed by hand, with its peer entries', async () => {
    const [h1, h2] = cluster.hosts as [Host, Host];
    await runOk(['ip', '-n', h1.ns, 'link', 'set', 'vtep1024', 'address', '02:00:00:00:00:42']);
    await waitFor(
      'the VTEP MAC to be repaired',
      async () => {
        const link = (await ipj(h1.ns, ['link', 'show', 'vtep1024']))[0];
        return link?.address === vtepOf(h1).vtep_mac && (await neighbours(h1)).length === 1 && (await fdb(h1)).length === 1;
      },
      { timeoutMs: 30_000, intervalMs: 50 },
    );
    const h2Bridge = info(h2).overlays[0]!.mesos_bridge!.ip!.replace(/\.0\/25$/, '.1');
    expect(await ping(h1.ns, h2Bridge)).toBe(true);
  });

  it('restarts without recreating the VTEP and leaves the data plane up while stopped', async () => {
    const [h1, h2] = cluster.hosts as [Host, Host];
    const before = await ifindex(h1);
    await cluster.stopAgent(h1);
    expect(await ifindex(h1)).toBe(before);
    expect(await fdb(h1)).toHaveLength(1);
    await cluster.startAgent(h1);
    const restarted = await waitFor(
      'the restarted agent to report OK',
      async () => {
        const s = await agentState(h1).catch(() => undefined);
        return s?.overlays.length && s.overlays.every((o) => o.state.status === 'STATUS_OK') ? s : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 100 },
    );
    expect(await ifindex(h1)).toBe(before);
    expect(restarted.configuration_attempts).toBe(0); // nothing needed fixing
    expect(await fdb(h1)).toEqual([`${vtepOf(h2).vtep_mac} ${h2.ip}`]);
  });

  it('removes a peer deleted at the master (time logged; the 2 s target is a bench figure)', async () => {
    const [h1, h2] = cluster.hosts as [Host, Host];
    await cluster.stopAgent(h2); // a running agent would register again
    const res = await fetch(`${cluster.localMasterUrl}/overlay-master/agents/delete`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ agents: [h2.ip] }),
    });
    expect(res.status).toBe(200);
    const started = Date.now();
    await waitFor(
      'h2 entries gone from h1',
      async () => (await neighbours(h1)).length === 0 && (await fdb(h1)).length === 0 && (await routes(h1)).length === 0,
      { timeoutMs: 30_000, intervalMs: 50 },
    );
    console.log(`took ${Date.now() - started} ms (target 2 s; measured in bench:agent)`);
  });

  it('a running agent deleted at the master registers again, reports OK and follows its new allocation', async () => {
    const h1 = cluster.hosts[0]!;
    await fetch(`${cluster.localMasterUrl}/overlay-master/agents/delete`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ agents: [h1.ip] }),
    });
    const back = await waitFor(
      'h1 back at the master with STATUS_OK',
      async () => {
        const a = (await cluster.state()).agents.find((x) => x.ip === h1.ip);
        return a?.overlays.every((o) => o.state.status === 'STATUS_OK') ? a : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    // Lowest free first: h1 may now hold the subnets h2 left; the kernel and conflist follow.
    const dcos1 = back.overlays.find((o) => o.info.name === 'dcos-1')!;
    const gateway = dcos1.mesos_bridge!.ip!.replace(/\.0\/25$/, '.1/25');
    await waitFor(
      'm-dcos-1 to carry exactly the new gateway address',
      async () => {
        const addrs = ((await ipj(h1.ns, ['-4', 'addr', 'show', 'm-dcos-1']))[0]?.addr_info ?? []) as {
          local: string;
          prefixlen: number;
        }[];
        return addrs.map((a) => `${a.local}/${a.prefixlen}`).join() === gateway;
      },
      { timeoutMs: 30_000, intervalMs: 50 },
    );
    const conf = JSON.parse(readFileSync(join(h1.cniConfDir, 'vxnet-dcos-1.conflist'), 'utf8')) as {
      plugins: { ipam?: { ranges: { subnet: string }[][] } }[];
    };
    expect(conf.plugins[0]?.ipam?.ranges[0]?.[0]?.subnet).toBe(dcos1.mesos_bridge!.ip);
  });

  it('agent cleanup removes everything the agent made, twice in a row, and nothing else', async () => {
    const h1 = cluster.hosts[0]!;
    await cluster.stopAgent(h1);
    for (let round = 0; round < 2; round++) {
      const r = await cluster.vxnet(h1, ['agent', 'cleanup', '--state-dir', h1.stateDir, '--cni-conf-dir', h1.cniConfDir]);
      expect(r.code, r.stderr).toBe(0);
    }
    const links = (await ipj(h1.ns, ['link', 'show'])).map((l) => l.ifname);
    expect(links.sort()).toEqual(['lo', 'ul0']);
    expect(await routes(h1)).toEqual([]);
    expect((await runOk(inNetns(h1.ns, ['nft', 'list', 'tables']))).trim()).toBe('');
    expect(readdirSync(h1.cniConfDir)).toEqual([]);
    expect(existsSync(join(h1.stateDir, 'ipam'))).toBe(false);
  });

  it('reports an overlay it cannot configure as FAILED with the reason, and the others OK', async () => {
    const h3 = cluster.hosts[2]!;
    // A bridge vxnet did not create, under the name vxnet wants: left alone, reported.
    await runOk(['ip', '-n', h3.ns, 'link', 'add', 'm-dcos-2', 'type', 'bridge']);
    await cluster.startAgent(h3);
    const failed = await waitFor(
      'h3 to report dcos-2 FAILED to the master',
      async () => {
        const s = await cluster.state();
        const a = s.agents.find((x) => x.ip === h3.ip);
        return a?.overlays.find((o) => o.info.name === 'dcos-2')?.state.status === 'STATUS_FAILED' ? a : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 100 },
    );
    expect(failed.overlays.map((o) => o.state)).toEqual([
      { status: 'STATUS_OK' },
      { status: 'STATUS_FAILED', error: 'interface m-dcos-2 exists but was not created by vxnet: remove it or rename it' },
    ]);
    expect((await ipj(h3.ns, ['-d', 'link', 'show', 'm-dcos-2']))[0]?.ifalias).toBeUndefined();
    expect((await agentState(h3)).overlays[1]?.state.status).toBe('STATUS_FAILED');
  });
});
