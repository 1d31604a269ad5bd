// Wire shapes of the HTTP API, shared by master, agent, CLI and web page.
// The /overlay-master/state shape is DC/OS's and must stay compatible.

import type { NetworkConfig, OverlayConfig } from '../config/types.js';

export type OverlayStatus = 'STATUS_INVALID' | 'STATUS_OK' | 'STATUS_FAILED' | 'STATUS_CONFIGURING';
export const OVERLAY_STATUSES: readonly OverlayStatus[] = ['STATUS_INVALID', 'STATUS_OK', 'STATUS_FAILED', 'STATUS_CONFIGURING'];

export const VXLAN_VNI = 1024;
export const VTEP_NAME = 'vtep1024';
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

/** A container attached on an agent, as the agent reports it. */
export interface ContainerInfo {
  id: string;
  network: string;
  ip: string;
  ip6?: string;
  interface: string;
}

export interface ContainersReport {
  containers: ContainerInfo[];
}

export interface DeleteAgentsRequest {
  agents: string[];
}

/** GET /overlay-agent/overlay. */
export interface AgentOverlayState extends AgentInfo {
  configuration_attempts: number;
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
