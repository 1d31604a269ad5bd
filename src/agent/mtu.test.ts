import { describe, expect, it } from 'vitest';
import type { AgentInfo } from '../api/types.js';
import { desiredFrom } from './desired.js';
import { agent } from './fixtures.test-helpers.js';
import { parseSelf } from './self.js';
import { chooseMtu, clusterMtuOf, encapOverhead, FALLBACK_MTU, underlayCarries, vtepMtuOf } from './mtu.js';

describe('auto MTU from the underlay', () => {
  it('takes 50 bytes off an IPv4 underlay and 70 off an IPv6 one', () => {
    expect(encapOverhead(4)).toBe(50);
    expect(encapOverhead(6)).toBe(70);
    expect(underlayCarries(9000, 4)).toBe(8950);
    expect(underlayCarries(1500, 4)).toBe(1450);
    expect(underlayCarries(1500, 6)).toBe(1430);
    expect(underlayCarries(9000, 6)).toBe(8930);
  });

  it('reports nothing for an underlay too small for a VXLAN device', () => {
    expect(underlayCarries(601, 4)).toBeUndefined();
    expect(underlayCarries(602, 4)).toBe(552);
    expect(underlayCarries(0, 4)).toBeUndefined();
  });
});

describe('chooseMtu', () => {
  it('auto: the underlay alone until the master publishes the lowest', () => {
    expect(chooseMtu({ flag: 'auto', own: 8950 })).toEqual({ container: 8950, vxlan: 8950, source: 'underlay' });
  });

  it("auto: the cluster's lowest lowers a big host, containers and VXLAN device alike", () => {
    expect(chooseMtu({ flag: 'auto', own: 8950, cluster: 1350 })).toEqual({ container: 1350, vxlan: 1350, source: 'cluster' });
  });

  it("auto: the host's own value when it is lower than what the master has heard so far", () => {
    expect(chooseMtu({ flag: 'auto', own: 1350, cluster: 8950 })).toEqual({ container: 1350, vxlan: 1350, source: 'underlay' });
    expect(chooseMtu({ flag: 'auto', cluster: 1400 })).toEqual({ container: 1400, vxlan: 1400, source: 'cluster' });
  });

  it('auto with nothing seen yet: the DC/OS default for containers, the VXLAN device left to the underlay rule', () => {
    expect(chooseMtu({ flag: 'auto' })).toEqual({ container: FALLBACK_MTU, source: 'fallback' });
  });

  it('vtep_mtu wins over auto for both', () => {
    expect(chooseMtu({ flag: 'auto', vtepMtu: 1300, own: 8950, cluster: 1350 })).toEqual({
      container: 1300,
      vxlan: 1300,
      source: 'vtep_mtu',
    });
  });

  it('--mtu wins over vtep_mtu and auto for containers; the VXLAN device keeps vtep_mtu or auto', () => {
    expect(chooseMtu({ flag: 1200, vtepMtu: 1300, own: 8950 })).toEqual({ container: 1200, vxlan: 1300, source: 'flag' });
    expect(chooseMtu({ flag: 1420, own: 1450, cluster: 1400 })).toEqual({ container: 1420, vxlan: 1400, source: 'flag' });
    expect(chooseMtu({ flag: 1420 })).toEqual({ container: 1420, source: 'flag' });
  });
});

describe('values from the master', () => {
  const info = (vtep_mtu: unknown): AgentInfo =>
    ({ ip: '198.18.0.1', overlays: [{ backend: { vxlan: { vtep_mtu } } }] }) as unknown as AgentInfo;

  it('takes vtep_mtu only when it is an MTU a VXLAN device accepts', () => {
    expect(vtepMtuOf(info(1300))).toBe(1300);
    expect(vtepMtuOf(info(undefined))).toBeUndefined();
    expect(vtepMtuOf(info(100))).toBeUndefined();
    expect(vtepMtuOf(info('1300'))).toBeUndefined();
    expect(vtepMtuOf({ ip: '198.18.0.1', overlays: [] })).toBeUndefined();
  });

  it('ignores an mtu event whose value is no MTU, as it would an unknown event', () => {
    expect(clusterMtuOf({ mtu: 1400 })).toBe(1400);
    expect(clusterMtuOf({ mtu: 1400.5 })).toBeUndefined();
    expect(clusterMtuOf({ mtu: '1400' })).toBeUndefined();
    expect(clusterMtuOf({ mtu: 70000 })).toBeUndefined();
    expect(clusterMtuOf({})).toBeUndefined();
  });
});

describe('the chosen MTU reaches every part of the host', () => {
  const options = { networkConfig: { allocate_subnet: true, mesos_bridge: true, docker_bridge: true }, ipamDir: '/var/lib/vxnet/ipam' };
  const underlay = { dev: 'eth0', mtu: 9000 };

  it('bridges, conflists, Docker networks and the VXLAN device all follow the cluster lowest under auto', () => {
    const self = parseSelf(agent(1), { ...options, mtu: 'auto', ownMtu: 8950, clusterMtu: 1350 });
    expect(self.mtu).toEqual({ container: 1350, vxlan: 1350, source: 'cluster' });
    expect(self.own.bridges.map((b) => b.mtu)).toEqual([1350, 1350]);
    expect(self.conflists.map((c) => JSON.parse(c.text!).plugins[0].mtu)).toEqual([1350]);
    expect(self.docker.map((d) => d.mtu)).toEqual([1350]);
    const { desired } = desiredFrom(self.own, [], underlay, { vxlanPort: 64000 });
    expect(desired.links.find((l) => l.kind === 'vxlan')?.mtu).toBe(1350);
  });

  it('a 9000-byte underlay alone gives 8950', () => {
    const self = parseSelf(agent(1), { ...options, mtu: 'auto', ownMtu: underlayCarries(9000, 4) });
    expect(self.own.bridges.map((b) => b.mtu)).toEqual([8950, 8950]);
    expect(desiredFrom(self.own, [], underlay, { vxlanPort: 64000 }).desired.links[0]).toMatchObject({ kind: 'vxlan', mtu: 8950 });
  });

  it('vtep_mtu from the master wins for both, --mtu for the containers', () => {
    const withVtepMtu = agent(1, { backend: { vxlan: { ...agent(1).overlays[0]!.backend.vxlan, vtep_mtu: 1300 } } });
    const auto = parseSelf(withVtepMtu, { ...options, mtu: 'auto', ownMtu: 8950, clusterMtu: 1350 });
    expect(auto.mtu).toEqual({ container: 1300, vxlan: 1300, source: 'vtep_mtu' });
    expect(desiredFrom(auto.own, [], underlay, { vxlanPort: 64000 }).desired.links[0]).toMatchObject({ kind: 'vxlan', mtu: 1300 });
    const flag = parseSelf(withVtepMtu, { ...options, mtu: 1200, ownMtu: 8950 });
    expect(flag.own.bridges.map((b) => b.mtu)).toEqual([1200, 1200]);
    expect(desiredFrom(flag.own, [], underlay, { vxlanPort: 64000 }).desired.links[0]).toMatchObject({ kind: 'vxlan', mtu: 1300 });
  });
});
