import { describe, expect, it } from 'vitest';
import { computeDesired } from './desired.js';
import { agent } from './fixtures.test-helpers.js';
import { applyOps } from './apply.js';
import { emptyObserved, OWNER_ALIAS, type DesiredState, type ObservedLink, type ObservedState, type Op } from './model.js';
import { plan } from './plan.js';

const options = { bridgeMtu: 1420, vxlanPort: 64000, networkConfig: { allocate_subnet: true, mesos_bridge: true, docker_bridge: true } };
const underlay = { dev: 'eth9', mtu: 1500 };
const desiredFor = (peers: number[]): DesiredState =>
  computeDesired(
    agent(1),
    peers.map((i) => agent(i)),
    underlay,
    options,
  ).desired;

const eth9: ObservedLink = { name: 'eth9', kind: 'veth', mtu: 1500, mac: '02:00:00:00:00:01', up: true, addresses: ['198.18.0.1/24'] };
const converged = (peers: number[]): ObservedState => {
  const base = { ...emptyObserved(), links: [eth9] };
  return applyOps(base, plan(desiredFor(peers), base).ops);
};
const kinds = (ops: Op[]): string[] => ops.map((o) => o.kind);

describe('applyOps', () => {
  it('returns the state itself when there is nothing to apply (an idle full pass copies no tables)', () => {
    const state = converged([2, 3]);
    expect(applyOps(state, [])).toBe(state);
  });
});

describe('plan', () => {
  const cases: { description: string; peers: number[]; observed: () => ObservedState; expectKinds: string[] }[] = [
    {
      description: 'from scratch: links, addresses, then FDB and neighbours before routes',
      peers: [2],
      observed: () => ({ ...emptyObserved(), links: [eth9] }),
      expectKinds: [
        'link-add',
        'link-add',
        'link-add',
        'addr-add',
        'addr-add',
        'addr-add',
        'fdb-replace',
        'neigh-replace',
        'route-replace',
      ],
    },
    { description: 'converged state: nothing to do', peers: [2, 3], observed: () => converged([2, 3]), expectKinds: [] },
    {
      description: 'a peer deleted at the master: its route, neighbour and FDB entry go',
      peers: [2],
      observed: () => converged([2, 3]),
      expectKinds: ['route-del', 'neigh-del', 'fdb-del'],
    },
    {
      description: 'a neighbour deleted by hand comes back, nothing else changes',
      peers: [2, 3],
      observed: () => {
        const s = converged([2, 3]);
        s.neighbours = s.neighbours.filter((n) => n.ip !== '198.15.0.3');
        return s;
      },
      expectKinds: ['neigh-replace'],
    },
    {
      description: 'a VTEP with the wrong MAC is fixed in place, and its entries rewritten',
      peers: [2],
      observed: () => {
        const s = converged([2]);
        s.links.find((l) => l.name === 'vtep1024')!.mac = '70:b3:d5:0f:00:09';
        return s;
      },
      expectKinds: ['link-set', 'fdb-replace', 'neigh-replace'],
    },
    {
      description: 'a VTEP with the wrong port is recreated, with its address and entries',
      peers: [2],
      observed: () => {
        const s = converged([2]);
        s.links.find((l) => l.name === 'vtep1024')!.vxlan!.port = 4789;
        return s;
      },
      expectKinds: ['link-del', 'link-add', 'addr-add', 'fdb-replace', 'neigh-replace', 'route-replace'],
    },
    {
      description: 'stale owned bridge removed; a foreign bridge is left alone',
      peers: [2],
      observed: () => {
        const s = converged([2]);
        s.links.push({ name: 'm-old', kind: 'bridge', alias: OWNER_ALIAS, mtu: 1420, mac: '02:00:00:00:00:05', up: true, addresses: [] });
        s.links.push({ name: 'docker0', kind: 'bridge', mtu: 1500, mac: '02:00:00:00:00:06', up: true, addresses: ['172.17.0.1/16'] });
        return s;
      },
      expectKinds: ['link-del'],
    },
    {
      description: 'an FDB entry pointing at the wrong host is replaced and the stale one removed',
      peers: [2],
      observed: () => {
        const s = converged([2]);
        s.fdb = [{ mac: '70:b3:d5:0f:00:02', dst: '198.18.0.77' }];
        return s;
      },
      expectKinds: ['fdb-del', 'fdb-replace'],
    },
  ];

  for (const c of cases) {
    it(c.description, () => {
      const observed = c.observed();
      const { ops, problems } = plan(desiredFor(c.peers), observed);
      expect(problems).toEqual([]);
      expect(kinds(ops)).toEqual(c.expectKinds);
      // Applying the ops converges: planning again yields nothing.
      expect(plan(desiredFor(c.peers), applyOps(observed, ops)).ops).toEqual([]);
    });
  }

  it('leaves a matching VTEP untouched even when every peer entry must be added', () => {
    const observed = converged([]);
    const { ops } = plan(desiredFor([2, 3]), observed);
    expect(ops.some((o) => o.kind.startsWith('link-') || o.kind.startsWith('addr-'))).toBe(false);
    expect(kinds(ops)).toEqual(['fdb-replace', 'fdb-replace', 'neigh-replace', 'neigh-replace', 'route-replace', 'route-replace']);
  });

  it('never touches a link with our name that vxnet did not create, and says so', () => {
    const observed = {
      ...emptyObserved(),
      links: [eth9, { name: 'm-dcos', kind: 'bridge', mtu: 1500, mac: '02:00:00:00:00:07', up: true, addresses: [] }],
    };
    const { ops, problems } = plan(desiredFor([]), observed);
    expect(ops.filter((o) => 'name' in o && o.name === 'm-dcos')).toEqual([]);
    expect(ops.filter((o) => 'dev' in o && o.dev === 'm-dcos')).toEqual([]);
    expect(problems).toEqual([{ scope: 'dcos', message: 'interface m-dcos exists but was not created by vxnet: remove it or rename it' }]);
  });

  it('skips the ops of overlays whose attempts are used up', () => {
    const observed = { ...emptyObserved(), links: [eth9] };
    const { ops } = plan(desiredFor([2]), observed, new Set(['dcos']));
    expect(ops.filter((o) => o.scope === 'dcos')).toEqual([]);
    expect(kinds(ops)).toEqual(['link-add', 'addr-add', 'fdb-replace', 'neigh-replace']);
  });

  it('with nothing desired (cleanup) removes only owned links and routes', () => {
    const observed = converged([2, 3]);
    observed.links.push({ name: 'docker0', kind: 'bridge', mtu: 1500, mac: '02:00:00:00:00:06', up: true, addresses: [] });
    const { ops } = plan({ links: [], neighbours: [], fdb: [], routes: [] }, observed);
    expect(ops).toEqual([
      { kind: 'link-del', name: 'd-dcos' },
      { kind: 'link-del', name: 'm-dcos' },
      { kind: 'link-del', name: 'vtep1024' },
    ]);
  });
});

describe("plan when this host's own spec is incomplete", () => {
  it('keeps a working VTEP and its entries when the underlay address vanished', () => {
    const observed = converged([2]);
    const { desired, problems } = computeDesired(agent(1), [agent(2)], undefined, options);
    expect(problems).toHaveLength(1);
    expect(plan(desired, observed).ops).toEqual([]);
  });
});
