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
// - Records are rendered as stored (a standby has no allocator), so an agent
//   subnet is parsed here once per change to split it; the config never is.

import type { AgentInfo, AgentOverlayInfo, BridgeInfo, MasterState } from '../api/types.js';
import { VTEP_NAME, VXLAN_VNI } from '../api/types.js';
import type { CanonicalConfig } from '../config/canonical.js';
import type { OverlayConfig } from '../config/types.js';
import { type Cidr, formatCidr, formatIpWithLength, halves, mustCidr, mustIp } from '../net/ip.js';
import type { AgentRecord, OverlayAllocation } from '../store/store.js';

type Halves = { mesos: string; docker: string } | undefined;

/** The m- (lower) and d- (upper) bridge halves of an agent subnet. */
function bridgeHalves(subnet: string): Halves {
  const [lower, upper] = halves(mustCidr(subnet));
  return { mesos: formatCidr(lower), docker: formatCidr(upper) };
}

/** A VTEP address written with its pool's length, as /state shows it: "198.15.0.1/20". */
const vtepWithLength = (ip: string, pool: Cidr): string => formatIpWithLength(mustIp(ip), pool.length);

function bridge(prefix: 'm' | 'd', name: string, v4: Halves, v6: Halves): BridgeInfo | undefined {
  const pick = (h: Halves) => (h === undefined ? undefined : prefix === 'm' ? h.mesos : h.docker);
  const ip = pick(v4);
  const ip6 = pick(v6);
  if (ip === undefined && ip6 === undefined) return undefined;
  return { name: `${prefix}-${name}`, ...(ip !== undefined && { ip }), ...(ip6 !== undefined && { ip6 }) };
}

function overlayInfo(record: AgentRecord, overlay: OverlayConfig, backend: AgentOverlayInfo['backend']): AgentOverlayInfo {
  const alloc: OverlayAllocation = record.overlays[overlay.name] ?? {};
  const info: AgentOverlayInfo = { info: overlay, backend, state: overlayState(record, overlay.name) };
  if (alloc.subnet !== undefined) info.subnet = alloc.subnet;
  if (alloc.subnet6 !== undefined) info.subnet6 = alloc.subnet6;
  const { mesos_bridge: mesos, docker_bridge: docker } = record.networkConfig;
  if (!mesos && !docker) return info;
  const v4 = alloc.subnet === undefined ? undefined : bridgeHalves(alloc.subnet);
  const v6 = alloc.subnet6 === undefined ? undefined : bridgeHalves(alloc.subnet6);
  const mesosBridge = mesos ? bridge('m', overlay.name, v4, v6) : undefined;
  const dockerBridge = docker ? bridge('d', overlay.name, v4, v6) : undefined;
  if (mesosBridge) info.mesos_bridge = mesosBridge;
  if (dockerBridge) info.docker_bridge = dockerBridge;
  return info;
}

function vxlanBackend(record: AgentRecord, config: CanonicalConfig): AgentOverlayInfo['backend']['vxlan'] {
  const vxlan: AgentOverlayInfo['backend']['vxlan'] = {
    vni: VXLAN_VNI,
    vtep_name: VTEP_NAME,
    vtep_ip: vtepWithLength(record.vtepIp, config.vtep4),
    vtep_mac: record.vtepMac.toLowerCase(),
  };
  if (record.vtepIp6 !== undefined && config.vtep6 !== undefined) {
    vxlan.vtep_ip6 = vtepWithLength(record.vtepIp6, config.vtep6);
  }
  if (config.mtu !== undefined) vxlan.vtep_mtu = config.mtu;
  return vxlan;
}

function overlayState(record: AgentRecord, name: string): AgentOverlayInfo['state'] {
  const error = record.overlays[name]?.error;
  if (error !== undefined) return { status: 'STATUS_FAILED', error };
  const reported = record.status[name];
  if (reported) return reported.error !== undefined ? { status: reported.status, error: reported.error } : { status: reported.status };
  return { status: 'STATUS_CONFIGURING' };
}

/** The overlays an agent's info lists, in config order, as the config echoes them. */
export function listedOverlays(record: AgentRecord, config: CanonicalConfig): OverlayConfig[] {
  return config.network.overlays.filter(
    (o, i) => o.name in record.overlays || (!record.networkConfig.allocate_subnet && config.overlays[i]!.enabled),
  );
}

/** DC/OS AgentInfo of one agent. */
export function agentInfo(record: AgentRecord, config: CanonicalConfig): AgentInfo {
  // One backend object per agent: every overlay shares the agent's VTEP.
  const backend = { vxlan: vxlanBackend(record, config) };
  return { ip: record.ip, overlays: listedOverlays(record, config).map((o) => overlayInfo(record, o, backend)) };
}

/** JSON of each overlay's config, made once per config (a reload makes new objects). */
const overlayJson = new WeakMap<OverlayConfig, string>();

function overlayConfigJson(overlay: OverlayConfig): string {
  const known = overlayJson.get(overlay);
  if (known !== undefined) return known;
  const json = JSON.stringify(overlay);
  overlayJson.set(overlay, json);
  return json;
}

/**
 * A JSON string literal, as JSON.stringify writes it. Addresses, names and
 * MACs need no escaping, so they skip JSON.stringify's per-call cost; anything
 * that does (quotes, backslashes, control characters, surrogates) goes through it.
 */
function quoted(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(text);
  }
  return `"${text}"`;
}

function vxlanJson(vxlan: AgentOverlayInfo['backend']['vxlan']): string {
  let json = `{"vni":${vxlan.vni},"vtep_name":${quoted(vxlan.vtep_name)},"vtep_ip":${quoted(vxlan.vtep_ip)},"vtep_mac":${quoted(vxlan.vtep_mac)}`;
  if (vxlan.vtep_ip6 !== undefined) json += `,"vtep_ip6":${quoted(vxlan.vtep_ip6)}`;
  if (vxlan.vtep_mtu !== undefined) json += `,"vtep_mtu":${JSON.stringify(vxlan.vtep_mtu)}`;
  return `${json}}`;
}

function stateJson(state: AgentOverlayInfo['state']): string {
  return `{"status":${quoted(state.status)}${state.error === undefined ? '' : `,"error":${quoted(state.error)}`}}`;
}

function bridgeJson(prefix: 'm' | 'd', name: string, v4: Halves, v6: Halves): string | undefined {
  const ip = v4 === undefined ? undefined : prefix === 'm' ? v4.mesos : v4.docker;
  const ip6 = v6 === undefined ? undefined : prefix === 'm' ? v6.mesos : v6.docker;
  if (ip === undefined && ip6 === undefined) return undefined;
  return `{"name":${quoted(`${prefix}-${name}`)}${ip === undefined ? '' : `,"ip":${quoted(ip)}`}${ip6 === undefined ? '' : `,"ip6":${quoted(ip6)}`}}`;
}

/**
 * `JSON.stringify(agentInfo(record, config))`, written directly: a restart
 * renders every agent for the first GET /state (100,000 agents: about half the
 * time of building the objects and stringifying them). Same keys, same order.
 */
/** The /state answer up to its first agent: `{"network":...,"agents":[`. */
export function stateHeadJson(config: CanonicalConfig): string {
  return `{"network":${JSON.stringify(config.network)},"agents":[`;
}

export function agentInfoJson(record: AgentRecord, config: CanonicalConfig): string {
  const backend = `{"vxlan":${vxlanJson(vxlanBackend(record, config))}}`;
  const { mesos_bridge: mesos, docker_bridge: docker } = record.networkConfig;
  const overlays: string[] = [];
  for (const overlay of listedOverlays(record, config)) {
    const alloc: OverlayAllocation = record.overlays[overlay.name] ?? {};
    let json = `{"info":${overlayConfigJson(overlay)},"backend":${backend},"state":${stateJson(overlayState(record, overlay.name))}`;
    if (alloc.subnet !== undefined) json += `,"subnet":${quoted(alloc.subnet)}`;
    if (alloc.subnet6 !== undefined) json += `,"subnet6":${quoted(alloc.subnet6)}`;
    if (mesos || docker) {
      const v4 = alloc.subnet === undefined ? undefined : bridgeHalves(alloc.subnet);
      const v6 = alloc.subnet6 === undefined ? undefined : bridgeHalves(alloc.subnet6);
      const mesosBridge = mesos ? bridgeJson('m', overlay.name, v4, v6) : undefined;
      const dockerBridge = docker ? bridgeJson('d', overlay.name, v4, v6) : undefined;
      if (mesosBridge) json += `,"mesos_bridge":${mesosBridge}`;
      if (dockerBridge) json += `,"docker_bridge":${dockerBridge}`;
    }
    overlays.push(`${json}}`);
  }
  return `{"ip":${quoted(record.ip)},"overlays":[${overlays.join(',')}]}`;
}

/** DC/OS MasterState: the config echoed, agents in registration order. */
export function masterState(config: CanonicalConfig, records: Iterable<AgentRecord>): MasterState {
  const sorted = [...records].sort((a, b) => a.seq - b.seq);
  return { network: config.network, agents: sorted.map((r) => agentInfo(r, config)) };
}
