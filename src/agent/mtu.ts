// Pure: which MTU the containers (bridges, conflists, Docker networks) and
// the VXLAN device get. `auto` follows the underlay: what this host's
// underlay carries through the overlay, lowered to the cluster's lowest as
// the master publishes it, so one small host lowers every host. Explicit
// values win, in this order: --mtu (this host), then the config's vtep_mtu
// (the whole cluster, as backend.vxlan.vtep_mtu).

import type { AgentInfo } from '../api/types.js';
import { MIN_VXLAN_MTU } from '../net/link.js';

/** The largest MTU a report or a flag may carry (an IP packet's limit). */
export const MAX_MTU = 65535;

/** DC/OS's container MTU (`dcos_overlay_mtu`), used only until the underlay has been seen. */
export const FALLBACK_MTU = 1420;

/** VXLAN adds the outer Ethernet (14), IP (20, or 40 for IPv6), UDP (8) and VXLAN (8) headers. */
export const encapOverhead = (family: 4 | 6): number => (family === 6 ? 70 : 50);

/**
 * What an underlay interface of `underlayMtu` carries through the overlay, or
 * undefined when that is below what a VXLAN device accepts (nothing to report).
 */
export function underlayCarries(underlayMtu: number, family: 4 | 6): number | undefined {
  const mtu = underlayMtu - encapOverhead(family);
  return Number.isInteger(mtu) && mtu >= MIN_VXLAN_MTU && mtu <= MAX_MTU ? mtu : undefined;
}

/** --mtu: a number, or `auto` (the default). */
export type MtuFlag = number | 'auto';

export interface MtuInputs {
  flag: MtuFlag;
  /** The config's vtep_mtu, as the master sends it in backend.vxlan.vtep_mtu. */
  vtepMtu?: number;
  /** What this host's underlay carries (underlayCarries); undefined until seen. */
  own?: number;
  /** The cluster's lowest, from the master's `mtu` watch event; undefined until heard. */
  cluster?: number;
}

export type MtuSource = 'flag' | 'vtep_mtu' | 'cluster' | 'underlay' | 'fallback';

export interface MtuChoice {
  /** Bridges, conflists and Docker networks. */
  container: number;
  /** The VXLAN device; undefined: the underlay's MTU minus 50, as before the underlay was seen. */
  vxlan?: number;
  source: MtuSource;
}

/** The lowest of the defined values. */
const lowest = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined ? b : b === undefined ? a : Math.min(a, b);

export function chooseMtu(inputs: MtuInputs): MtuChoice {
  // The host's own value counts too: the master may not have heard it yet.
  const auto = lowest(inputs.own, inputs.cluster);
  const vxlan = inputs.vtepMtu ?? auto;
  const withVxlan = vxlan === undefined ? {} : { vxlan };
  if (typeof inputs.flag === 'number') return { container: inputs.flag, ...withVxlan, source: 'flag' };
  if (inputs.vtepMtu !== undefined) return { container: inputs.vtepMtu, ...withVxlan, source: 'vtep_mtu' };
  if (auto !== undefined)
    return { container: auto, ...withVxlan, source: inputs.own !== undefined && auto === inputs.own ? 'underlay' : 'cluster' };
  return { container: FALLBACK_MTU, source: 'fallback' };
}

/** The vtep_mtu the master sends for this agent, when it is a usable MTU (desired.ts reports a bad one). */
export function vtepMtuOf(info: AgentInfo): number | undefined {
  const mtu = info.overlays[0]?.backend?.vxlan?.vtep_mtu;
  return Number.isInteger(mtu) && mtu! >= MIN_VXLAN_MTU && mtu! <= MAX_MTU ? mtu : undefined;
}

/** A `mtu` watch event's value, when it is a usable MTU; anything else is ignored as an unknown event would be. */
export function clusterMtuOf(event: { mtu?: unknown }): number | undefined {
  const mtu = event.mtu;
  return typeof mtu === 'number' && Number.isInteger(mtu) && mtu >= MIN_VXLAN_MTU && mtu <= MAX_MTU ? mtu : undefined;
}

/** What the underlay interface holding the agent IP carries, or undefined when there is none (yet). */
export function ownMtuOf(underlay: { mtu: number } | undefined, agentIp: string): number | undefined {
  return underlay && underlayCarries(underlay.mtu, agentIp.includes(':') ? 6 : 4);
}

const SOURCES: Record<MtuSource, string> = {
  flag: '--mtu',
  vtep_mtu: "the config's vtep_mtu",
  cluster: "auto: the cluster's lowest",
  underlay: "auto: this host's underlay",
  fallback: 'auto: the underlay not seen yet',
};

/** One log line for a change of the chosen MTUs. */
export const describeMtu = (choice: MtuChoice): string =>
  `container MTU ${choice.container}${choice.vxlan === undefined ? '' : `, VXLAN device ${choice.vxlan}`} (${SOURCES[choice.source]}); ` +
  'running containers keep theirs';
