// Shared test data: agents as the master describes them (the seed's example).

import type { AgentInfo, AgentOverlayInfo } from '../api/types.js';

export function overlayInfo(index: number, overrides: Partial<AgentOverlayInfo> = {}): AgentOverlayInfo {
  return {
    info: { name: 'dcos', subnet: '44.128.0.0/16', prefix: 24 },
    subnet: `44.128.${index - 1}.0/24`,
    mesos_bridge: { name: 'm-dcos', ip: `44.128.${index - 1}.0/25` },
    docker_bridge: { name: 'd-dcos', ip: `44.128.${index - 1}.128/25` },
    backend: { vxlan: { vni: 1024, vtep_name: 'vtep1024', vtep_ip: `198.15.0.${index}/20`, vtep_mac: `70:b3:d5:0f:00:0${index}` } },
    state: { status: 'STATUS_OK' },
    ...overrides,
  };
}

export const agent = (index: number, overrides: Partial<AgentOverlayInfo> = {}): AgentInfo => ({
  ip: `198.18.0.${index}`,
  overlays: [overlayInfo(index, overrides)],
});
