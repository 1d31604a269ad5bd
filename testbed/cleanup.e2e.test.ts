// `vxnet agent cleanup` leaves a host exactly as it was before the agent, and
// the agent's conflist works when the reference plugins are called directly.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, hostSnapshot, inNetns, ping, run, startCluster, waitFor, type Cluster } from '../src/testbed/index.js';

let c: Cluster;

beforeAll(async () => {
  c = await startCluster({ hosts: 2, startAgents: false });
});

afterAll(async () => {
  await c?.teardown();
  if (c)
    expect(
      await waitFor('nothing left behind', async () => ((await c.leftovers()).length === 0 ? [] : undefined), { timeoutMs: 10_000 }),
    ).toEqual([]);
});

/** One plugin call the way a CNI runtime makes it, from host namespace `hostNs`. */
function callPlugin(hostNs: string, command: 'ADD' | 'DEL', netns: string, stdin: object): Promise<{ code: number; out: string }> {
  const type = (stdin as { type: string }).type;
  return new Promise((resolve) => {
    const child = execFile(
      'nsenter',
      [`--net=/run/netns/${hostNs}`, '--', `/usr/lib/cni/${type}`],
      {
        env: {
          ...process.env,
          CNI_COMMAND: command,
          CNI_CONTAINERID: netns,
          CNI_NETNS: `/run/netns/${netns}`,
          CNI_IFNAME: 'eth0',
          CNI_PATH: '/usr/lib/cni',
        },
      },
      (err, stdout) => resolve({ code: err ? 1 : 0, out: String(stdout) }),
    );
    child.stdin?.end(JSON.stringify(stdin));
  });
}

describe('agent conflist and cleanup', () => {
  let before: Record<string, string[]>;

  it('the conflist the agent writes attaches a namespace with the plugins called directly', async () => {
    const [h1, h2] = c.hosts as [(typeof c.hosts)[0], (typeof c.hosts)[0]];
    before = await hostSnapshot(h1.ns);
    for (const h of c.hosts) await c.startAgent(h);
    const state = await c.waitAllOk();
    const file = join(h1.cniConfDir, 'vxnet-dcos-1.conflist');
    await waitFor('the agent to write its conflist', () => existsSync(file));
    const list = JSON.parse(readFileSync(file, 'utf8')) as { name: string; cniVersion: string; plugins: { type: string }[] };
    expect(list.name).toBe('dcos-1');

    const peerIp = await c.runContainer(h2, c.names.container('peer'), 'dcos-1', ['sleep', '300']);
    const netns = c.names.container('direct');
    await run(['ip', 'netns', 'add', netns]);
    try {
      let prev: unknown;
      for (const p of list.plugins) {
        const r = await callPlugin(h1.ns, 'ADD', netns, {
          ...p,
          name: list.name,
          cniVersion: list.cniVersion,
          ...(prev ? { prevResult: prev } : {}),
        });
        expect(r.code, `${p.type} ADD: ${r.out}`).toBe(0);
        prev = JSON.parse(r.out);
      }
      const ip = (prev as { ips: { address: string }[] }).ips[0]!.address.split('/')[0]!;
      const half = state.agents.find((a) => a.ip === h1.ip)!.overlays.find((o) => o.info.name === 'dcos-1')!.mesos_bridge!.ip!;
      expect(ip.split('.').slice(0, 3).join('.')).toBe(half.split('.').slice(0, 3).join('.'));
      expect(await ping(netns, peerIp, { timeoutS: 2 })).toBe(true);
      for (const p of [...list.plugins].reverse()) {
        const r = await callPlugin(h1.ns, 'DEL', netns, { ...p, name: list.name, cniVersion: list.cniVersion, prevResult: prev });
        expect(r.code, `${p.type} DEL: ${r.out}`).toBe(0);
      }
      expect(readdirSync(join(h1.stateDir, 'ipam', 'dcos-1'))).not.toContain(ip);
    } finally {
      await run(['ip', 'netns', 'del', netns]);
    }
  });

  it('vxnet agent cleanup leaves no trace, and a second run changes nothing', async () => {
    const h1 = c.hosts[0]!;
    const name = c.names.container('local');
    await c.runContainer(h1, name, 'dcos-2', ['sleep', '300']);
    await c.stopAgent(h1);
    await c.removeContainer(h1, name);
    expect((await hostSnapshot(h1.ns)).links).toContain('vtep1024');
    for (let i = 0; i < 2; i++) {
      const r = await run(inNetns(h1.ns, ['node', CLI, 'agent', 'cleanup', '--state-dir', h1.stateDir, '--cni-conf-dir', h1.cniConfDir]));
      expect(r.code, r.stderr).toBe(0);
    }
    expect(await hostSnapshot(h1.ns)).toEqual(before);
    expect(readdirSync(h1.cniConfDir)).toEqual([]);
    expect(existsSync(join(h1.stateDir, 'ipam'))).toBe(false);
  });
});
