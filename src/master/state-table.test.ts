import { describe, expect, it } from 'vitest';
import type { MasterState } from '../api/types.js';
import { formatState } from './state-table.js';

const vxlan = (n: number) => ({ vni: 1024, vtep_name: 'vtep1024', vtep_ip: `198.15.0.${n}/20`, vtep_mac: `70:b3:d5:0f:00:0${n}` });
const info = { name: 'dcos', subnet: '44.128.0.0/16', prefix: 24 };
const state: MasterState = {
  network: {
    vtep_subnet: '198.15.0.0/20',
    vtep_mac_oui: '70:B3:D5:00:00:00',
    overlays: [info, { name: 'six', subnet6: 'fd01::/64', prefix6: 80 }],
  },
  agents: [
    { ip: '10.10.0.120', overlays: [{ info, subnet: '44.128.0.0/24', backend: { vxlan: vxlan(1) }, state: { status: 'STATUS_OK' } }] },
    { ip: '10.10.0.118', overlays: [{ info, backend: { vxlan: vxlan(2) }, state: { status: 'STATUS_FAILED', error: 'no free /24' } }] },
  ],
};

describe('formatState', () => {
  const text = formatState(state, [{ agent: '10.10.0.120', id: 'web', network: 'dcos', ip: '44.128.0.2', interface: 'eth0' }]);
  const lines = text.split('\n');

  it('lists networks with subnet, prefix, agents holding a subnet and free subnets', () => {
    expect(lines[1]).toMatch(/^NAME\s+SUBNET\s+PREFIX\s+AGENTS\s+FREE SUBNETS$/);
    expect(lines[2]!.split(/\s{2,}/)).toEqual(['dcos', '44.128.0.0/16', '24', '1', '255']);
    expect(lines[3]!.split(/\s{2,}/)).toEqual(['six', 'fd01::/64', '80', '0', '65536']);
  });

  it('lists agents with VTEP IP and MAC and per overlay subnet and status', () => {
    expect(text).toContain('AGENTS (2)');
    const row = lines.find((l) => l.startsWith('10.10.0.118'))!;
    expect(row.split(/\s{2,}/)).toEqual(['10.10.0.118', '198.15.0.2/20', '70:b3:d5:0f:00:02', 'dcos', '-', 'STATUS_FAILED: no free /24']);
  });

  it('lists containers only when there are some', () => {
    expect(lines.find((l) => l.startsWith('10.10.0.120  web'))?.split(/\s{2,}/)).toEqual([
      '10.10.0.120',
      'web',
      '-',
      'cni',
      'dcos',
      '44.128.0.2',
      'eth0',
    ]);
    expect(formatState(state)).not.toContain('CONTAINERS');
  });

  it("shows an IPv6-only container's address once (agents send it as ip and ip6)", () => {
    const v6 = formatState(state, [{ agent: '10.10.0.120', id: 'six', network: 'dcos', ip: 'fd01::2', ip6: 'fd01::2', interface: 'eth0' }]);
    expect(
      v6
        .split('\n')
        .find((l) => l.includes(' six '))
        ?.split(/\s{2,}/),
    ).toEqual(['10.10.0.120', 'six', '-', 'cni', 'dcos', 'fd01::2', 'eth0']);
  });

  it("shows Docker containers by short id and name with their runtime, and each agent's engine", () => {
    const id = 'ab'.repeat(32);
    const out = formatState(
      state,
      [{ agent: '10.10.0.120', id, name: 'web', runtime: 'docker', network: 'dcos', ip: '44.128.0.130', interface: '' }],
      [
        { agent: '10.10.0.120', docker: { status: 'ok', version: '20.10.24' } },
        { agent: '10.10.0.118', docker: { status: 'not found', detail: 'not found at unix:///var/run/docker.sock' } },
      ],
    ).split('\n');
    expect(out.find((l) => l.includes(' web '))?.split(/\s{2,}/)).toEqual([
      '10.10.0.120',
      id.slice(0, 12),
      'web',
      'docker',
      'dcos',
      '44.128.0.130',
      '-',
    ]);
    expect(out.slice(out.indexOf('ENGINES') + 2)).toEqual([
      '10.10.0.120  docker: ok (20.10.24)',
      '10.10.0.118  docker: not found at unix:///var/run/docker.sock',
      '',
    ]);
  });
});
