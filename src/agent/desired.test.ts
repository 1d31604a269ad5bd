import { describe, expect, it } from 'vitest';
import { computeDesired, bridgeAddress } from './desired.js';
import { agent, overlayInfo } from './fixtures.test-helpers.js';

const options = { bridgeMtu: 1420, vxlanPort: 64000, networkConfig: { allocate_subnet: true, mesos_bridge: true, docker_bridge: true } };
const underlay = { dev: 'eth9', mtu: 1500 };

describe('computeDesired', () => {
  it('builds the VTEP, both bridges and one neighbour, FDB entry and route per peer', () => {
    const { desired, problems } = computeDesired(agent(1), [agent(1), agent(2), agent(3)], underlay, options);
    expect(problems).toEqual([]);
    expect(desired.links).toEqual([
      {
        name: 'vtep1024',
        kind: 'vxlan',
        mtu: 1450,
        mac: '70:b3:d5:0f:00:01',
        addresses: ['198.15.0.1/20'],
        vxlan: { vni: 1024, port: 64000, local: '198.18.0.1', dev: 'eth9', learning: false },
      },
      // Bridges get a fixed MAC from the VTEP's OUI and their gateway address, so ports never change it.
      { name: 'm-dcos', kind: 'bridge', mtu: 1420, mac: '70:b3:d5:80:00:01', addresses: ['44.128.0.1/25'], scope: 'dcos' },
      { name: 'd-dcos', kind: 'bridge', mtu: 1420, mac: '70:b3:d5:80:00:81', addresses: ['44.128.0.129/25'], scope: 'dcos' },
    ]);
    expect(desired.neighbours).toEqual([
      { ip: '198.15.0.2', mac: '70:b3:d5:0f:00:02' },
      { ip: '198.15.0.3', mac: '70:b3:d5:0f:00:03' },
    ]);
    expect(desired.fdb).toEqual([
      { mac: '70:b3:d5:0f:00:02', dst: '198.18.0.2' },
      { mac: '70:b3:d5:0f:00:03', dst: '198.18.0.3' },
    ]);
    expect(desired.routes).toEqual([
      { dst: '44.128.1.0/24', via: '198.15.0.2', scope: 'dcos' },
      { dst: '44.128.2.0/24', via: '198.15.0.3', scope: 'dcos' },
    ]);
  });

  const cases = [
    {
      description: 'vtep_mtu from the config wins over underlay MTU - 50',
      mine: agent(1, {
        backend: { vxlan: { vni: 1024, vtep_name: 'vtep1024', vtep_ip: '198.15.0.1/20', vtep_mac: '70:b3:d5:0f:00:01', vtep_mtu: 9000 } },
      }),
      mtu: 9000,
    },
    { description: 'no vtep_mtu: underlay MTU - 50', mine: agent(1), mtu: 1450 },
  ];
  for (const c of cases) {
    it(c.description, () => {
      expect(computeDesired(c.mine, [], underlay, options).desired.links[0]?.mtu).toBe(c.mtu);
    });
  }

  it('leaves out bridges the agent switched off, and bridges entirely with --no-subnet', () => {
    const noDocker = computeDesired(agent(1), [], underlay, {
      ...options,
      networkConfig: { allocate_subnet: true, mesos_bridge: true, docker_bridge: false },
    });
    expect(noDocker.desired.links.map((l) => l.name)).toEqual(['vtep1024', 'm-dcos']);
    const masterNode = {
      ip: '198.18.0.1',
      overlays: [overlayInfo(1, { subnet: undefined, mesos_bridge: undefined, docker_bridge: undefined })],
    };
    const r = computeDesired(masterNode, [agent(2)], underlay, {
      ...options,
      networkConfig: { allocate_subnet: false, mesos_bridge: false, docker_bridge: false },
    });
    expect(r.problems).toEqual([]);
    expect(r.desired.links.map((l) => l.name)).toEqual(['vtep1024']);
    expect(r.desired.routes).toEqual([{ dst: '44.128.1.0/24', via: '198.15.0.2', scope: 'dcos' }]);
  });

  it('adds IPv6 addresses, neighbours and routes when both ends have an IPv6 VTEP', () => {
    const v6 = (i: number) => ({
      ip: `198.18.0.${i}`,
      overlays: [
        overlayInfo(i, {
          subnet6: `fd01:0:0:${i}::/64`,
          mesos_bridge: { name: 'm-dcos', ip: `44.128.${i - 1}.0/25`, ip6: `fd01:0:0:${i}::/65` },
          backend: {
            vxlan: {
              vni: 1024,
              vtep_name: 'vtep1024',
              vtep_ip: `198.15.0.${i}/20`,
              vtep_ip6: `fd03::${i}/64`,
              vtep_mac: `70:b3:d5:0f:00:0${i}`,
            },
          },
        }),
      ],
    });
    const { desired } = computeDesired(v6(1), [v6(2)], underlay, options);
    expect(desired.links[0]?.addresses).toEqual(['198.15.0.1/20', 'fd03::1/64']);
    expect(desired.links[1]?.addresses).toEqual(['44.128.0.1/25', 'fd01:0:0:1::1/65']);
    expect(desired.neighbours).toContainEqual({ ip: 'fd03::2', mac: '70:b3:d5:0f:00:02' });
    expect(desired.routes).toContainEqual({ dst: 'fd01:0:0:2::/64', via: 'fd03::2', scope: 'dcos' });
  });

  it("fails only the overlay the master could not allocate, with the master's error", () => {
    const mine = {
      ip: '198.18.0.1',
      overlays: [
        overlayInfo(1),
        overlayInfo(1, {
          info: { name: 'full', subnet: '9.0.0.0/24', prefix: 24 },
          subnet: undefined,
          mesos_bridge: undefined,
          docker_bridge: undefined,
          state: { status: 'STATUS_FAILED', error: 'no free /24 left in overlay full (1 of 1 in use)' },
        }),
      ],
    };
    const r = computeDesired(mine, [], underlay, options);
    expect(r.problems).toEqual([{ scope: 'full', message: 'no free /24 left in overlay full (1 of 1 in use)' }]);
    expect(r.desired.links.map((l) => l.name)).toEqual(['vtep1024', 'm-dcos', 'd-dcos']);
  });

  it('reports a missing underlay interface instead of building a VTEP without one', () => {
    const r = computeDesired(agent(1), [agent(2)], undefined, options);
    expect(r.problems).toEqual([{ message: expect.stringContaining('no interface on this host holds the agent IP 198.18.0.1') }]);
    expect(r.desired.links.map((l) => l.name)).toEqual(['m-dcos', 'd-dcos']);
    expect(r.desired.routes).toEqual([]);
  });

  it('refuses names and values that must not reach the kernel', () => {
    const evil = overlayInfo(1, { info: { name: 'x y; rm', subnet: '44.128.0.0/16', prefix: 24 } });
    const r = computeDesired({ ip: '198.18.0.1', overlays: [evil] }, [], underlay, options);
    expect(r.problems[0]?.message).toContain('overlay name "x y; rm" is not usable');
    expect(r.desired.links.map((l) => l.name)).toEqual(['vtep1024']);
    const badPeer = agent(2, {
      backend: { vxlan: { vni: 1024, vtep_name: 'vtep1024', vtep_ip: '198.15.0.2/20', vtep_mac: 'zz:b3:d5:0f:00:02' } },
    });
    const p = computeDesired(agent(1), [badPeer], underlay, options);
    expect(p.warnings).toEqual(['peer "198.18.0.2" ignored: backend.vxlan.vtep_mac "zz:b3:d5:0f:00:02" is not a MAC address']);
    expect(p.desired.fdb).toEqual([]);
  });

  it('will not build a VTEP on an underlay whose name ip -batch could misread', () => {
    const r = computeDesired(agent(1), [agent(2)], { dev: 'eth#0', mtu: 1500 }, options);
    expect(r.problems[0]?.message).toContain('the underlay interface "eth#0" holding 198.18.0.1 has a name vxnet will not pass to ip');
    expect(r.desired.links.map((l) => l.name)).toEqual(['m-dcos', 'd-dcos']);
    expect(r.desired.keep).toContain('vtep1024');
  });

  it('gives each bridge half its first usable address', () => {
    expect(bridgeAddress('44.128.0.128/25')).toBe('44.128.0.129/25');
    expect(bridgeAddress('fd01::/65')).toBe('fd01::1/65');
    expect(bridgeAddress('not a net')).toBeUndefined();
  });
});
