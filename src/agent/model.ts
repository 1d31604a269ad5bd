// Desired and observed kernel state of one host, as plain data. The planner
// compares the two; only linux/ adapters talk to the kernel.

/** Marks links vxnet created (`ip link set ... alias vxnet`). */
export const OWNER_ALIAS = 'vxnet';
/** Routes vxnet installs carry this protocol number, so it removes only its own. */
export const ROUTE_PROTO = 177;

export interface VxlanParams {
  vni: number;
  port: number;
  /** Underlay address the VXLAN packets leave from (the agent IP). */
  local: string;
  /** Underlay interface holding `local`. */
  dev: string;
  learning: boolean;
}

export interface LinkSpec {
  name: string;
  kind: 'vxlan' | 'bridge';
  mtu: number;
  /** Fixed MAC, lowercase (the VTEP's from the master; bridges' derived from their gateway address). */
  mac?: string;
  /** Addresses with length, canonical ("192.15.0.1/20"). */
  addresses: string[];
  vxlan?: VxlanParams;
  /** Overlay the link belongs to; undefined for the shared VTEP. */
  scope?: string;
}

export interface NeighbourSpec {
  ip: string;
  mac: string;
}

export interface FdbSpec {
  mac: string;
  /** Peer agent (underlay) address. */
  dst: string;
}

export interface RouteSpec {
  dst: string;
  via: string;
  scope?: string;
}

export interface DesiredState {
  links: LinkSpec[];
  /** On the VTEP device. */
  neighbours: NeighbourSpec[];
  fdb: FdbSpec[];
  routes: RouteSpec[];
  /** Owned links to leave as they are although not desired (their spec could not be worked out). */
  keep?: string[];
}

export interface ObservedLink {
  name: string;
  kind: string;
  alias?: string;
  mtu: number;
  mac: string;
  up: boolean;
  /** Global-scope addresses with length, canonical. */
  addresses: string[];
  vxlan?: VxlanParams;
}

export interface ObservedState {
  links: ObservedLink[];
  /** Permanent neighbour entries on the VTEP device. */
  neighbours: NeighbourSpec[];
  /** Remote FDB entries on the VTEP device. */
  fdb: FdbSpec[];
  /** Routes with our protocol number. */
  routes: (RouteSpec & { dev: string })[];
}

/** One kernel change; the executor maps each to one `ip`/`bridge` batch line. */
export type Op =
  | { kind: 'link-add'; link: LinkSpec; scope?: string }
  | { kind: 'link-set'; name: string; mtu?: number; mac?: string; alias?: boolean; up?: boolean; scope?: string }
  | { kind: 'link-del'; name: string; scope?: string }
  | { kind: 'addr-add'; dev: string; address: string; scope?: string }
  | { kind: 'addr-del'; dev: string; address: string; scope?: string }
  | { kind: 'neigh-replace'; ip: string; mac: string; scope?: string }
  | { kind: 'neigh-del'; ip: string; scope?: string }
  | { kind: 'fdb-replace'; mac: string; dst: string; scope?: string }
  | { kind: 'fdb-del'; mac: string; dst: string; scope?: string }
  | { kind: 'route-replace'; dst: string; via: string; scope?: string }
  | { kind: 'route-del'; dst: string; via: string; dev: string; scope?: string };

export const emptyObserved = (): ObservedState => ({ links: [], neighbours: [], fdb: [], routes: [] });
