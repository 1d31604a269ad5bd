import { describe, expect, it } from 'vitest';
import type { NetworkConfig } from '../config/types.js';
import type { AgentRecord } from '../store/store.js';
import { reconcile } from './reconcile.js';
import { canonicalize } from '../config/canonical.js';

const config: NetworkConfig = {
  vtep_subnet: '192.15.0.0/20',
  vtep_mac_oui: '70:B3:D5:00:00:00',
  overlays: [
    { name: 'dcos-1', subnet: '192.168.0.0/17', prefix: 24 },
    { name: 'dcos-2', subnet: '192.168.128.0/17', prefix: 24 },
  ],
};

const agent = (ip: string, seq: number, overlays: AgentRecord['overlays']): AgentRecord => ({
  ip,
  seq,
  networkConfig: { allocate_subnet: true, mesos_bridge: true, docker_bridge: true },
  vtepIp: `192.15.0.${seq}`,
  vtepMac: `70:b3:d5:0f:00:0${seq}`,
  overlays,
  status: {},
  containers: [],
});

const agents = [
  agent('10.0.0.1', 1, { 'dcos-1': { subnet: '192.168.0.0/24' }, 'dcos-2': { subnet: '192.168.128.0/24' } }),
  agent('10.0.0.2', 2, { 'dcos-1': { subnet: '192.168.1.0/24' }, 'dcos-2': { subnet: '192.168.129.0/24' } }),
];

describe('reconcile', () => {
  it('accepts an unchanged config', () => {
    expect(reconcile({ config, agents }, canonicalize(config), '--data /d')).toEqual({
      ok: true,
      added: [],
      removed: [],
      disabled: [],
      enabled: [],
      masqueradeOn: [],
      masqueradeOff: [],
      configChanged: false,
    });
  });

  it('accepts an added overlay and names it', () => {
    const next = { ...config, overlays: [...config.overlays, { name: 'dcos-3', subnet: '44.128.0.0/16', prefix: 24 }] };
    expect(reconcile({ config, agents }, canonicalize(next), '--data /d')).toMatchObject({
      ok: true,
      added: ['dcos-3'],
      configChanged: true,
    });
  });

  it('accepts a removed overlay that holds allocations but no containers: a delete', () => {
    const next = { ...config, overlays: [config.overlays[0]!] };
    expect(reconcile({ config, agents }, canonicalize(next), '--data /var/lib/vxnet')).toMatchObject({ ok: true, removed: ['dcos-2'] });
  });

  const withContainer = agents.map((a, i) =>
    i === 1 ? { ...a, containers: [{ id: 'c0ffee', name: 'web', network: 'dcos-2', ip: '192.168.129.2', interface: 'eth0' }] } : a,
  );

  it('refuses a removed overlay while containers are attached, listing each (agent, container, address) and the fixes', () => {
    const next = { ...config, overlays: [config.overlays[0]!] };
    const r = reconcile({ config, agents: withContainer }, canonicalize(next), '--data /var/lib/vxnet');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.refusals).toHaveLength(1);
    expect(r.refusals[0]).toMatchObject({
      kind: 'overlay-in-use',
      subject: 'dcos-2',
      field: 'overlays',
      containers: [{ agent: '10.0.0.2', id: 'c0ffee', name: 'web', ip: '192.168.129.2' }],
    });
    expect(r.refusals[0]!.message).toContain('overlay dcos-2 is not in the config but 1 container(s) are still attached to it');
    expect(r.refusals[0]!.message).toContain('web (c0ffee) 192.168.129.2 on agent 10.0.0.2');
    expect(r.refusals[0]!.fix).toContain('put dcos-2 back in the config (subnet: 192.168.128.0/17, prefix: 24)');
    expect(r.refusals[0]!.fix).toContain('vxnet network reload --force');
    expect(r.refusals[0]!.fix).toContain('vxnet network delete dcos-2 --data /var/lib/vxnet');
  });

  it('accepts a removed overlay with containers attached when forced', () => {
    const next = { ...config, overlays: [config.overlays[0]!] };
    expect(reconcile({ config, agents: withContainer }, canonicalize(next), '--data /d', { force: true })).toMatchObject({
      ok: true,
      removed: ['dcos-2'],
    });
  });

  it('names overlays disabled and enabled, which keep their allocations', () => {
    const off = { ...config, overlays: [config.overlays[0]!, { ...config.overlays[1]!, enabled: false }] };
    expect(reconcile({ config, agents }, canonicalize(off), '--data /d')).toMatchObject({ ok: true, disabled: ['dcos-2'], enabled: [] });
    expect(reconcile({ config: off, agents }, canonicalize(config), '--data /d')).toMatchObject({
      ok: true,
      disabled: [],
      enabled: ['dcos-2'],
    });
  });

  it('refuses a disabled overlay whose subnet changed while agents hold subnets in it', () => {
    const next = { ...config, overlays: [config.overlays[0]!, { ...config.overlays[1]!, subnet: '10.128.0.0/17', enabled: false }] };
    const r = reconcile({ config, agents }, canonicalize(next), '--data /d');
    expect(r.ok ? [] : r.refusals.map((x) => [x.kind, x.field, x.value])).toEqual([
      ['overlay-changed', 'overlays[1].subnet', '10.128.0.0/17'],
    ]);
  });

  it('accepts removing an overlay nobody holds a subnet in', () => {
    const only1 = agents.map((a) => ({ ...a, overlays: { 'dcos-1': a.overlays['dcos-1']! } }));
    const r = reconcile({ config, agents: only1 }, canonicalize({ ...config, overlays: [config.overlays[0]!] }), '--data /d');
    expect(r.ok).toBe(true);
  });

  it('refuses a changed overlay prefix showing old and new', () => {
    const next = { ...config, overlays: [config.overlays[0]!, { name: 'dcos-2', subnet: '192.168.128.0/17', prefix: 25 }] };
    const r = reconcile({ config, agents }, canonicalize(next), '--data /d');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.refusals.map((x) => [x.kind, x.field, x.value])).toEqual([['overlay-changed', 'overlays[1].prefix', 25]]);
    expect(r.refusals[0]!.message).toContain('old subnet: 192.168.128.0/17, prefix: 24; new subnet: 192.168.128.0/17, prefix: 25');
  });

  it('refuses a changed overlay subnet', () => {
    const next = { ...config, overlays: [{ name: 'dcos-1', subnet: '10.64.0.0/16', prefix: 24 }, config.overlays[1]!] };
    const r = reconcile({ config, agents }, canonicalize(next), '--data /d');
    expect(r.ok ? [] : r.refusals.map((x) => x.subject)).toEqual(['dcos-1']);
  });

  it.each([
    ['vtep_subnet', { vtep_subnet: '192.15.16.0/20' }, 'vtep_subnet changed from 192.15.0.0/20 to 192.15.16.0/20'],
    ['vtep_mac_oui', { vtep_mac_oui: '70:B3:D6:00:00:00' }, 'vtep_mac_oui changed from 70:b3:d5:00:00:00 to 70:b3:d6:00:00:00'],
  ])('refuses a changed %s showing old and new', (_field, change, text) => {
    const r = reconcile({ config, agents }, canonicalize({ ...config, ...change }), '--data /d');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.refusals[0]!.message).toContain(text);
  });

  it('treats an OUI differing only in case as unchanged', () => {
    expect(reconcile({ config, agents }, canonicalize({ ...config, vtep_mac_oui: '70:b3:d5:00:00:00' }), '--data /d').ok).toBe(true);
  });

  it.each([
    { description: 'an IPv6 network in capitals and spelled out', from: 'fd01:0:0:0::/48', to: 'FD01::/48' },
    { description: 'a subnet with surrounding spaces', from: '192.168.0.0/17', to: ' 192.168.0.0/17 ' },
  ])('compares networks as values: $description is no change of allocations', ({ from, to }) => {
    const v6 = (subnet6: string): NetworkConfig => ({
      ...config,
      vtep_subnet6: 'fd03::/64',
      overlays: [{ ...config.overlays[0]!, subnet6, prefix6: 64 }, config.overlays[1]!],
    });
    const isV6 = from.includes(':');
    const old = isV6 ? v6(from) : config;
    const next = isV6 ? v6(to) : { ...config, overlays: [{ ...config.overlays[0]!, subnet: to }, config.overlays[1]!] };
    const holders = isV6
      ? agents.map((a) => ({
          ...a,
          vtepIp6: 'fd03::1',
          overlays: { ...a.overlays, 'dcos-1': { ...a.overlays['dcos-1'], subnet6: 'fd01::/64' } },
        }))
      : agents;
    expect(reconcile({ config: old, agents: holders }, canonicalize(next), '--data /d')).toMatchObject({ ok: true, added: [] });
  });

  it('accepts any config over an empty store', () => {
    const r = reconcile({ config, agents: [] }, canonicalize({ ...config, vtep_subnet: '10.1.0.0/16' }), '--data /d');
    expect(r).toMatchObject({ ok: true, added: [], configChanged: true });
  });

  it('reports every refusal at once', () => {
    const next = { ...config, vtep_subnet: '10.1.0.0/16', overlays: [{ ...config.overlays[0]!, prefix: 25 }] };
    const r = reconcile({ config, agents: withContainer }, canonicalize(next), '--data /d');
    expect(r.ok ? [] : r.refusals.map((x) => x.subject)).toEqual(['vtep_subnet', 'dcos-1', 'dcos-2']);
  });
});
