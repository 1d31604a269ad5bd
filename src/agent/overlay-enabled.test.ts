// Disabled overlays (`info.enabled: false`): the master keeps the subnets, the host drops the data plane.
import { describe, expect, it } from 'vitest';
import { computeDesired } from './desired.js';
import { agent, overlayInfo } from './fixtures.test-helpers.js';
import { parseSelf } from './self.js';

const networkConfig = { allocate_subnet: true, mesos_bridge: true, docker_bridge: true };
const off = (index: number) => overlayInfo(index, { info: { name: 'off', subnet: '44.140.0.0/16', prefix: 24, enabled: false } });
const withOff = (index: number) => {
  const a = agent(index);
  const o = off(index);
  return {
    ...a,
    overlays: [
      ...a.overlays,
      {
        ...o,
        subnet: `44.140.${index - 1}.0/24`,
        mesos_bridge: { name: 'm-off', ip: `44.140.${index - 1}.0/25` },
        docker_bridge: { name: 'd-off', ip: `44.140.${index - 1}.128/25` },
      },
    ],
  };
};
const underlay = { dev: 'eth0', mtu: 1500 };

describe('a disabled overlay', () => {
  it('has no bridges here and no routes to peers in it; the enabled one is untouched', () => {
    const { desired, problems } = computeDesired(withOff(1), [withOff(2)], underlay, { bridgeMtu: 1420, vxlanPort: 64000, networkConfig });
    expect(problems).toEqual([]);
    expect(desired.links.map((l) => l.name)).toEqual(['vtep1024', 'm-dcos', 'd-dcos']);
    expect(desired.routes.map((r) => r.dst)).toEqual(['44.128.1.0/24']);
  });

  it('gets no conflist, Docker network or NAT, no status, but is still listed (its containers are reported)', () => {
    const self = parseSelf(withOff(1), { mtu: 1420, networkConfig, ipamDir: '/state/ipam' });
    expect(self.overlays).toEqual(['dcos']);
    expect(self.listed).toEqual(['dcos', 'off']);
    expect(self.conflists.map((c) => c.overlay)).toEqual(['dcos']);
    expect(self.docker.map((d) => d.name)).toEqual(['dcos']);
    expect(self.nat.v4).toEqual(['44.128.0.0/16']);
  });

  it('keeps the VTEP and routes to peers in enabled overlays when all of its own are disabled', () => {
    const me = { ...withOff(1), overlays: [withOff(1).overlays[1]!] };
    const { desired, problems } = computeDesired(me, [withOff(2)], underlay, { bridgeMtu: 1420, vxlanPort: 64000, networkConfig });
    expect(problems).toEqual([]);
    expect(desired.links.map((l) => l.name)).toEqual(['vtep1024']);
    expect(desired.routes.map((r) => r.dst)).toEqual(['44.128.1.0/24']);
  });
});
