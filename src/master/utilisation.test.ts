import { describe, expect, it } from 'vitest';
import { canonicalize } from '../config/canonical.js';
import { agentRecord } from '../store/contract.case.test.js';
import type { AgentRecord } from '../store/store.js';
import { utilisation } from './utilisation.js';

const config = canonicalize({
  vtep_subnet: '198.15.0.0/29', // 6 VTEP addresses
  vtep_mac_oui: '70:B3:D5:00:00:00',
  overlays: [
    { name: 'dcos', subnet: '44.128.0.0/22', prefix: 24, subnet6: 'fd00::/62', prefix6: 64 }, // 4 subnets each family
    { name: 'off', subnet: '45.0.0.0/24', prefix: 25, enabled: false },
  ],
});

describe('utilisation', () => {
  it('agent subnets, VTEP and container addresses per overlay, family and agent', () => {
    const a = agentRecord('10.0.0.1', 1, {
      vtepIp: '198.15.0.1',
      overlays: { dcos: { subnet: '44.128.0.0/24', subnet6: 'fd00::/64' } },
      containers: [
        { id: 'c1', network: 'dcos', ip: '44.128.0.2', ip6: 'fd00::2', interface: 'eth0' },
        { id: 'd1', network: 'dcos', ip: '44.128.0.130', interface: 'eth0', runtime: 'docker' },
      ],
    });
    // Only the mesos bridge (lower half): half the capacity.
    const b = agentRecord('10.0.0.2', 2, {
      vtepIp: '198.15.0.2',
      networkConfig: { allocate_subnet: true, mesos_bridge: true, docker_bridge: false },
      overlays: { dcos: { subnet: '44.128.1.0/24' } },
    });
    // Expired: its blocks are held (quarantined), its containers not counted.
    const c = {
      ...agentRecord('10.0.0.3', 3, { vtepIp: '198.15.0.3', overlays: { dcos: { subnet: '44.128.2.0/24' } } }),
      expired: { at: 'x', until: 'y' },
    } as AgentRecord;
    const view = utilisation(config, [a, b, c], 42);
    expect(view.revision).toBe(42);
    expect(view.vtep).toEqual([{ family: 4, cidr: '198.15.0.0/29', used: 3, free: 3, total: 6, percent: 50 }]);
    const [dcos, off] = view.overlays;
    // A /24 half is a /25: 128 - network - gateway - broadcast = 125 addresses.
    expect(dcos!.families[0]).toEqual({
      family: 4,
      cidr: '44.128.0.0/22',
      prefix: 24,
      subnets: { used: 3, free: 1, total: 4, percent: 75, quarantined: 1 },
      containers: { used: 2, free: 375 - 2, total: 375, percent: 0.5 },
    });
    expect(dcos!.families[1]!.subnets).toEqual({ used: 1, free: 3, total: 4, percent: 25, quarantined: 0 });
    expect(dcos!.families[1]!.containers.used).toBe(1);
    expect(off).toEqual({
      name: 'off',
      enabled: false,
      families: [expect.objectContaining({ subnets: expect.objectContaining({ used: 0, total: 2 }) })],
    });
    expect(view.agents.map((x) => x.ip)).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(view.agents[0]!.overlays.map((o) => `${o.name} ${o.family} ${o.subnet} ${o.containers.used}/${o.containers.total}`)).toEqual([
      'dcos 4 44.128.0.0/24 2/250',
      `dcos 6 fd00::/64 1/${2 * (2 ** 63 - 2)}`,
    ]);
    expect(view.agents[1]!.overlays[0]!.containers).toEqual({ used: 0, free: 125, total: 125, percent: 0 });
  });
});
