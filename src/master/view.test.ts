import { describe, expect, it } from 'vitest';
import { canonicalize } from '../config/canonical.js';
import type { NetworkConfig } from '../config/types.js';
import type { AgentRecord } from '../store/store.js';
import { agentInfo, agentInfoJson, masterState } from './view.js';

const seedText: NetworkConfig = {
  vtep_subnet: '198.15.0.0/20',
  vtep_mac_oui: '70:B3:D5:00:00:00',
  overlays: [{ name: 'dcos', subnet: '44.128.0.0/16', prefix: 24 }],
};

const seedConfig = canonicalize(seedText);
const all = { allocate_subnet: true, mesos_bridge: true, docker_bridge: true };

function seedRecord(ip: string, seq: number, n: number): AgentRecord {
  return {
    ip,
    seq,
    networkConfig: all,
    vtepIp: `198.15.0.${n}`,
    vtepMac: `70:B3:D5:0F:00:0${n}`,
    overlays: { dcos: { subnet: `44.128.${n - 1}.0/24` } },
    status: { dcos: { status: 'STATUS_OK' } },
    containers: [],
  };
}

describe('masterState', () => {
  it('reproduces the seed example values, agents in registration order', () => {
    const records = [seedRecord('10.10.0.119', 3, 3), seedRecord('10.10.0.120', 1, 1), seedRecord('10.10.0.118', 2, 2)];
    const state = masterState(seedConfig, records);
    expect(state.network).toEqual(seedText);
    expect(state.agents.map((a) => a.ip)).toEqual(['10.10.0.120', '10.10.0.118', '10.10.0.119']);
    expect(state.agents[1]).toEqual({
      ip: '10.10.0.118',
      overlays: [
        {
          backend: { vxlan: { vni: 1024, vtep_ip: '198.15.0.2/20', vtep_mac: '70:b3:d5:0f:00:02', vtep_name: 'vtep1024' } },
          docker_bridge: { ip: '44.128.1.128/25', name: 'd-dcos' },
          mesos_bridge: { ip: '44.128.1.0/25', name: 'm-dcos' },
          info: { name: 'dcos', prefix: 24, subnet: '44.128.0.0/16' },
          state: { status: 'STATUS_OK' },
          subnet: '44.128.1.0/24',
        },
      ],
    });
  });
});

describe('agentInfo', () => {
  it('omits a bridge the agent turned off', () => {
    const rec = { ...seedRecord('10.0.0.1', 1, 1), networkConfig: { ...all, mesos_bridge: false } };
    const o = agentInfo(rec, seedConfig).overlays[0]!;
    expect(o.mesos_bridge).toBeUndefined();
    expect(o.docker_bridge).toEqual({ name: 'd-dcos', ip: '44.128.0.128/25' });
  });

  it('shows an allocation error as STATUS_FAILED even after an OK report', () => {
    const rec = seedRecord('10.0.0.1', 1, 1);
    rec.overlays = { dcos: { error: 'no free /24 left in overlay dcos (256 of 256 in use)' } };
    const o = agentInfo(rec, seedConfig).overlays[0]!;
    expect(o.state).toEqual({ status: 'STATUS_FAILED', error: 'no free /24 left in overlay dcos (256 of 256 in use)' });
    expect(o.subnet).toBeUndefined();
    expect(o.docker_bridge).toBeUndefined();
  });

  it('reads STATUS_CONFIGURING before the first report', () => {
    const rec = { ...seedRecord('10.0.0.1', 1, 1), status: {} };
    expect(agentInfo(rec, seedConfig).overlays[0]!.state).toEqual({ status: 'STATUS_CONFIGURING' });
  });

  it('lists the overlays of an agent without subnets so it learns its VTEP', () => {
    const rec = { ...seedRecord('10.0.0.1', 1, 1), networkConfig: { ...all, allocate_subnet: false }, overlays: {} };
    const o = agentInfo(rec, seedConfig).overlays;
    expect(o).toHaveLength(1);
    expect(o[0]!.subnet).toBeUndefined();
    expect(o[0]!.backend.vxlan.vtep_ip).toBe('198.15.0.1/20');
  });

  it('writes IPv6 VTEP and bridge halves with their lengths', () => {
    const config = canonicalize({
      ...seedText,
      vtep_subnet6: 'fd03::/64',
      vtep_mtu: 1450,
      overlays: [{ name: 'v6', subnet6: 'fd01:b::/64', prefix6: 80 }],
    });
    const rec: AgentRecord = { ...seedRecord('10.0.0.1', 1, 1), vtepIp6: 'fd03::1', overlays: { v6: { subnet6: 'fd01:b:0:0:1::/80' } } };
    const o = agentInfo(rec, config).overlays[0]!;
    expect(o.backend.vxlan).toMatchObject({ vtep_ip6: 'fd03::1/64', vtep_mtu: 1450 });
    expect(o.mesos_bridge).toEqual({ name: 'm-v6', ip6: 'fd01:b:0:0:1::/81' });
    expect(o.docker_bridge).toEqual({ name: 'd-v6', ip6: 'fd01:b::1:8000:0:0/81' });
  });
});

describe('agentInfoJson', () => {
  const dual = canonicalize({
    ...seedText,
    vtep_subnet6: 'fd03::/64',
    vtep_mtu: 1450,
    overlays: [
      { name: 'dcos', subnet: '44.128.0.0/16', prefix: 24 },
      { name: 'both', subnet: '10.1.0.0/16', prefix: 24, subnet6: 'fd01:b::/64', prefix6: 80 },
      { name: 'off', subnet: '10.2.0.0/16', prefix: 24, enabled: false },
    ],
  });
  const base = seedRecord('10.0.0.1', 1, 1);
  const cases: [string, AgentRecord, ReturnType<typeof canonicalize>][] = [
    ['the seed agent', base, seedConfig],
    ['no mesos bridge', { ...base, networkConfig: { ...all, mesos_bridge: false } }, seedConfig],
    ['no bridges at all', { ...base, networkConfig: { ...all, mesos_bridge: false, docker_bridge: false } }, seedConfig],
    ['an allocation error with quotes and non-ASCII', { ...base, overlays: { dcos: { error: 'no "free" /24 — full' } } }, seedConfig],
    ['a failed report', { ...base, status: { dcos: { status: 'STATUS_FAILED', error: 'bridge\nfailed' } } }, seedConfig],
    ['no subnets asked for', { ...base, networkConfig: { ...all, allocate_subnet: false }, overlays: {} }, dual],
    [
      'dual stack, IPv6 VTEP, a disabled overlay still held',
      {
        ...base,
        vtepIp6: 'fd03::1',
        overlays: {
          dcos: { subnet: '44.128.0.0/24' },
          both: { subnet: '10.1.3.0/24', subnet6: 'fd01:b:0:0:1::/80' },
          off: { subnet: '10.2.0.0/24' },
        },
      },
      dual,
    ],
  ];
  it.each(cases)('is JSON.stringify(agentInfo(...)) byte for byte: %s', (_, record, config) => {
    expect(agentInfoJson(record, config)).toBe(JSON.stringify(agentInfo(record, config)));
  });
});
