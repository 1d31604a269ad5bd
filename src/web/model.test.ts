import { describe, expect, it } from 'vitest';
import type { AgentInfo, AgentOverlayInfo, MasterState } from '../api/types.js';
import {
  agentRows,
  agentText,
  applyWatchEvent,
  blockCount,
  containerRows,
  containerText,
  filterRows,
  formatUtilisation,
  networkRows,
  networkText,
  parseRoute,
  routeHash,
  type ListedContainer,
} from './model.js';

const vxlan = (n: number) => ({ vni: 1024, vtep_name: 'vtep1024', vtep_ip: `192.15.0.${n}/20`, vtep_mac: `70:b3:d5:0f:00:0${n}` });

function overlay(name: string, subnet: string | undefined, extra: Partial<AgentOverlayInfo> = {}, n = 1): AgentOverlayInfo {
  return {
    info: { name, subnet: name === 'v6' ? undefined : '10.0.0.0/16', prefix: 24 },
    ...(subnet && { subnet }),
    backend: { vxlan: vxlan(n) },
    state: { status: 'STATUS_OK' },
    ...extra,
  };
}

const state: MasterState = {
  network: {
    vtep_subnet: '192.15.0.0/20',
    vtep_mac_oui: '70:B3:D5:00:00:00',
    overlays: [
      { name: 'dcos-1', subnet: '10.0.0.0/16', prefix: 24 },
      { name: 'v6', subnet6: 'fd00::/48', prefix6: 80 },
      { name: 'both', subnet: '10.9.0.0/24', prefix: 26, subnet6: 'fd09::/64', prefix6: 80, enabled: false },
    ],
  },
  agents: [
    { ip: '198.18.0.1', overlays: [overlay('dcos-1', '10.0.0.0/24', {}, 1), overlay('v6', undefined, { subnet6: 'fd00::/80' }, 1)] },
    {
      ip: '198.18.0.2',
      overlays: [
        overlay('dcos-1', '10.0.1.0/24', {}, 2),
        overlay('v6', undefined, { state: { status: 'STATUS_FAILED', error: 'no free /80 left' } }, 2),
      ],
    },
    { ip: '198.18.0.3', overlays: [overlay('dcos-1', undefined, { state: { status: 'STATUS_CONFIGURING' } }, 3)] },
  ],
};

const containers: ListedContainer[] = [
  { agent: '198.18.0.2', id: 'web-b', network: 'dcos-1', ip: '10.0.1.2', interface: 'eth0' },
  { agent: '198.18.0.1', id: 'web-a', network: 'dcos-1', ip: '10.0.0.2', interface: 'eth0' },
  { agent: '198.18.0.1', id: 'db', network: 'v6', ip: 'fd00::2', interface: 'eth1' },
];

describe('blockCount', () => {
  it.each([
    ['a /17 split into /24s', '192.168.0.0/17', 24, 128n],
    ['prefix equal to the mask', '10.0.0.0/24', 24, 1n],
    ['an IPv6 /48 into /80s', 'fd00::/48', 80, 1n << 32n],
    ['a prefix shorter than the subnet', '10.0.0.0/16', 8, undefined],
    ['no prefix', '10.0.0.0/16', undefined, undefined],
    ['no subnet', undefined, 24, undefined],
  ])('%s', (_what, cidr, prefix, expected) => {
    expect(blockCount(cidr, prefix)).toBe(expected);
  });
});

describe('formatUtilisation', () => {
  it.each([
    ['small counts exactly', 3, 128n, '3 / 128 (2.3%)'],
    ['none used', 0, 256n, '0 / 256 (0%)'],
    ['full', 128, 128n, '128 / 128 (100%)'],
    ['huge totals as powers of two', 2, 1n << 32n, '2 / 2^32 (<0.1%)'],
  ])('%s', (_what, used, total, text) => {
    expect(formatUtilisation({ used, total })).toBe(text);
  });
});

describe('networkRows', () => {
  const rows = networkRows(state, containers);

  it('lists every configured overlay in config order with subnets and prefixes', () => {
    expect(rows.map((r) => [r.name, r.subnet, r.subnet6, r.prefix, r.enabled])).toEqual([
      ['dcos-1', '10.0.0.0/16', '', '/24', true],
      ['v6', '', 'fd00::/48', '/80', true],
      ['both', '10.9.0.0/24', 'fd09::/64', '/26, /80', false],
    ]);
  });

  it('counts agents holding a subnet (not ones without) and utilisation per family', () => {
    expect(rows[0]).toMatchObject({ agents: 2, v4: { used: 2, total: 256n }, containers: 2 });
    expect(rows[0]!.v6).toBeUndefined();
    expect(rows[1]).toMatchObject({ agents: 1, v6: { used: 1, total: 1n << 32n }, containers: 1 });
    expect(rows[2]).toMatchObject({ agents: 0, v4: { used: 0, total: 4n }, v6: { used: 0, total: 1n << 16n }, containers: 0 });
  });
});

describe('containerRows', () => {
  it('keeps one network only, sorted by agent then id, with the agent of each', () => {
    expect(containerRows('dcos-1', containers)).toEqual([
      { id: 'web-a', name: '', runtime: 'cni', ip: '10.0.0.2', ip6: '', interface: 'eth0', agent: '198.18.0.1' },
      { id: 'web-b', name: '', runtime: 'cni', ip: '10.0.1.2', ip6: '', interface: 'eth0', agent: '198.18.0.2' },
    ]);
    expect(containerRows('v6', containers)).toEqual([
      { id: 'db', name: '', runtime: 'cni', ip: '', ip6: 'fd00::2', interface: 'eth1', agent: '198.18.0.1' },
    ]);
    expect(containerRows('nope', containers)).toEqual([]);
  });

  it('shows Docker containers by short id and name, with their runtime', () => {
    const docker: ListedContainer = {
      agent: '198.18.0.3',
      id: 'f'.repeat(64),
      name: 'api',
      runtime: 'docker',
      network: 'dcos-1',
      ip: '10.0.2.130',
      interface: '',
    };
    expect(containerRows('dcos-1', [docker])).toEqual([
      { id: 'f'.repeat(12), name: 'api', runtime: 'docker', ip: '10.0.2.130', ip6: '', interface: '', agent: '198.18.0.3' },
    ]);
  });
});

describe('agentRows', () => {
  const rows = agentRows(state, containers);

  it('shows VTEP, per-overlay subnet and status, and failures with their error', () => {
    expect(rows.map((r) => [r.ip, r.vtepIp, r.vtepMac, r.containers, r.failed])).toEqual([
      ['198.18.0.1', '192.15.0.1/20', '70:b3:d5:0f:00:01', 2, false],
      ['198.18.0.2', '192.15.0.2/20', '70:b3:d5:0f:00:02', 1, true],
      ['198.18.0.3', '192.15.0.3/20', '70:b3:d5:0f:00:03', 0, false],
    ]);
    expect(rows[1]!.overlays[1]).toEqual({
      name: 'v6',
      subnet: '',
      subnet6: '',
      status: 'STATUS_FAILED',
      statusText: 'FAILED',
      error: 'no free /80 left',
    });
    expect(rows[2]!.overlays[0]!.statusText).toBe('CONFIGURING');
  });

  it('leaves the VTEP blank for an agent with no overlays', () => {
    const bare = agentRows({ ...state, agents: [{ ip: '198.18.0.9', overlays: [] }] }, []);
    expect(bare[0]).toMatchObject({ vtepIp: '', vtepMac: '', failed: false });
  });
});

describe('filterRows', () => {
  const rows = containerRows('dcos-1', containers);

  it.each([
    ['empty query keeps all', '', ['web-a', 'web-b']],
    ['by id, any case', 'WEB-B', ['web-b']],
    ['by IP fragment', '10.0.0.', ['web-a']],
    ['by agent', '198.18.0.2', ['web-b']],
    ['every word must match', 'web 198.18.0.1', ['web-a']],
    ['no match', 'zzz', []],
  ])('%s', (_what, query, ids) => {
    expect(filterRows(rows, query, containerText).map((r) => r.id)).toEqual(ids);
  });

  it('filters networks by IPv6 subnet and agents by error text', () => {
    expect(filterRows(networkRows(state, containers), 'fd09', networkText).map((r) => r.name)).toEqual(['both']);
    expect(filterRows(agentRows(state, containers), 'no free', agentText).map((r) => r.ip)).toEqual(['198.18.0.2']);
  });
});

describe('applyWatchEvent', () => {
  const agent: AgentInfo = { ip: '198.18.0.4', overlays: [] };

  it('resync replaces, put appends or replaces in place, delete removes', () => {
    expect(applyWatchEvent(undefined, { type: 'resync', revision: 1, state })).toBe(state);
    expect(applyWatchEvent(undefined, { type: 'put', revision: 2, agent })).toBeUndefined();
    const added = applyWatchEvent(state, { type: 'put', revision: 2, agent })!;
    expect(added.agents.map((a) => a.ip)).toEqual(['198.18.0.1', '198.18.0.2', '198.18.0.3', '198.18.0.4']);
    const replaced = applyWatchEvent(added, { type: 'put', revision: 3, agent: { ip: '198.18.0.1', overlays: [] } })!;
    expect(replaced.agents[0]!.overlays).toEqual([]);
    expect(replaced.agents).toHaveLength(4);
    const removed = applyWatchEvent(replaced, { type: 'delete', revision: 4, ip: '198.18.0.2' })!;
    expect(removed.agents.map((a) => a.ip)).toEqual(['198.18.0.1', '198.18.0.3', '198.18.0.4']);
    expect(state.agents).toHaveLength(3);
  });

  it('ignores an event type it does not know, whatever its fields', () => {
    const odd = { type: 'lease-expired', revision: 5, ip: '198.18.0.1', agent } as const;
    expect(applyWatchEvent(state, odd)).toBe(state);
    expect(applyWatchEvent(undefined, odd)).toBeUndefined();
  });
});

describe('routes', () => {
  it.each([
    ['', { view: 'networks' }],
    ['#agents', { view: 'agents' }],
    ['#network/dcos-1', { view: 'network', name: 'dcos-1' }],
    ['#/network/a%20b', { view: 'network', name: 'a b' }],
    ['#network/%E0%A4%A', { view: 'networks' }],
    ['#network/', { view: 'networks' }],
    ['#whatever', { view: 'networks' }],
  ])('parses %j', (hash, route) => {
    expect(parseRoute(hash)).toEqual(route);
  });

  it('round-trips a network name that needs escaping', () => {
    const route = { view: 'network', name: 'a/b c' } as const;
    expect(routeHash(route)).toBe('#network/a%2Fb%20c');
    expect(parseRoute(routeHash(route))).toEqual(route);
  });
});
