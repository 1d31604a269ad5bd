// Pure: the master's view (my AgentInfo and my peers') plus local options ->
// the kernel state this host should have. Bad values from the master become
// problems scoped to an overlay (or to the whole host), never exceptions.
// A disabled overlay (`info.enabled: false`: the master keeps its subnets)
// has no data plane: no bridges here and no routes to peers' subnets in it.

import type { AgentInfo, AgentNetworkConfig, AgentOverlayInfo, VxlanBackend } from '../api/types.js';
import { VTEP_NAME, VXLAN_VNI } from '../api/types.js';
import { addressAt, formatIpWithLength, mustCidr, parseIp } from '../net/ip.js';
import { MIN_VXLAN_MTU } from '../net/link.js';
import { macFromAddress } from '../net/mac.js';
import type { DesiredState, FdbSpec, LinkSpec, NeighbourSpec, RouteSpec } from './model.js';
import { canonicalCidr, canonicalIp, canonicalIpWithLength, canonicalMac, isInterfaceName, overlayNameProblem } from './names.js';

export interface DesiredOptions {
  /** Container MTU of the bridges (mtu.ts `chooseMtu`). */
  bridgeMtu: number;
  /** The VXLAN device's MTU when vtep_mtu is not set (mtu.ts); default: the underlay's MTU minus 50. */
  vxlanMtu?: number;
  vxlanPort: number;
  networkConfig: AgentNetworkConfig;
}

/** The underlay interface holding the agent IP, as observed; undefined when none does. */
export interface Underlay {
  dev: string;
  mtu: number;
}

export interface Problem {
  /** Overlay name; undefined when it affects every overlay. */
  scope?: string;
  message: string;
}

export interface DesiredResult {
  desired: DesiredState;
  /** Make this host's overlays fail. */
  problems: Problem[];
  /** Bad peer data: that peer is skipped, this host carries on. */
  warnings: string[];
}

/** VXLAN over IPv4 adds 50 bytes. */
export const VXLAN_OVERHEAD = 50;

export interface Vtep {
  ip: string;
  ipWithLength: string;
  ip6?: string;
  ip6WithLength?: string;
  mac: string;
  mtu?: number;
}

function parseVtep(backend: VxlanBackend | undefined): Vtep | string {
  if (!backend) return 'has no backend.vxlan';
  const ipWithLength = canonicalIpWithLength(backend.vtep_ip);
  const mac = canonicalMac(backend.vtep_mac);
  if (!ipWithLength) return `backend.vxlan.vtep_ip ${JSON.stringify(backend.vtep_ip)} is not "address/length"`;
  if (!mac) return `backend.vxlan.vtep_mac ${JSON.stringify(backend.vtep_mac)} is not a MAC address`;
  const vtep: Vtep = { ip: ipWithLength.split('/')[0]!, ipWithLength, mac };
  if (backend.vtep_ip6 !== undefined) {
    const ip6WithLength = canonicalIpWithLength(backend.vtep_ip6);
    if (!ip6WithLength) return `backend.vxlan.vtep_ip6 ${JSON.stringify(backend.vtep_ip6)} is not "address/length"`;
    vtep.ip6WithLength = ip6WithLength;
    vtep.ip6 = ip6WithLength.slice(0, ip6WithLength.lastIndexOf('/'));
  }
  if (backend.vtep_mtu !== undefined) {
    if (!Number.isInteger(backend.vtep_mtu) || backend.vtep_mtu < MIN_VXLAN_MTU || backend.vtep_mtu > 65535) {
      return `backend.vxlan.vtep_mtu ${JSON.stringify(backend.vtep_mtu)} is not an MTU between ${MIN_VXLAN_MTU} and 65535`;
    }
    vtep.mtu = backend.vtep_mtu;
  }
  return vtep;
}

/** The gateway address of a bridge half: its first usable address, with the half's length. */
export function bridgeAddress(half: string): string | undefined {
  const canonical = canonicalCidr(half);
  if (!canonical) return undefined;
  const cidr = mustCidr(canonical);
  return formatIpWithLength(addressAt(cidr, 1n), cidr.length);
}

function bridgeLink(overlay: AgentOverlayInfo, which: 'mesos_bridge' | 'docker_bridge', mtu: number): LinkSpec | string | undefined {
  const bridge = overlay[which];
  if (!bridge) return undefined;
  const name = overlay.info.name;
  const expected = `${which === 'mesos_bridge' ? 'm' : 'd'}-${name}`;
  if (bridge.name !== expected) return `${which}.name ${JSON.stringify(bridge.name)} should be "${expected}"`;
  const addresses: string[] = [];
  for (const [field, half] of [
    ['ip', bridge.ip],
    ['ip6', bridge.ip6],
  ] as const) {
    if (half === undefined) continue;
    const address = bridgeAddress(half);
    if (!address) return `${which}.${field} ${JSON.stringify(half)} is not a network`;
    addresses.push(address);
  }
  const link: LinkSpec = { name: expected, kind: 'bridge', mtu, addresses, scope: name };
  const oui = canonicalMac(overlay.backend?.vxlan?.vtep_mac);
  const gateway = addresses[0] && parseIp(addresses[0].slice(0, addresses[0].lastIndexOf('/')));
  if (oui && gateway) link.mac = macFromAddress(oui, gateway);
  return link;
}

/** False only for an overlay the config disables (the DC/OS field `enabled`, default true). */
export const isEnabled = (overlay: AgentOverlayInfo): boolean => overlay.info?.enabled !== false;

/** Overlay subnets of one agent that can be routed, per overlay. */
function peerRoutes(peer: AgentInfo, vtep: Vtep, mine: Vtep): RouteSpec[] {
  const routes: RouteSpec[] = [];
  for (const overlay of peer.overlays) {
    if (overlayNameProblem(overlay.info?.name) || !isEnabled(overlay)) continue;
    const subnet = canonicalCidr(overlay.subnet);
    if (subnet) routes.push({ dst: subnet, via: vtep.ip, scope: overlay.info.name });
    const subnet6 = canonicalCidr(overlay.subnet6);
    if (subnet6 && vtep.ip6 && mine.ip6) routes.push({ dst: subnet6, via: vtep.ip6, scope: overlay.info.name });
  }
  return routes;
}

interface PeerEntries {
  neighbours: NeighbourSpec[];
  fdb: FdbSpec;
  routes: RouteSpec[];
}

// Peers arrive as immutable objects from the watch; parsing a thousand of them
// on every pass would dominate a one-peer change, so results are kept per object.
const peerMemo = new WeakMap<AgentInfo, { mine: Vtep; entries: PeerEntries | string }>();

function peerEntries(peer: AgentInfo, mine: Vtep): PeerEntries | string {
  const memo = peerMemo.get(peer);
  if (memo && memo.mine.ip6 === mine.ip6) return memo.entries;
  const peerIp = canonicalIp(peer.ip);
  const vtep = parseVtep(peer.overlays[0]?.backend?.vxlan);
  let entries: PeerEntries | string;
  if (!peerIp || typeof vtep === 'string') {
    entries = `peer ${JSON.stringify(peer.ip)} ignored: ${peerIp ? vtep : 'ip is not an address'}`;
  } else {
    entries = {
      neighbours: [{ ip: vtep.ip, mac: vtep.mac }, ...(vtep.ip6 && mine.ip6 ? [{ ip: vtep.ip6, mac: vtep.mac }] : [])],
      fdb: { mac: vtep.mac, dst: peerIp },
      routes: peerRoutes(peer, vtep, mine),
    };
  }
  peerMemo.set(peer, { mine, entries });
  return entries;
}

/**
 * This agent's own part of the desired state, parsed once per allocation:
 * its bridges, its VTEP parameters, and what is wrong with them.
 */
export interface OwnSpec {
  ip: string;
  hasOverlays: boolean;
  /** The VTEP parameters, or what is wrong with them. */
  vtep: Vtep | string;
  bridges: LinkSpec[];
  keep: string[];
  problems: Problem[];
  /** DesiredOptions.vxlanMtu. */
  vxlanMtu?: number;
}

export type DesiredOwnOptions = Omit<DesiredOptions, 'vxlanPort'>;

export function ownSpec(me: AgentInfo, options: DesiredOwnOptions): OwnSpec {
  const problems: Problem[] = [];
  const bridges: LinkSpec[] = [];
  // A spec that cannot be worked out leaves the existing link alone: deleting it would cut traffic.
  const keep: string[] = [];

  for (const overlay of me.overlays) {
    const nameProblem = overlayNameProblem(overlay.info?.name);
    if (nameProblem) {
      problems.push({ message: nameProblem });
      continue;
    }
    if (!isEnabled(overlay)) continue;
    const name = overlay.info.name;
    if (options.networkConfig.allocate_subnet && !overlay.subnet && !overlay.subnet6) {
      problems.push({ scope: name, message: overlay.state?.error ?? `the master allocated no subnet in overlay ${name} to this agent` });
      continue;
    }
    const wanted = [
      options.networkConfig.mesos_bridge ? 'mesos_bridge' : undefined,
      options.networkConfig.docker_bridge ? 'docker_bridge' : undefined,
    ] as const;
    for (const which of wanted) {
      if (!which) continue;
      const link = bridgeLink(overlay, which, options.bridgeMtu);
      if (typeof link === 'string') {
        problems.push({ scope: name, message: `overlay ${name}: ${link}` });
        keep.push(`${which === 'mesos_bridge' ? 'm' : 'd'}-${name}`);
      } else if (link) bridges.push(link);
    }
  }
  const vtep = parseVtep(me.overlays[0]?.backend?.vxlan);
  const own: OwnSpec = { ip: me.ip, hasOverlays: me.overlays.length > 0, vtep, bridges, keep, problems };
  if (options.vxlanMtu !== undefined) own.vxlanMtu = options.vxlanMtu;
  return own;
}

/** The desired state from this agent's parsed part, its peers as the master sent them, and the observed underlay. */
export function desiredFrom(
  own: OwnSpec,
  peers: AgentInfo[],
  underlay: Underlay | undefined,
  options: Pick<DesiredOptions, 'vxlanPort'>,
): DesiredResult {
  const problems: Problem[] = [...own.problems];
  const warnings: string[] = [];
  const links: LinkSpec[] = [...own.bridges];
  const neighbours: NeighbourSpec[] = [];
  const fdb: FdbSpec[] = [];
  const routes: RouteSpec[] = [];
  const keep: string[] = [...own.keep];

  const mine = own.vtep;
  if (typeof mine === 'string') {
    if (own.hasOverlays) problems.push({ message: `this agent's overlay info ${mine}` });
    keep.push(VTEP_NAME);
  } else if (!underlay) {
    keep.push(VTEP_NAME);
    problems.push({
      message: `no interface on this host holds the agent IP ${own.ip}: pass --ip with an address assigned to this host's underlay interface`,
    });
  } else if (!isInterfaceName(underlay.dev)) {
    keep.push(VTEP_NAME);
    problems.push({
      message: `the underlay interface ${JSON.stringify(underlay.dev)} holding ${own.ip} has a name vxnet will not pass to ip: rename it to letters, digits, "_", "." or "-"`,
    });
  } else {
    links.unshift({
      name: VTEP_NAME,
      kind: 'vxlan',
      mtu: mine.mtu ?? own.vxlanMtu ?? underlay.mtu - VXLAN_OVERHEAD,
      mac: mine.mac,
      addresses: [mine.ipWithLength, ...(mine.ip6WithLength ? [mine.ip6WithLength] : [])],
      vxlan: { vni: VXLAN_VNI, port: options.vxlanPort, local: own.ip, dev: underlay.dev, learning: false },
    });
    for (const peer of peers) {
      if (peer.ip === own.ip) continue;
      const entries = peerEntries(peer, mine);
      if (typeof entries === 'string') {
        if (peer.overlays.length > 0) warnings.push(entries);
        continue;
      }
      neighbours.push(...entries.neighbours);
      fdb.push(entries.fdb);
      routes.push(...entries.routes);
    }
  }
  return { desired: { links, neighbours, fdb, routes, keep }, problems, warnings };
}

/** `ownSpec` and `desiredFrom` in one call, for callers that do not keep the parsed part. */
export function computeDesired(me: AgentInfo, peers: AgentInfo[], underlay: Underlay | undefined, options: DesiredOptions): DesiredResult {
  return desiredFrom(ownSpec(me, options), peers, underlay, options);
}
