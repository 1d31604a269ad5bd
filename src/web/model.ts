// Pure view model of the web page: API state + containers -> table rows,
// filters, utilisation, routes. Runs in the browser and in unit tests, so it
// imports types only (no node:, no DOM).

import type { AgentInfo, ContainerInfo, MasterState, OverlayStatus, WatchEvent } from '../api/types.js';

/** A container as GET /overlay-master/containers lists it. */
export type ListedContainer = ContainerInfo & { agent: string };

/** used of total agent subnets; total is a bigint because IPv6 splits are huge. */
export interface Utilisation {
  used: number;
  total: bigint;
}

export interface NetworkRow {
  name: string;
  subnet: string;
  subnet6: string;
  /** "/24", "/80", or both as "/24, /80". */
  prefix: string;
  enabled: boolean;
  /** Agents holding a subnet (v4 or v6) in this overlay. */
  agents: number;
  v4?: Utilisation;
  v6?: Utilisation;
  containers: number;
}

export interface ContainerRow {
  id: string;
  /** The runtime's name for it (Docker's), or "". */
  name: string;
  /** "docker" or "cni" (vxnet's own, Podman, Mesos). */
  runtime: string;
  ip: string;
  ip6: string;
  interface: string;
  agent: string;
}

export interface AgentOverlayRow {
  name: string;
  subnet: string;
  subnet6: string;
  status: OverlayStatus;
  /** STATUS_OK -> "OK". */
  statusText: string;
  error: string;
}

export interface AgentRow {
  ip: string;
  vtepIp: string;
  vtepIp6: string;
  vtepMac: string;
  overlays: AgentOverlayRow[];
  containers: number;
  /** True when any overlay is FAILED (shown as text, not only colour). */
  failed: boolean;
}

/** Number of /prefix blocks in a CIDR: 2^(prefix - length); undefined when either is unusable. */
export function blockCount(cidr: string | undefined, prefix: number | undefined): bigint | undefined {
  if (cidr === undefined || prefix === undefined) return undefined;
  const length = Number(cidr.slice(cidr.lastIndexOf('/') + 1));
  if (!Number.isInteger(length) || !Number.isInteger(prefix) || prefix < length) return undefined;
  return 1n << BigInt(prefix - length);
}

/** "3 / 128 (2.3%)"; powers of two past 2^20 are written as such. */
export function formatUtilisation(u: Utilisation): string {
  const total = u.total > 1n << 20n ? `2^${u.total.toString(2).length - 1}` : u.total.toString();
  const percent = u.total > 0n ? (u.used / Number(u.total)) * 100 : 0;
  const shown = percent === 0 || percent >= 10 ? percent.toFixed(0) : percent < 0.1 ? '<0.1' : percent.toFixed(1);
  return `${u.used} / ${total} (${shown}%)`;
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

/** One row per configured overlay, in config order. */
export function networkRows(state: MasterState, containers: readonly ListedContainer[]): NetworkRow[] {
  const perNetwork = countBy(containers, (c) => c.network);
  return state.network.overlays.map((o) => {
    let v4 = 0;
    let v6 = 0;
    let agents = 0;
    for (const agent of state.agents) {
      const held = agent.overlays.find((x) => x.info.name === o.name);
      if (held?.subnet) v4++;
      if (held?.subnet6) v6++;
      if (held?.subnet || held?.subnet6) agents++;
    }
    const total4 = blockCount(o.subnet, o.prefix);
    const total6 = blockCount(o.subnet6, o.prefix6);
    const prefixes = [o.prefix, o.prefix6].filter((p) => p !== undefined).map((p) => `/${p}`);
    return {
      name: o.name,
      subnet: o.subnet ?? '',
      subnet6: o.subnet6 ?? '',
      prefix: prefixes.join(', '),
      enabled: o.enabled !== false,
      agents,
      ...(total4 !== undefined && { v4: { used: v4, total: total4 } }),
      ...(total6 !== undefined && { v6: { used: v6, total: total6 } }),
      containers: perNetwork.get(o.name) ?? 0,
    };
  });
}

/** The containers of one network, ordered by agent then id. */
export function containerRows(network: string, containers: readonly ListedContainer[]): ContainerRow[] {
  return containers
    .filter((c) => c.network === network)
    .map((c) => {
      // On an IPv6-only overlay agents report the IPv6 address as `ip`.
      const v6Only = c.ip.includes(':');
      return {
        id: c.runtime === 'docker' ? c.id.slice(0, 12) : c.id,
        name: c.name ?? '',
        runtime: c.runtime ?? 'cni',
        ip: v6Only ? '' : c.ip,
        ip6: c.ip6 ?? (v6Only ? c.ip : ''),
        interface: c.interface,
        agent: c.agent,
      };
    })
    .sort((a, b) => compare(a.agent, b.agent) || compare(a.id, b.id));
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** One row per agent, registration order; the VTEP is shared by all overlays. */
export function agentRows(state: MasterState, containers: readonly ListedContainer[]): AgentRow[] {
  const perAgent = countBy(containers, (c) => c.agent);
  return state.agents.map((a) => {
    const vxlan = a.overlays[0]?.backend.vxlan;
    const overlays = a.overlays.map((o) => ({
      name: o.info.name,
      subnet: o.subnet ?? '',
      subnet6: o.subnet6 ?? '',
      status: o.state.status,
      statusText: o.state.status.replace(/^STATUS_/, ''),
      error: o.state.error ?? '',
    }));
    return {
      ip: a.ip,
      vtepIp: vxlan?.vtep_ip ?? '',
      vtepIp6: vxlan?.vtep_ip6 ?? '',
      vtepMac: vxlan?.vtep_mac ?? '',
      overlays,
      containers: perAgent.get(a.ip) ?? 0,
      failed: overlays.some((o) => o.status === 'STATUS_FAILED'),
    };
  });
}

/**
 * Rows whose text contains every whitespace-separated word of the query,
 * case-insensitively ("dcos 10.0" finds rows mentioning both).
 */
export function filterRows<T>(rows: readonly T[], query: string, text: (row: T) => string[]): T[] {
  const words = query
    .toLowerCase()
    .split(/\s+/)
    .filter((w) => w !== '');
  if (words.length === 0) return [...rows];
  return rows.filter((row) => {
    const haystack = text(row).join(' ').toLowerCase();
    return words.every((w) => haystack.includes(w));
  });
}

export const networkText = (r: NetworkRow): string[] => [r.name, r.subnet, r.subnet6];
export const containerText = (r: ContainerRow): string[] => [r.id, r.name, r.runtime, r.ip, r.ip6, r.interface, r.agent];
export const agentText = (r: AgentRow): string[] => [
  r.ip,
  r.vtepIp,
  r.vtepIp6,
  r.vtepMac,
  ...r.overlays.flatMap((o) => [o.name, o.subnet, o.subnet6, o.statusText, o.error]),
];

/**
 * The state after one watch event; the input is not modified. An event type
 * this page does not know leaves the state as it is: the stream grows new
 * types, and clients ignore those they do not know (docs/CONTRACTS.md).
 */
export function applyWatchEvent(
  state: MasterState | undefined,
  event: WatchEvent | { type: string; revision: number },
): MasterState | undefined {
  const known = event as WatchEvent;
  switch (known.type) {
    case 'resync':
      return known.state;
    case 'delete':
      return state && { ...state, agents: state.agents.filter((a) => a.ip !== known.ip) };
    case 'put': {
      if (state === undefined) return undefined;
      const agents: AgentInfo[] = [...state.agents];
      const at = agents.findIndex((a) => a.ip === known.agent.ip);
      if (at === -1) agents.push(known.agent);
      else agents[at] = known.agent;
      return { ...state, agents };
    }
    default:
      return state;
  }
}

export type Route = { view: 'networks' } | { view: 'agents' } | { view: 'network'; name: string };

/** "#network/dcos-1" -> the network view; anything unknown -> the networks list. */
export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#\/?/, '');
  if (path === 'agents') return { view: 'agents' };
  if (path.startsWith('network/')) {
    try {
      const name = decodeURIComponent(path.slice('network/'.length));
      if (name !== '') return { view: 'network', name };
    } catch {
      // A malformed escape is treated as an unknown route.
    }
  }
  return { view: 'networks' };
}

export function routeHash(route: Route): string {
  return route.view === 'network' ? `#network/${encodeURIComponent(route.name)}` : `#${route.view}`;
}
