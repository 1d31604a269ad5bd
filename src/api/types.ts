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
}

/** GET /overlay-agent/overlay. */
export interface AgentOverlayState extends AgentInfo {
  configuration_attempts: number;
  /** vxnet's addition: the container engines the agent drives. */
  engines?: { docker?: EngineState };
}

/** One event on GET /overlay-master/watch. */
export type WatchEvent =
  | { type: 'put'; revision: number; agent: AgentInfo }
  | { type: 'delete'; revision: number; ip: string }
  | { type: 'resync'; revision: number; state: MasterState };

/** The error body of every non-2xx answer. */
export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}
