// Wire shapes of the HTTP API, shared by master, agent, CLI and web page.
// The /overlay-master/state shape is DC/OS's and must stay compatible.

import type { NetworkConfig, OverlayConfig } from '../config/types.js';

export type OverlayStatus = 'STATUS_INVALID' | 'STATUS_OK' | 'STATUS_FAILED' | 'STATUS_CONFIGURING';
export const OVERLAY_STATUSES: readonly OverlayStatus[] = ['STATUS_INVALID', 'STATUS_OK', 'STATUS_FAILED', 'STATUS_CONFIGURING'];

export const VXLAN_VNI = 1024;
export const VTEP_NAME = 'vtep1024';
/** The agent's default `--vxlan-port` (DC/OS's). */
export const VXLAN_PORT = 64000;

/** Per-agent switches: masters run an agent with no subnet; either bridge may be off. */
export interface AgentNetworkConfig {
  allocate_subnet: boolean;
  mesos_bridge: boolean;
  docker_bridge: boolean;
}

export interface RegisterRequest {
  ip: string;
  network_config?: Partial<AgentNetworkConfig>;
}

export interface BridgeInfo {
  name: string;
  ip?: string;
  ip6?: string;
}

export interface VxlanBackend {
  vni: number;
  vtep_name: string;
  vtep_ip: string;
  vtep_ip6?: string;
  vtep_mac: string;
  vtep_mtu?: number;
}

/** DC/OS AgentOverlayInfo. */
export interface AgentOverlayInfo {
  info: OverlayConfig;
  subnet?: string;
  subnet6?: string;
  mesos_bridge?: BridgeInfo;
  docker_bridge?: BridgeInfo;
  backend: { vxlan: VxlanBackend };
  state: { status: OverlayStatus; error?: string };
}

export interface AgentInfo {
  ip: string;
  overlays: AgentOverlayInfo[];
}

export interface MasterState {
  network: NetworkConfig;
  agents: AgentInfo[];
}

export interface StatusReport {
  overlays: { name: string; status: OverlayStatus; error?: string }[];
  /** vxnet's addition: what the agent's underlay carries through the overlay (its MTU minus 50, 70 over IPv6). */
  mtu?: number;
}

/** How a container joined its overlay: CNI (vxnet's runtime, Podman, Mesos) or a Docker network. */
export type ContainerRuntime = 'cni' | 'docker';

/** A container attached on an agent, as the agent reports it. */
export interface ContainerInfo {
  id: string;
  network: string;
  ip: string;
  ip6?: string;
  /** The container's interface ("" when the runtime does not say, as Docker). */
  interface: string;
  runtime?: ContainerRuntime;
  /** The runtime's name for it (Docker's container name). */
  name?: string;
}

/** A container engine on the agent's host, e.g. {"status": "ok", "version": "20.10.24"}. */
export interface EngineState {
  status: 'ok' | 'not found' | 'error' | 'disabled';
  version?: string;
  /** Why it is not ok, or warnings about what was left alone. */
  detail?: string;
}

export interface ContainersReport {
  containers: ContainerInfo[];
  /** Container engines the agent drives (today only Docker). */
  engines?: { docker?: EngineState };
  /** vxnet's addition: the agent's IPAM check summary per overlay (src/agent/ipam-gc/). */
  ipam?: Record<string, IpamCounts>;
  /** vxnet's addition: containers on addresses outside the agent's allocation (an older epoch's subnet), never routed. At most 256. */
  stranded?: ContainerInfo[];
}

/** Host-local reservations of one overlay on one agent, by what the IPAM check found. */
export interface IpamCounts {
  /** Reserved addresses. */
  used: number;
  /** Their container is gone (positive proof): released after the grace period. */
  leaked: number;
  /** No proof either way (unknown runtime, a probe failed): kept. */
  suspect: number;
  /** Outside the agent's current subnets (an older allocation). */
  stranded: number;
}

/** One address the IPAM check lists: every one that is not simply in use. */
export interface IpamAddress {
  ip: string;
  container: string;
  interface: string;
  /** Who made the reservation, as far as the agent can tell. */
  runtime: 'vxnet' | 'podman' | 'unknown';
  state: 'live' | 'leaked' | 'suspect';
  stranded: boolean;
  /** Why, in words. */
  reason: string;
  /** Leaked: when the agent first saw it leaked, and when it releases it (ISO-8601 UTC). */
  leakedSince?: string;
  releaseAt?: string;
}

/** GET /overlay-agent/ipam (and the answer of POST /overlay-agent/ipam/release). */
export interface IpamCheck {
  ip: string;
  at: string;
  graceSeconds: number;
  overlays: (IpamCounts & { name: string; addresses: IpamAddress[] })[];
  /** Released by this call (POST) or by the collector's last run. */
  released: { overlay: string; ip: string; container: string; how: 'cni-del' | 'file' }[];
  errors: string[];
}

/** GET /overlay-master/ipam: the agents' last reported summaries and their totals per overlay. */
export interface IpamSummary {
  agents: { agent: string; overlays: Record<string, IpamCounts> }[];
  totals: Record<string, IpamCounts>;
}

/** GET /overlay-agent/overlay. */
export interface AgentOverlayState extends AgentInfo {
  /** vxnet's addition: containers on addresses outside this agent's allocation (not routed). */
  stranded?: ContainerInfo[];
  /** vxnet's addition: the lease this agent holds (absent while leases are off). */
  lease?: { epoch: number; ttl_seconds: number; renewed_at?: string };
  configuration_attempts: number;
  /** vxnet's addition: the container engines the agent drives. */
  engines?: { docker?: EngineState };
  /** vxnet's addition: the MTUs in use (src/agent/mtu.ts): containers', the VXLAN device's, and where they came from. */
  mtu?: { container: number; vxlan?: number; source: string; underlay?: number; cluster?: number };
}

/** One event on GET /overlay-master/watch. */
export type WatchEvent =
  | { type: 'put'; revision: number; agent: AgentInfo }
  | { type: 'delete'; revision: number; ip: string }
  | { type: 'resync'; revision: number; state: MasterState }
  /** vxnet's addition (after the agent's `delete` frame, same revision): its lease ran out at `at`. */
  | { type: 'expired'; revision: number; ip: string; at: string }
  | PoolEvent
  | MtuEvent;

/**
 * vxnet's addition, live only (no `id:` line): the lowest MTU the agents
 * report (StatusReport.mtu), sent after every stream's first frames and
 * whenever it changes. Agents with `--mtu auto` use it.
 */
export interface MtuEvent {
  type: 'mtu';
  revision: number;
  mtu: number;
  /** An agent that reported it. */
  agent: string;
  /** How many agents reported an MTU. */
  reported: number;
}

/** GET /overlay-master/mtu (vxnet's addition): the lowest reported MTU, and how many agents report each value. */
export interface MtuView {
  revision: number;
  /** Absent until an agent reports one. */
  lowest?: { mtu: number; agent: string };
  /** Agents per reported MTU, keyed by the MTU. */
  agents: Record<string, number>;
}

/**
 * vxnet's addition, live only (never replayed): a pool crossed 80, 90 or 100 %
 * of its blocks, up, or down below the level it had reached. `id` is the
 * revision of the change that caused it.
 */
export interface PoolEvent {
  type: 'pool';
  revision: number;
  /** vtep: VTEP addresses; overlay: the overlay's agent subnets. */
  pool: 'vtep' | 'overlay';
  overlay?: string;
  family: 4 | 6;
  cidr: string;
  /** Blocks held (quarantined ones included) and the pool's size. */
  used: number;
  total: number;
  direction: 'up' | 'down';
  /** The threshold crossed: up, the one now reached; down, the one no longer reached. */
  threshold: number;
  /** The highest threshold reached now (0: below 80 %). */
  level: number;
}

/** Used and free of something countable (numbers past 2^53, IPv6, are approximate). */
export interface UseCount {
  used: number;
  free: number;
  total: number;
  /** used / total in percent, one decimal. */
  percent: number;
}

/** GET /overlay-master/utilisation (vxnet's addition, beside the DC/OS shape). */
export interface UtilisationView {
  revision: number;
  vtep: (UseCount & { family: 4 | 6; cidr: string })[];
  overlays: {
    name: string;
    enabled: boolean;
    families: {
      family: 4 | 6;
      cidr: string;
      prefix: number;
      /** Agent subnets: held (live, expired or quarantined) and free. */
      subnets: UseCount & { quarantined: number };
      /** Container addresses of the agents' bridge halves, from their containers reports. */
      containers: UseCount;
    }[];
  }[];
  agents: {
    ip: string;
    overlays: { name: string; family: 4 | 6; subnet: string; containers: UseCount }[];
  }[];
}

/** One allocation event on GET /overlay-master/history (src/store/allocation-history.ts). */
export interface HistoryEvent {
  at: string;
  kind: 'allocated' | 'freed' | 'expired' | 'reclaimed';
  agent: string;
  epoch?: number;
  overlay?: string;
  subnet?: string;
  subnet6?: string;
  vtepIp?: string;
}

/** GET /overlay-master/history: the newest matching events, oldest first; `more` when older ones were left out. */
export interface HistoryAnswer {
  events: HistoryEvent[];
  more: boolean;
}

/** The lease terms of a registration answer and a heartbeat answer (vxnet's addition). */
export interface LeaseTerms {
  /** The allocation epoch the agent holds: it sends it with each heartbeat. */
  epoch: number;
  /** Absent: leases are off (no heartbeats needed). */
  ttl_seconds?: number;
}

/** An allocation held after its lease ran out, on GET /overlay-master/leases. */
export interface HeldAllocation {
  ip: string;
  epoch: number;
  vtep_ip: string;
  vtep_ip6?: string;
  /** Subnets by overlay name. */
  overlays: Record<string, { subnet?: string; subnet6?: string }>;
  expired_at: string;
  /** When the blocks become free again. */
  until: string;
  /** expired: the agent has not come back; quarantined: it came back with a fresh allocation (a newer epoch). */
  kind: 'expired' | 'quarantined';
}

/** GET /overlay-master/leases (vxnet's addition). */
export interface LeasesView {
  held: HeldAllocation[];
  /** Containers agents report on addresses outside their allocation, never routed. */
  stranded: (ContainerInfo & { agent: string })[];
}

/** The error body of every non-2xx answer. */
export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}
