import { describe, expect, it } from 'vitest';
import { agent } from '../fixtures.test-helpers.js';
import {
  desiredDockerNetworks,
  dockerContainers,
  OPT_BRIDGE,
  OPT_MASQUERADE,
  OPT_MTU,
  OWNER_LABEL,
  planDocker,
  type DockerNetworkSpec,
  type ObservedDockerNetwork,
} from './networks.js';

const spec: DockerNetworkSpec = {
  name: 'dcos',
  bridge: 'd-dcos',
  ranges: [{ subnet: '44.128.0.128/25', gateway: '44.128.0.129' }],
  mtu: 1420,
};

const network = (over: Partial<ObservedDockerNetwork> = {}): ObservedDockerNetwork => ({
  id: 'n1',
  name: 'dcos',
  driver: 'bridge',
  options: { [OPT_BRIDGE]: 'd-dcos', [OPT_MASQUERADE]: 'false', [OPT_MTU]: '1420' },
  labels: { [OWNER_LABEL]: 'dcos' },
  ranges: [{ subnet: '44.128.0.128/25', gateway: '44.128.0.129' }],
  containers: [],
  ...over,
});
const web = { id: 'a'.repeat(64), name: 'web', ip: '44.128.0.130' };

describe('desiredDockerNetworks', () => {
  it("puts each overlay's network on d-<name> over the docker half, gateway first", () => {
    expect(desiredDockerNetworks(agent(1), 1420)).toEqual([spec]);
  });

  it('adds the IPv6 half when the overlay has one', () => {
    const me = agent(1);
    me.overlays[0]!.docker_bridge = { name: 'd-dcos', ip: '44.128.0.128/25', ip6: 'fd00:1::8000:0:0:0/65' };
    expect(desiredDockerNetworks(me, 1420)[0]!.ranges).toEqual([
      { subnet: '44.128.0.128/25', gateway: '44.128.0.129' },
      { subnet: 'fd00:1:0:0:8000::/65', gateway: 'fd00:1::8000:0:0:1' },
    ]);
  });

  it('has none for an overlay without a docker bridge', () => {
    const me = agent(1);
    delete me.overlays[0]!.docker_bridge;
    expect(desiredDockerNetworks(me, 1420)).toEqual([]);
  });
});

describe('planDocker', () => {
  const cases: { description: string; observed: ObservedDockerNetwork[]; ops: string[]; problems?: RegExp; warnings?: RegExp }[] = [
    { description: 'creates a missing network', observed: [], ops: ['create dcos'] },
    { description: 'leaves a matching network alone', observed: [network()], ops: [] },
    {
      description: 'replaces its own mismatched network when no container uses it',
      observed: [network({ ranges: [{ subnet: '10.0.0.0/24', gateway: '10.0.0.1' }] })],
      ops: ['remove n1', 'create dcos'],
    },
    {
      description: 'fails the overlay, naming network, mismatch, containers and fix, when containers use its mismatched network',
      observed: [network({ options: { [OPT_BRIDGE]: 'br-x', [OPT_MASQUERADE]: 'false', [OPT_MTU]: '1420' }, containers: [web] })],
      ops: [],
      problems:
        /Docker network dcos does not match the overlay: bridge is br-x, not d-dcos; containers still use it \(web\)\. Fix: stop or disconnect/,
    },
    {
      description: 'leaves a network that differs only in MTU while containers use it, with a warning',
      observed: [network({ options: { [OPT_BRIDGE]: 'd-dcos', [OPT_MASQUERADE]: 'false', [OPT_MTU]: '1380' }, containers: [web] })],
      ops: [],
      warnings: /MTU 1380, not 1420; left as it is while containers use it \(web\)/,
    },
    {
      description: 'recreates its own network with the new MTU once nothing uses it',
      observed: [network({ options: { [OPT_BRIDGE]: 'd-dcos', [OPT_MASQUERADE]: 'false', [OPT_MTU]: '1380' } })],
      ops: ['remove n1', 'create dcos'],
    },
    {
      description: "never touches a user's mismatched network, even an empty one",
      observed: [network({ labels: {}, ranges: [{ subnet: '10.0.0.0/24' }] })],
      ops: [],
      problems:
        /was not made by vxnet \(no label io\.vxnet\.overlay\).*IPAM is 10\.0\.0\.0\/24 gw -, not 44\.128\.0\.128\/25 gw 44\.128\.0\.129.*docker network rm dcos/,
    },
    {
      description: "accepts a user's network that serves the overlay",
      observed: [network({ labels: {}, options: { [OPT_BRIDGE]: 'd-dcos', [OPT_MASQUERADE]: 'false' } })],
      ops: [],
    },
    {
      description: "wants masquerading off (vxnet's NAT does egress)",
      observed: [network({ options: { [OPT_BRIDGE]: 'd-dcos', [OPT_MTU]: '1420' } })],
      ops: ['remove n1', 'create dcos'],
    },
    {
      description: 'removes its networks of overlays this host no longer serves',
      observed: [network(), network({ id: 'n2', name: 'old', labels: { [OWNER_LABEL]: 'old' } })],
      ops: ['remove n2'],
    },
    {
      description: 'keeps such a network while containers use it, with a warning',
      observed: [network(), network({ id: 'n2', name: 'old', labels: { [OWNER_LABEL]: 'old' }, containers: [web] })],
      ops: [],
      warnings: /Docker network old is no longer needed but containers still use it \(web\)/,
    },
    {
      description: 'ignores unlabelled networks of other names',
      observed: [network(), network({ id: 'n3', name: 'bridge', labels: {} })],
      ops: [],
    },
  ];
  for (const c of cases) {
    it(c.description, () => {
      const planned = planDocker([spec], c.observed);
      expect(planned.ops.map((op) => (op.kind === 'create' ? `create ${op.spec.name}` : `remove ${op.id}`))).toEqual(c.ops);
      if (c.problems) {
        expect(planned.problems).toHaveLength(1);
        expect(planned.problems[0]!.scope).toBe('dcos');
        expect(planned.problems[0]!.message).toMatch(c.problems);
      } else expect(planned.problems).toEqual([]);
      if (c.warnings) expect(planned.warnings.join('\n')).toMatch(c.warnings);
      else expect(planned.warnings).toEqual([]);
    });
  }
});

describe('dockerContainers', () => {
  it('reports containers on overlay networks with runtime docker, and nothing of other networks', () => {
    const observed = [
      network({ containers: [web, { id: 'b'.repeat(64), name: 'v6', ip: '44.128.0.131', ip6: 'fd00::3' }] }),
      network({ name: 'other', containers: [web] }),
    ];
    expect(dockerContainers(observed, new Set(['dcos']))).toEqual([
      { id: 'a'.repeat(64), name: 'web', network: 'dcos', ip: '44.128.0.130', interface: '', runtime: 'docker' },
      { id: 'b'.repeat(64), name: 'v6', network: 'dcos', ip: '44.128.0.131', ip6: 'fd00::3', interface: '', runtime: 'docker' },
    ]);
  });
});
