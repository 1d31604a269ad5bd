// Shared test data: agents as the master describes them (the seed's example).

import type { AgentInfo, AgentOverlayInfo } from '../api/types.js';
import type { AgentOptions } from './loop.js';

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

/** The agent the loop tests run as. */
export const ME = agent(1);

/** The loop's options in the loop tests, as `vxnet agent` would give them for ME. */
export const loopOptions = (overrides: Partial<AgentOptions> = {}): AgentOptions => ({
  ip: ME.ip,
  stateDir: '/state',
  cniConfDir: '/cni',
  mtu: 1420,
  vxlanPort: 64000,
  networkConfig: { allocate_subnet: true, mesos_bridge: true, docker_bridge: true },
  maxAttempts: 4,
  tickMs: 1000,
  ...overrides,
});

/** ME's underlay device as the kernel shows it. */
export const underlayDevice = (mtu = 1500) => ({
  name: 'eth0',
  kind: 'device',
  mtu,
  mac: '02:00:00:00:00:01',
  up: true,
  addresses: [`${ME.ip}/24`],
});

/** The fakes answer at once, so each step of a pass is a microtask: `turns` macrotask turns let passes finish. */
export const settle = async (turns: number): Promise<void> => {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
};
