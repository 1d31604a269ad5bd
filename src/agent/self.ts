// Pure: this agent's own allocation, parsed once each time the master sends
// it, so a pass (one per watch event or tick) re-parses nothing of its own:
// its bridges and VTEP, its NAT script, its conflists and its Docker networks.
// Disabled overlays get none of these (their host-local data stays).

import type { AgentInfo, AgentNetworkConfig } from '../api/types.js';
import { conflistFileName, renderConflist } from './cni-conf.js';
import { isEnabled, ownSpec, type OwnSpec } from './desired.js';
import { desiredDockerNetworks, type DockerNetworkSpec } from './docker/networks.js';
import { chooseMtu, type MtuChoice, type MtuFlag, vtepMtuOf } from './mtu.js';
import { natSubnets, renderNat, type NatSubnets } from './nat.js';

export interface SelfOptions {
  /** --mtu: a container MTU, or `auto` (mtu.ts). */
  mtu: MtuFlag;
  /** What this host's underlay carries, once seen (mtu.ts `underlayCarries`). */
  ownMtu?: number;
  /** The cluster's lowest, as the master last published it. */
  clusterMtu?: number;
  networkConfig: AgentNetworkConfig;
  /** Where host-local keeps its files; the conflists name it. */
  ipamDir: string;
}

export interface Conflist {
  overlay: string;
  file: string;
  /** Undefined when the overlay has no usable mesos bridge (or the agent makes none). */
  text?: string;
}

export interface Self {
  info: AgentInfo;
  /** The enabled overlays: the status is kept for them. */
  overlays: string[];
  /** Every overlay the master lists for this agent, disabled ones included (their containers are still reported). */
  listed: string[];
  own: OwnSpec;
  nat: NatSubnets;
  natScript: string;
  conflists: Conflist[];
  docker: DockerNetworkSpec[];
  /** The MTUs chosen for this host's containers and VXLAN device. */
  mtu: MtuChoice;
}

export function parseSelf(info: AgentInfo, options: SelfOptions): Self {
  const enabled: AgentInfo = { ...info, overlays: info.overlays.filter(isEnabled) };
  const nat = natSubnets(enabled);
  const mtu = chooseMtu({ flag: options.mtu, vtepMtu: vtepMtuOf(info), own: options.ownMtu, cluster: options.clusterMtu });
  return {
    info,
    overlays: enabled.overlays.map((o) => o.info.name),
    listed: info.overlays.map((o) => o.info.name),
    own: ownSpec(info, {
      bridgeMtu: mtu.container,
      ...(mtu.vxlan !== undefined && { vxlanMtu: mtu.vxlan }),
      networkConfig: options.networkConfig,
    }),
    nat,
    natScript: renderNat(nat),
    conflists: enabled.overlays.map((overlay) => {
      const text = options.networkConfig.mesos_bridge
        ? renderConflist(overlay, { mtu: mtu.container, ipamDir: options.ipamDir })
        : undefined;
      return { overlay: overlay.info.name, file: conflistFileName(overlay.info.name), ...(text !== undefined && { text }) };
    }),
    docker: desiredDockerNetworks(enabled, mtu.container),
    mtu,
  };
}
