import { describe, expect, it } from 'vitest';
import type { AgentInfo, ContainerInfo } from '../api/types.js';
import { splitByAllocation } from './containers.js';

describe('splitByAllocation', () => {
  const me: AgentInfo = {
    ip: '198.18.0.1',
    overlays: [
      {
        info: { name: 'a', subnet: '10.0.0.0/16', prefix: 24 },
        subnet: '10.0.1.0/24',
        backend: { vxlan: { vni: 1024, vtep_name: 'vtep1024', vtep_ip: '192.15.0.1/20', vtep_mac: '70:b3:d5:0f:00:01' } },
        state: { status: 'STATUS_OK' },
      },
    ],
  };
  const c = (id: string, network: string, ip: string): ContainerInfo => ({ id, network, ip, interface: 'eth0' });

  it("reports containers inside this agent's subnet of their overlay and keeps the rest out as stranded", () => {
    const { kept, stranded } = splitByAllocation([c('in', 'a', '10.0.1.5'), c('old', 'a', '10.0.7.5'), c('gone', 'b', '10.1.1.5')], me);
    expect(kept.map((x) => x.id)).toEqual(['in']);
    expect(stranded.map((x) => x.id)).toEqual(['old', 'gone']);
  });
});
