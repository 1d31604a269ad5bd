// Dual-stack overlays on real kernels: the agent programs IPv6 VTEP addresses,
// neighbours, routes, forwarding and NAT next to the IPv4 ones.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MasterState } from '../src/api/types.js';
import { inNetns, ping, runOk, startCluster, type Cluster, type Host } from '../src/testbed/index.js';

let cluster: Cluster;
let state: MasterState;

beforeAll(async () => {
  cluster = await startCluster({
    hosts: 2,
    config: {
      vtep_subnet: '192.15.0.0/20',
      vtep_subnet6: 'fd03::/64',
      vtep_mac_oui: '70:B3:D5:00:00:00',
      overlays: [{ name: 'dual', subnet: '44.128.0.0/16', prefix: 24, subnet6: 'fd01::/56', prefix6: 64 }],
    },
  });
  state = await cluster.waitAllOk(30_000);
});

afterAll(async () => {
  await cluster?.teardown();
  if (cluster) expect(await cluster.leftovers()).toEqual([]);
});

describe('dual-stack overlay', () => {
  it('routes IPv6 overlay subnets over the VTEP and reaches the peer bridge', async () => {
    const [h1, h2] = cluster.hosts as [Host, Host];
    const peer = state.agents.find((a) => a.ip === h2.ip)!.overlays[0]!;
    const peerVtep6 = peer.backend.vxlan.vtep_ip6!.split('/')[0]!;
    const routes = await runOk(['ip', '-n', h1.ns, '-6', 'route', 'show', 'proto', '177']);
    expect(routes).toContain(`${peer.subnet6} via ${peerVtep6} dev vtep1024`);
    const neigh = await runOk(['ip', '-n', h1.ns, '-6', 'neigh', 'show', 'dev', 'vtep1024', 'nud', 'permanent']);
    expect(neigh).toContain(`${peerVtep6} lladdr ${peer.backend.vxlan.vtep_mac} PERMANENT`);
    expect((await runOk(inNetns(h1.ns, ['cat', '/proc/sys/net/ipv6/conf/all/forwarding']))).trim()).toBe('1');
    expect(await runOk(inNetns(h1.ns, ['nft', 'list', 'table', 'ip6', 'vxnet']))).toContain('masquerade');
    const peerBridge6 = peer.mesos_bridge!.ip6!.replace(/::\/\d+$/, '::1');
    expect(await ping(h1.ns, peerBridge6)).toBe(true);
  });
});
