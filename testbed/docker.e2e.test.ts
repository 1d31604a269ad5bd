// Docker and Podman containers on the overlays, with a real dockerd and podman
// in each of 3 host namespaces: the Docker network each agent keeps, traffic
// between Docker, CNI and Podman containers across hosts, NAT, a network
// deleted or made by hand, the engine coming and going, restarts under a
// continuous ping, and cleanup. One cluster for the file; tests run in order.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentOverlayState } from '../src/api/types.js';
import {
  AGENT_PORT,
  BUSYBOX_IMAGE,
  inNetns,
  ping,
  run,
  runOk,
  startCluster,
  udpListener,
  udpSend,
  waitFor,
  type Cluster,
  type Host,
} from '../src/testbed/index.js';

let c: Cluster;
let wwwDir: string;
/** Names given to containers' network namespaces (`ip netns attach`), removed before teardown. */
const attached: string[] = [];
interface Ctr {
  name: string;
  ns: string;
  ip: string;
  host: Host;
}

const HTTPD = ['sh', '-c', 'mkdir -p /www && echo vxnet-ok > /www/index.html && exec httpd -f -p 8080 -h /www'];

/** The container's network namespace under a name of this run, so host tools (ping, udp) run in it. */
async function attach(name: string, pid: string): Promise<string> {
  const ns = c.names.container(name);
  await runOk(['ip', 'netns', 'attach', ns, pid.trim()]);
  attached.push(ns);
  return ns;
}

async function dockerRun(h: Host, name: string, network: string, cmd: string[] = ['sleep', '3600']): Promise<Ctr> {
  const { ip, ns } = await c.runDockerContainer(h, name, network, cmd);
  return { name, ns, ip, host: h };
}

async function podmanRun(h: Host, name: string, network: string, cmd: string[]): Promise<Ctr> {
  await h.podman!.podmanOk(['run', '-d', '--name', name, '--network', network, BUSYBOX_IMAGE, ...cmd], { timeoutMs: 60_000 });
  const pid = await h.podman!.podmanOk(['inspect', '-f', '{{.State.Pid}}', name]);
  const ns = await attach(name, pid);
  const addr = await runOk(['ip', '-n', ns, '-j', '-4', 'addr', 'show', 'eth0']);
  const ip = (JSON.parse(addr) as { addr_info: { local: string }[] }[])[0]!.addr_info[0]!.local;
  return { name, ns, ip, host: h };
}

const inspect = async (h: Host, network: string) => {
  const r = await h.docker!.docker(['network', 'inspect', network]);
  return r.code === 0
    ? ((JSON.parse(r.stdout) as Record<string, unknown>[])[0] as {
        Id: string;
        Driver: string;
        Options: Record<string, string>;
        Labels: Record<string, string>;
        IPAM: { Config: { Subnet: string; Gateway: string }[] };
      })
    : undefined;
};

const agentState = async (h: Host): Promise<AgentOverlayState> =>
  (await (await fetch(`http://${h.ip}:${AGENT_PORT}/overlay-agent/overlay`)).json()) as AgentOverlayState;

// busybox-static's wget crashes (a static glibc binary); nc speaks HTTP well enough.
const httpGet = (from: Ctr, to: string) =>
  from.host.docker!.docker(['exec', '-i', from.name, 'nc', '-w', '5', to, '8080'], { input: 'GET / HTTP/1.0\r\n\r\n' });

let a1: Ctr; // Docker on h1
let b1: Ctr; // Docker on h2
let p2: Ctr; // Podman on h2
let c3: Ctr; // CNI (vxnet container run) on h3

beforeAll(async () => {
  c = await startCluster({ hosts: 3, outside: true, docker: { liveRestore: true }, podman: true });
  await c.waitAllOk(60_000);
  // The agent makes each overlay's Docker network soon after it is OK.
  for (const h of c.hosts)
    await waitFor(`dcos-1 on ${h.ns}'s dockerd`, async () => (await inspect(h, 'dcos-1')) !== undefined, { timeoutMs: 20_000 });
  wwwDir = mkdtempSync(join(tmpdir(), 'vxnet-www-'));
  writeFileSync(join(wwwDir, 'index.html'), 'vxnet-ok\n');
  const [h1, h2, h3] = c.hosts as [Host, Host, Host];
  a1 = await dockerRun(h1, 'da1', 'dcos-1');
  b1 = await dockerRun(h2, 'db1', 'dcos-1', HTTPD);
  p2 = await podmanRun(h2, 'pb1', 'dcos-1', HTTPD);
  const name = c.names.container('cc1');
  c3 = { name, ns: name, host: h3, ip: await c.runContainer(h3, name, 'dcos-1', ['busybox', 'httpd', '-f', '-p', '8080', '-h', wwwDir]) };
}, 240_000);

afterAll(async () => {
  for (const ns of attached) await run(['ip', 'netns', 'del', ns]);
  await c?.teardown();
  if (wwwDir) rmSync(wwwDir, { recursive: true, force: true });
  if (c)
    expect(
      await waitFor('nothing left behind', async () => ((await c.leftovers()).length === 0 ? [] : undefined), { timeoutMs: 20_000 }).catch(
        async () => c.leftovers(),
      ),
    ).toEqual([]);
}, 240_000);

describe('Docker networks kept by the agent', () => {
  it("each overlay has a Docker network on d-<name> over the upper half of the agent's subnet, gateway first, no masquerade, MTU and label", async () => {
    const state = await c.state();
    for (const h of c.hosts) {
      for (const overlay of ['dcos-1', 'dcos-2']) {
        const mine = state.agents.find((x) => x.ip === h.ip)!.overlays.find((o) => o.info.name === overlay)!;
        const half = mine.docker_bridge!.ip!;
        const n = (await inspect(h, overlay))!;
        expect(n.Driver).toBe('bridge');
        expect(n.IPAM.Config).toEqual([
          { Subnet: half, Gateway: mine.docker_bridge!.ip!.replace(/\.(\d+)\/\d+$/, (_m, last: string) => `.${Number(last) + 1}`) },
        ]);
        expect(n.Options).toMatchObject({
          'com.docker.network.bridge.name': `d-${overlay}`,
          'com.docker.network.bridge.enable_ip_masquerade': 'false',
          'com.docker.network.driver.mtu': '1450', // --mtu auto: the 1500-byte underlay minus 50
        });
        expect(n.Labels).toEqual({ 'io.vxnet.overlay': overlay });
      }
    }
    // A Docker container's address comes from that half.
    const h1Half = state.agents.find((x) => x.ip === c.hosts[0]!.ip)!.overlays.find((o) => o.info.name === 'dcos-1')!.docker_bridge!.ip!;
    expect(a1.ip.split('.').slice(0, 3).join('.')).toBe(h1Half.split('.').slice(0, 3).join('.'));
  });

  it("dockerd's FORWARD policy is DROP on these hosts, and the agent's DOCKER-USER rules let overlay traffic through", async () => {
    for (const h of c.hosts) {
      const filter = await runOk(inNetns(h.ns, ['iptables', '-S', 'FORWARD']));
      expect(filter).toContain('-P FORWARD DROP');
      const user = await runOk(inNetns(h.ns, ['iptables', '-S', 'DOCKER-USER']));
      expect(user.split('\n')[1]).toBe('-A DOCKER-USER -s 192.168.0.0/17 -m comment --comment vxnet -j ACCEPT');
    }
  });

  it('a Docker container reaches a Docker container on another host, a Podman container there and a CNI container on a third, by ping and TCP', async () => {
    for (const to of [b1, p2, c3]) {
      expect(await ping(a1.ns, to.ip, { count: 3, timeoutS: 2 }), `ping ${a1.name} -> ${to.name}`).toBe(true);
      const r = await httpGet(a1, to.ip);
      expect(r.stdout, `${a1.name} -> ${to.name}:8080 ${r.stderr}`).toMatch(/^HTTP\/1\.[01] 200 OK[\s\S]*\r\n\r\nvxnet-ok\n$/);
    }
    // And back: Podman and CNI containers reach the Docker container.
    expect(await ping(p2.ns, a1.ip, { timeoutS: 2 })).toBe(true);
    expect(await ping(c3.ns, a1.ip, { timeoutS: 2 })).toBe(true);
  });

  it("a Docker container reaches a host outside the overlays through NAT, with the agent's address as source", async () => {
    const outside = c.underlay.outside!;
    const listener = await udpListener(outside.ns, outside.ip, 7003);
    await udpSend(a1.ns, outside.ip, 7003);
    expect(await listener.source).toBe(a1.host.ip);
  });

  it("the master, vxnet state and the agent list Docker containers with runtime docker, Podman's and CNI ones with runtime cni", async () => {
    type Listed = { agent: string; id: string; name?: string; runtime?: string; network: string; ip: string };
    const want = [
      `${a1.host.ip} docker ${a1.ip}`,
      `${b1.host.ip} docker ${b1.ip}`,
      `${p2.host.ip} cni ${p2.ip}`,
      `${c3.host.ip} cni ${c3.ip}`,
    ].sort();
    const got = await waitFor(
      'the agents to report Docker and Podman containers',
      async () => {
        const body = (await (await fetch(`${c.localMasterUrl}/overlay-master/containers`)).json()) as { containers: Listed[] };
        const rows = body.containers.map((x) => `${x.agent} ${x.runtime} ${x.ip}`).sort();
        return JSON.stringify(rows) === JSON.stringify(want) ? body : undefined;
      },
      { timeoutMs: 15_000 },
    );
    expect(got.containers.find((x) => x.ip === a1.ip)?.name).toBe('da1');
    const text = (await c.vxnet(c.hosts[0]!, ['state', '--master', c.masterUrl])).stdout;
    expect(text).toMatch(/da1\s+docker\s+dcos-1/);
    expect(text).toMatch(new RegExp(`${c.hosts[0]!.ip.replace(/\./g, '\\.')}\\s+docker: ok \\(20\\.10`));
    expect((await agentState(c.hosts[0]!)).engines?.docker).toMatchObject({ status: 'ok' });
  });

  it('a Docker network deleted by hand comes back', async () => {
    const h = c.hosts[2]!;
    const before = (await inspect(h, 'dcos-2'))!;
    await h.docker!.dockerOk(['network', 'rm', 'dcos-2']);
    const t0 = Date.now();
    const back = await waitFor(
      'dcos-2 to come back',
      async () => {
        const n = await inspect(h, 'dcos-2');
        return n && n.Id !== before.Id ? n : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 20 },
    );
    console.log(`docker network dcos-2 recreated ${Date.now() - t0} ms after docker network rm`);
    expect(back.IPAM.Config).toEqual(before.IPAM.Config);
  });

  it("a conflicting network made by hand with a container on it fails the overlay clearly, and nothing of the user's is touched", async () => {
    const h = c.hosts[2]!;
    await c.stopAgent(h);
    await h.docker!.dockerOk(['network', 'rm', 'dcos-2']);
    await h.docker!.dockerOk(['network', 'create', '--subnet', '10.99.0.0/24', 'dcos-2']);
    await h.docker!.dockerOk(['run', '-d', '--name', 'mine', '--network', 'dcos-2', BUSYBOX_IMAGE, 'sleep', '3600']);
    const userNet = (await inspect(h, 'dcos-2'))!;
    await c.startAgent(h);
    const failed = await waitFor(
      'dcos-2 on h3 to be STATUS_FAILED',
      async () => {
        const o = (await c.state()).agents.find((x) => x.ip === h.ip)?.overlays.find((x) => x.info.name === 'dcos-2');
        return o?.state.status === 'STATUS_FAILED' ? o.state.error : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(failed).toMatch(
      /Docker network dcos-2 was not made by vxnet.*IPAM is 10\.99\.0\.0\/24.*Fix: remove it \(docker network rm dcos-2, after moving its containers: mine\)/,
    );
    // The other overlay stays OK, and the user's network and container are as they were.
    const mine = (await c.state()).agents.find((x) => x.ip === h.ip)!.overlays.find((x) => x.info.name === 'dcos-1')!;
    expect(mine.state.status).toBe('STATUS_OK');
    expect((await inspect(h, 'dcos-2'))!.Id).toBe(userNet.Id);
    expect((await h.docker!.dockerOk(['inspect', '-f', '{{.State.Running}}', 'mine'])).trim()).toBe('true');
    // Once the user removes them, vxnet's network takes the name again and the overlay heals.
    await h.docker!.dockerOk(['rm', '-f', 'mine']);
    await h.docker!.dockerOk(['network', 'rm', 'dcos-2']);
    await waitFor("dcos-2 to be vxnet's again", async () => (await inspect(h, 'dcos-2'))?.Labels?.['io.vxnet.overlay'] === 'dcos-2', {
      timeoutMs: 30_000,
    });
    await c.waitAllOk(60_000);
  });

  it('a dockerd that starts after the agent gets its networks; while it is away the overlays stay OK and the agent says docker: not found', async () => {
    const h = c.hosts[2]!;
    // An engine without vxnet's networks (as freshly installed), down while the agent starts.
    await c.stopAgent(h);
    await h.docker!.dockerOk(['network', 'rm', 'dcos-1', 'dcos-2']);
    await h.docker!.stop();
    await c.startAgent(h);
    const away = await waitFor(
      'the agent to report docker: not found',
      async () => {
        const s = await agentState(h).catch(() => undefined);
        return s?.engines?.docker?.status === 'not found' && s.overlays.every((o) => o.state.status === 'STATUS_OK') ? s : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(away.engines?.docker?.detail).toMatch(/^not found at unix:\/\//);
    const engineLine = new RegExp(`${h.ip.replace(/\./g, '\\.')}\\s+docker: not found at unix://`);
    await waitFor(
      'vxnet state to say docker: not found',
      async () => engineLine.test((await c.vxnet(h, ['state', '--master', c.masterUrl])).stdout),
      { timeoutMs: 15_000 },
    );
    await h.docker!.start();
    const t0 = Date.now();
    for (const overlay of ['dcos-1', 'dcos-2']) {
      await waitFor(
        `${overlay} on the dockerd started after the agent`,
        async () => (await inspect(h, overlay))?.Labels?.['io.vxnet.overlay'] === overlay,
        { timeoutMs: 20_000, intervalMs: 20 },
      );
    }
    console.log(`Docker networks created ${Date.now() - t0} ms after dockerd answered`);
    await waitFor('docker: ok again', async () => (await agentState(h)).engines?.docker?.status === 'ok', { timeoutMs: 20_000 });
  });

  it('an agent restart and a dockerd restart with --live-restore lose no ping between Docker containers across hosts', async () => {
    const h2 = c.hosts[1]!;
    const pinging = run(inNetns(a1.ns, ['ping', '-n', '-q', '-i', '0.05', '-c', '300', '-W', '1', b1.ip]), { timeoutMs: 60_000 });
    await new Promise((r) => setTimeout(r, 500));
    await c.stopAgent(h2);
    await c.startAgent(h2);
    await h2.docker!.restart();
    await c.waitAllOk(60_000);
    const r = await pinging;
    expect(r.stdout).toMatch(/300 packets transmitted, 300 received/);
    expect((await h2.docker!.dockerOk(['inspect', '-f', '{{.State.Running}}', b1.name])).trim()).toBe('true');
  });

  it("adding and removing containers never changes a bridge's MAC nor flushes the neighbours of the others", async () => {
    const h = c.hosts[1]!;
    const mac = async (dev: string) =>
      (JSON.parse(await runOk(['ip', '-n', h.ns, '-j', 'link', 'show', dev])) as { address: string }[])[0]!.address;
    const neighbours = async (dev: string) =>
      (await runOk(['ip', '-n', h.ns, 'neigh', 'show', 'dev', dev]))
        .split('\n')
        .filter((l) => l.includes('lladdr'))
        .map((l) => l.split(' ')[0])
        .sort();
    // Both containers already on h2 have talked to their gateway: their entries are there.
    expect(await ping(h.ns, b1.ip)).toBe(true);
    expect(await ping(h.ns, p2.ip)).toBe(true);
    const before = {
      d: await mac('d-dcos-1'),
      m: await mac('m-dcos-1'),
      dn: await neighbours('d-dcos-1'),
      mn: await neighbours('m-dcos-1'),
    };
    expect(before.d).toMatch(/^70:b3:d5:/);
    expect(before.dn).toContain(b1.ip);
    expect(before.mn).toContain(p2.ip);
    for (let i = 0; i < 3; i++) {
      await h.docker!.dockerOk(['run', '-d', '--name', `churn${i}`, '--network', 'dcos-1', BUSYBOX_IMAGE, 'sleep', '3600']);
      await h.podman!.podmanOk(['run', '-d', '--name', `churn${i}`, '--network', 'dcos-1', BUSYBOX_IMAGE, 'sleep', '3600'], {
        timeoutMs: 60_000,
      });
      await h.docker!.dockerOk(['rm', '-f', `churn${i}`]);
      await h.podman!.podmanOk(['rm', '-f', '-t', '0', `churn${i}`], { timeoutMs: 60_000 });
    }
    expect(await mac('d-dcos-1')).toBe(before.d);
    expect(await mac('m-dcos-1')).toBe(before.m);
    expect(await neighbours('d-dcos-1')).toEqual(expect.arrayContaining([b1.ip]));
    expect(await neighbours('m-dcos-1')).toEqual(expect.arrayContaining([p2.ip]));
  });

  it("podman rm releases the container's address", async () => {
    const h = c.hosts[1]!;
    const extra = await podmanRun(h, 'pb2', 'dcos-1', ['sleep', '3600']);
    const ipamFile = join(h.stateDir, 'ipam', 'dcos-1', extra.ip);
    expect((await run(['test', '-f', ipamFile])).code).toBe(0);
    await run(['ip', 'netns', 'del', extra.ns]);
    attached.splice(attached.indexOf(extra.ns), 1);
    await h.podman!.podmanOk(['rm', '-f', '-t', '0', 'pb2'], { timeoutMs: 60_000 });
    expect((await run(['test', '-f', ipamFile])).code).not.toBe(0);
  });

  it("vxnet agent cleanup refuses while containers use vxnet's Docker networks, and with --force leaves no network, rule, link or file", async () => {
    const h = c.hosts[0]!;
    await c.stopAgent(h);
    const args = ['agent', 'cleanup', '--state-dir', h.stateDir, '--cni-conf-dir', h.cniConfDir, '--docker-host', h.docker!.host];
    const refused = await c.vxnet(h, args);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/containers still use vxnet's Docker networks: dcos-1 \(da1\).*pass --force.*nothing was removed/);
    expect(await inspect(h, 'dcos-1')).toBeDefined();
    const forced = await c.vxnet(h, [...args, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toMatch(/removed docker network dcos-1/);
    const labelled = await h.docker!.dockerOk(['network', 'ls', '-q', '--filter', 'label=io.vxnet.overlay']);
    expect(labelled.trim()).toBe('');
    expect(await runOk(inNetns(h.ns, ['iptables', '-S', 'DOCKER-USER']))).not.toContain('vxnet');
    const links = (JSON.parse(await runOk(['ip', '-n', h.ns, '-j', 'link', 'show'])) as { ifname: string }[]).map((l) => l.ifname);
    expect(links.filter((l) => /^(vtep1024|[md]-)/.test(l))).toEqual([]);
    expect((await run(['sh', '-c', `ls ${h.cniConfDir} | grep vxnet || true`])).stdout.trim()).toBe('');
    // A second run finds nothing.
    const again = await c.vxnet(h, args);
    expect(again.stdout.trim()).toBe('nothing to remove');
  });
});
