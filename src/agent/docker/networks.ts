// Pure: the Docker network each overlay should have on this host (bridge
// driver on `d-<name>`, IPAM = the docker half of the agent's subnet), and
// the plan that turns what the engine has into that. Only networks carrying
// vxnet's label are ever removed; a user's network is reported, not touched.

import type { AgentInfo, ContainerInfo } from '../../api/types.js';
import type { Problem } from '../desired.js';
import { bridgeAddress } from '../desired.js';
import { canonicalCidr, canonicalIp, overlayNameProblem } from '../names.js';

/** Label on every network vxnet creates; its value is the overlay name. */
export const OWNER_LABEL = 'io.vxnet.overlay';

export const OPT_BRIDGE = 'com.docker.network.bridge.name';
export const OPT_MASQUERADE = 'com.docker.network.bridge.enable_ip_masquerade';
export const OPT_MTU = 'com.docker.network.driver.mtu';

export interface IpamRange {
  subnet: string;
  gateway: string;
}

export interface DockerNetworkSpec {
  /** The overlay name: `docker run --network <overlay>` works as on DC/OS. */
  name: string;
  bridge: string;
  /** IPv4 first, then IPv6. */
  ranges: IpamRange[];
  mtu: number;
}

export interface AttachedContainer {
  id: string;
  name: string;
  /** Without length. */
  ip?: string;
  ip6?: string;
}

/** A network as the engine reports it (inspect), reduced to what vxnet compares. */
export interface ObservedDockerNetwork {
  id: string;
  name: string;
  driver: string;
  options: Record<string, string>;
  labels: Record<string, string>;
  ranges: { subnet: string; gateway?: string }[];
  containers: AttachedContainer[];
}

export type DockerOp = { kind: 'create'; spec: DockerNetworkSpec } | { kind: 'remove'; id: string; name: string; reason: string };

export interface DockerPlan {
  ops: DockerOp[];
  /** Scoped to the overlay: its state becomes STATUS_FAILED. */
  problems: Problem[];
  /** Left alone on purpose, worth telling the operator. */
  warnings: string[];
}

/** The Docker network each overlay with a docker bridge should have. */
export function desiredDockerNetworks(me: AgentInfo, mtu: number): DockerNetworkSpec[] {
  const specs: DockerNetworkSpec[] = [];
  for (const overlay of me.overlays) {
    const bridge = overlay.docker_bridge;
    if (!bridge || overlayNameProblem(overlay.info?.name)) continue;
    const ranges: IpamRange[] = [];
    for (const half of [bridge.ip, bridge.ip6]) {
      const subnet = canonicalCidr(half);
      const gateway = subnet && bridgeAddress(subnet);
      if (subnet && gateway) ranges.push({ subnet, gateway: gateway.slice(0, gateway.lastIndexOf('/')) });
    }
    if (ranges.length > 0) specs.push({ name: overlay.info.name, bridge: `d-${overlay.info.name}`, ranges, mtu });
  }
  return specs;
}

const isOurs = (n: ObservedDockerNetwork): boolean => n.labels[OWNER_LABEL] !== undefined;

const rangeKey = (r: { subnet: string; gateway?: string }): string =>
  `${canonicalCidr(r.subnet) ?? r.subnet} gw ${canonicalIp(r.gateway) ?? r.gateway ?? '-'}`;

/** What differs, apart from the MTU; empty when the network serves the overlay. */
export function mismatches(spec: DockerNetworkSpec, n: ObservedDockerNetwork): string[] {
  const found: string[] = [];
  if (n.driver !== 'bridge') found.push(`driver is ${n.driver}, not bridge`);
  const bridge = n.options[OPT_BRIDGE];
  if (bridge !== spec.bridge) found.push(`bridge is ${bridge ?? "(docker's default)"}, not ${spec.bridge}`);
  const want = spec.ranges.map(rangeKey).sort().join(', ');
  const have = n.ranges.map(rangeKey).sort().join(', ');
  if (want !== have) found.push(`IPAM is ${have || '(none)'}, not ${want}`);
  if (n.options[OPT_MASQUERADE] !== 'false')
    found.push(`${OPT_MASQUERADE} is ${n.options[OPT_MASQUERADE] ?? '(unset, so true)'}, not false`);
  return found;
}

const mtuOf = (n: ObservedDockerNetwork): number | undefined => {
  const text = n.options[OPT_MTU];
  return text === undefined ? undefined : Number(text);
};

const listContainers = (n: ObservedDockerNetwork): string =>
  n.containers
    .map((c) => c.name || c.id.slice(0, 12))
    .sort()
    .join(', ');

/**
 * Level-triggered: create what is missing, replace vxnet's own networks that
 * no longer match (only while no container uses them), remove vxnet's
 * networks of overlays this host no longer serves, and leave the rest alone.
 */
export function planDocker(desired: DockerNetworkSpec[], observed: ObservedDockerNetwork[]): DockerPlan {
  const ops: DockerOp[] = [];
  const problems: Problem[] = [];
  const warnings: string[] = [];
  const byName = new Map(observed.map((n) => [n.name, n]));
  const wanted = new Set(desired.map((s) => s.name));

  for (const spec of desired) {
    const n = byName.get(spec.name);
    if (!n) {
      ops.push({ kind: 'create', spec });
      continue;
    }
    const diff = mismatches(spec, n);
    const mtuDiffers = mtuOf(n) !== spec.mtu;
    if (diff.length === 0 && !mtuDiffers) continue;
    if (!isOurs(n)) {
      if (diff.length === 0) continue; // a hand-made network that serves the overlay (MTU aside) works: leave it
      problems.push({
        scope: spec.name,
        message:
          `Docker network ${spec.name} was not made by vxnet (no label ${OWNER_LABEL}) and does not match the overlay: ${diff.join('; ')}. ` +
          `Fix: remove it (docker network rm ${spec.name}, after moving its containers${n.containers.length ? `: ${listContainers(n)}` : ''}); vxnet then creates the right one`,
      });
      continue;
    }
    if (n.containers.length === 0) {
      ops.push({
        kind: 'remove',
        id: n.id,
        name: n.name,
        reason: diff.length ? diff.join('; ') : `MTU ${mtuOf(n) ?? '(unset)'} is not ${spec.mtu}`,
      });
      ops.push({ kind: 'create', spec });
    } else if (diff.length > 0) {
      problems.push({
        scope: spec.name,
        message:
          `Docker network ${spec.name} does not match the overlay: ${diff.join('; ')}; containers still use it (${listContainers(n)}). ` +
          `Fix: stop or disconnect them (docker network disconnect ${spec.name} <container>); vxnet then recreates the network`,
      });
    } else {
      warnings.push(
        `Docker network ${spec.name} has MTU ${mtuOf(n) ?? '(unset)'}, not ${spec.mtu}; left as it is while containers use it (${listContainers(n)}); ` +
          'it is recreated with the new MTU once they are gone',
      );
    }
  }

  for (const n of observed) {
    if (!isOurs(n) || wanted.has(n.name)) continue;
    if (n.containers.length === 0) ops.push({ kind: 'remove', id: n.id, name: n.name, reason: 'this host no longer serves the overlay' });
    else
      warnings.push(
        `Docker network ${n.name} is no longer needed but containers still use it (${listContainers(n)}); it is removed once they are gone`,
      );
  }
  return { ops, problems, warnings };
}

/** The containers attached to vxnet's overlays through Docker, for the master's report. */
export function dockerContainers(observed: ObservedDockerNetwork[], overlays: ReadonlySet<string>): ContainerInfo[] {
  const out: ContainerInfo[] = [];
  for (const n of observed) {
    if (!overlays.has(n.name)) continue;
    for (const c of n.containers) {
      const ip = c.ip ?? c.ip6;
      if (!ip) continue;
      out.push({
        id: c.id,
        network: n.name,
        ip,
        ...(c.ip6 && c.ip ? { ip6: c.ip6 } : {}),
        interface: '',
        runtime: 'docker',
        ...(c.name ? { name: c.name } : {}),
      });
    }
  }
  return out.sort((a, b) => a.network.localeCompare(b.network) || a.id.localeCompare(b.id));
}
