// Real Debian dockerd (20.10) and podman (4.3, CNI backend) inside two test
// hosts: each in the host's network namespace with its own roots, running at
// the same time without clashing, and removed without a trace.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pidAlive, run, runOk, startCluster, waitFor, type Cluster, type Host } from '../src/testbed/index.js';
import { BUSYBOX_IMAGE } from '../src/testbed/engines.js';
import { engineProcesses } from '../src/testbed/engine-procs.js';

// Paths dockerd, containerd and podman write outside their roots when left alone.
const OUTSIDE = [
  '/sys/fs/cgroup/memory/libpod_parent',
  '/etc/docker/key.json',
  '/run/docker',
  '/run/containerd',
  '/opt/containerd',
  '/var/lib/docker',
  '/var/lib/containers',
  '/var/lib/cni',
  '/run/libpod',
  '/run/containers',
];
const presentBefore = new Set(OUTSIDE.filter((p) => existsSync(p)));
let rootForwardPolicy = '';

let cluster: Cluster;
let h1: Host;
let h2: Host;
const seenPids = new Set<number>();
const remember = () => {
  for (const h of cluster.hosts) {
    for (const p of [h.docker?.pid(), h.docker?.containerdPid()]) if (p) seenPids.add(p);
    for (const p of engineProcesses({ mntInodes: [h.engines!.mnt.inode], cgroupMarkers: [h.engines!.cgroupParent] })) seenPids.add(p);
  }
};

const readStat = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return '';
  }
};

const forwardPolicy = async (argv: string[]) => /-P FORWARD (\w+)/.exec(await runOk([...argv, 'iptables', '-S', 'FORWARD']))?.[1];

beforeAll(async () => {
  rootForwardPolicy = (await forwardPolicy([])) ?? '';
  cluster = await startCluster({ hosts: 2, docker: { liveRestore: true }, podman: true, startAgents: false });
  [h1, h2] = cluster.hosts as [Host, Host];
}, 300_000);

afterAll(async () => {
  await cluster?.teardown();
}, 300_000);

describe('container engines in test hosts', () => {
  it('runs one dockerd per host, each answering on its own socket at the same time', async () => {
    const infos = await Promise.all(
      [h1, h2].map((h) => h.docker!.dockerOk(['info', '--format', '{{.ID}} {{.ServerVersion}} {{.DockerRootDir}}'])),
    );
    expect(infos[0]).toMatch(/ 20\.10\./);
    expect(new Set(infos.map((i) => i.split(' ')[0])).size).toBe(2);
    expect(infos[0]).toContain(h1.docker!.dataRoot);
    expect(infos[1]).toContain(h2.docker!.dataRoot);
    expect(h1.docker!.pid()).toBeTruthy();
    expect(h1.docker!.pid()).not.toBe(h2.docker!.pid());
    expect(h1.docker!.containerdPid()).toBeTruthy();
    expect(h1.docker!.containerdPid()).not.toBe(h2.docker!.containerdPid());
    // dockerd's FORWARD DROP is in the host namespaces only.
    expect(await forwardPolicy(['ip', 'netns', 'exec', h1.ns])).toBe('DROP');
    expect(await forwardPolicy([])).toBe(rootForwardPolicy);
    remember();
  });

  it('runs containers on a bridge network inside each host namespace, not in the root one', async () => {
    const ips = await Promise.all(
      [h1, h2].map(async (h) => {
        await h.docker!.dockerOk([
          'network',
          'create',
          '--driver',
          'bridge',
          '--subnet',
          '10.77.1.0/24',
          '-o',
          'com.docker.network.bridge.name=tst0',
          't1',
        ]);
        await h.docker!.dockerOk(['run', '-d', '--name', 'c1', '--network', 't1', BUSYBOX_IMAGE, 'sleep', '600']);
        return (await h.docker!.dockerOk(['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', 'c1'])).trim();
      }),
    );
    for (const ip of ips) expect(ip).toMatch(/^10\.77\.1\.\d+$/);
    for (const h of [h1, h2]) expect((await run(['ip', '-n', h.ns, 'link', 'show', 'tst0'])).code).toBe(0);
    expect((await run(['ip', 'link', 'show', 'tst0'])).code).not.toBe(0);
    // The container reaches its gateway, the host's bridge.
    const ping = await h1.docker!.docker(['exec', 'c1', 'ping', '-c', '1', '-W', '5', '10.77.1.1']);
    expect(ping.code, ping.stdout + ping.stderr).toBe(0);
    remember();
  });

  it('keeps containers running across a dockerd restart with live-restore', async () => {
    const d = h1.docker!;
    expect(d.liveRestore).toBe(true);
    const before = (await d.dockerOk(['inspect', '-f', '{{.State.Pid}}', 'c1'])).trim();
    const oldPid = d.pid();
    remember();
    await d.restart();
    expect(d.pid()).toBeTruthy();
    expect(d.pid()).not.toBe(oldPid);
    expect(oldPid && pidAlive(oldPid)).toBeFalsy();
    expect((await d.dockerOk(['inspect', '-f', '{{.State.Running}} {{.State.Pid}}', 'c1'])).trim()).toBe(`true ${before}`);
    const ping = await d.docker(['exec', 'c1', 'ping', '-c', '1', '-W', '5', '10.77.1.1']);
    expect(ping.code, ping.stdout + ping.stderr).toBe(0);
    remember();
  });

  it('runs a podman container on a hand-written conflist and releases its address on rm', async () => {
    const p = h2.podman!;
    writeFileSync(
      join(h2.cniConfDir, 'vxnet-ptest.conflist'),
      JSON.stringify({
        cniVersion: '0.4.0',
        name: 'ptest',
        plugins: [
          {
            type: 'bridge',
            bridge: 'ptst0',
            isGateway: true,
            isDefaultGateway: true,
            ipMasq: false,
            mtu: 1420,
            ipam: { type: 'host-local', ranges: [[{ subnet: '10.78.1.0/24', gateway: '10.78.1.1' }]] },
          },
        ],
      }),
    );
    await p.podmanOk(['run', '-d', '--name', 'p1', '--network', 'ptest', BUSYBOX_IMAGE, 'sleep', '600']);
    const ip = (await p.podmanOk(['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', 'p1'])).trim();
    expect(ip).toMatch(/^10\.78\.1\.\d+$/);
    expect((await run(['ip', '-n', h2.ns, 'link', 'show', 'ptst0'])).code).toBe(0);
    const route = await p.podmanOk(['exec', 'p1', 'ip', 'route']);
    expect(route).toMatch(/default via 10\.78\.1\.1/);
    const ping = await p.podman(['exec', 'p1', 'ping', '-c', '1', '-W', '5', '10.78.1.1']);
    expect(ping.code, ping.stdout + ping.stderr).toBe(0);
    // host-local keeps one file per address, in this host's own /var/lib (see README).
    const leases = h2.engines!.mnt.outside('/var/lib/cni/networks/ptest');
    expect(readdirSync(leases)).toContain(ip);
    remember();
    await p.podmanOk(['rm', '-f', '-t', '0', 'p1']);
    expect(readdirSync(leases)).not.toContain(ip);
  });

  it('removes engines, containers, mounts and cgroups on teardown', async () => {
    remember();
    expect(seenPids.size).toBeGreaterThan(4);
    await cluster.teardown();
    await waitFor('no leftovers', async () => (await cluster.leftovers()).length === 0, { timeoutMs: 15_000 }).catch(() => undefined);
    expect(await cluster.leftovers()).toEqual([]);
    // A SIGKILLed process may linger a moment as a zombie until its parent (or init) reaps it.
    const running = () => [...seenPids].filter((p) => pidAlive(p) && !/^\d+ \(.*\) Z /s.test(readStat(p)));
    await waitFor('no engine process from this run', () => running().length === 0, { timeoutMs: 15_000 }).catch(() => undefined);
    expect(running().map((p) => `${p} ${readStat(p)}`)).toEqual([]);
    expect(OUTSIDE.filter((p) => existsSync(p) && !presentBefore.has(p))).toEqual([]);
  });
});
