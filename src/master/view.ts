// Pure: turns stored agent records into the DC/OS-shaped answers of the master.
//
// Decisions (documented for agents and UI):
// - Overlays are listed in config order; an agent shows the overlays its record
//   holds an entry for. An agent registered without subnets also shows every
//   enabled overlay (no subnet, no bridges) so it still learns the VTEP backend.
// - `state`: an allocation error (exhaustion) wins and reads STATUS_FAILED with
//   that error; otherwise the agent's last report; otherwise STATUS_CONFIGURING.
// - Bridges appear only when the agent asked for them and holds a subnet; the
//   lower half is the mesos (CNI) bridge, the upper half the docker bridge.

import type { AgentInfo, AgentOverlayInfo, BridgeInfo, MasterState } from '../api/types.js';
import { VTEP_NAME, VXLAN_VNI } from '../api/types.js';
import type { NetworkConfig, OverlayConfig } from '../config/types.js';
import { bridgeHalves, vtepWithLength } from '../alloc/allocator.js';
import type { AgentRecord, OverlayAllocation } from '../store/store.js';

function bridgeHalf(subnet: string | undefined, half: 0 | 1): string | undefined {
  if (subnet === undefined) return undefined;
  const { mesos, docker } = bridgeHalves(subnet);
  return half === 0 ? mesos : docker;
}

function bridge(prefix: 'm' | 'd', name: string, alloc: OverlayAllocation): BridgeInfo | undefined {
  const half = prefix === 'm' ? 0 : 1;
  const ip = bridgeHalf(alloc.subnet, half);
  const ip6 = bridgeHalf(alloc.subnet6, half);
  if (ip === undefined && ip6 === undefined) return undefined;
  return { name: `${prefix}-${name}`, ...(ip !== undefined && { ip }), ...(ip6 !== undefined && { ip6 }) };
}

function overlayInfo(record: AgentRecord, overlay: OverlayConfig, config: NetworkConfig): AgentOverlayInfo {
  const alloc: OverlayAllocation = record.overlays[overlay.name] ?? {};
  const info: AgentOverlayInfo = { info: overlay, backend: { vxlan: vxlanBackend(record, config) }, state: overlayState(record, overlay.name) };
  if (alloc.subnet !== undefined) info.subnet = alloc.subnet;
  if (alloc.subnet6 !== undefined) info.subnet6 = alloc.subnet6;
  if (record.networkConfig.mesos_bridge) {
    const mesos = bridge('m', overlay.name, alloc);
    if (mesos) info.mesos_bridge = mesos;
  }
  if (record.networkConfig.docker_bridge) {
    const docker = bridge('d', overlay.name, alloc);
    if (docker) info.docker_bridge = docker;
  }
  return info;
}

function vxlanBackend(record: AgentRecord, config: NetworkConfig): AgentOverlayInfo['backend']['vxlan'] {
  const vxlan: AgentOverlayInfo['backend']['vxlan'] = {
    vni: VXLAN_VNI,
    vtep_name: VTEP_NAME,
    vtep_ip: vtepWithLength(record.vtepIp, config.vtep_subnet),
    vtep_mac: record.vtepMac.toLowerCase(),
  };
  if (record.vtepIp6 !== undefined && config.vtep_subnet6 !== undefined) {
    vxlan.vtep_ip6 = vtepWithLength(record.vtepIp6, config.vtep_subnet6);
  }
  if (config.vtep_mtu !== undefined) vxlan.vtep_mtu = config.vtep_mtu;
  return vxlan;
}

function overlayState(record: AgentRecord, name: string): AgentOverlayInfo['state'] {
  const error = record.overlays[name]?.error;
  if (error !== undefined) return { status: 'STATUS_FAILED', error };
  const reported = record.status[name];
  if (reported) return reported.error !== undefined ? { status: reported.status, error: reported.error } : { status: reported.status };
  return { status: 'STATUS_CONFIGURING' };
}

/** The overlays an agent's info lists, in config order. */
export function listedOverlays(record: AgentRecord, config: NetworkConfig): OverlayConfig[] {
  return config.overlays.filter(
    (o) => o.name in record.overlays || (!record.networkConfig.allocate_subnet && o.enabled !== false),
  );
}

/** DC/OS AgentInfo of one agent. */
export function agentInfo(record: AgentRecord, config: NetworkConfig): AgentInfo {
  return { ip: record.ip, overlays: listedOverlays(record, config).map((o) => overlayInfo(record, o, config)) };
}

/** DC/OS MasterState: the config echoed, agents in registration order. */
export function masterState(config: NetworkConfig, records: Iterable<AgentRecord>): MasterState {
  const sorted = [...records].sort((a, b) => a.seq - b.seq);
  return { network: config, agents: sorted.map((r) => agentInfo(r, config)) };
}
