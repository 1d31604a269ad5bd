// Capacity of a network config: how many agents, VTEPs and containers it can
// hold, exactly (bigint), and which limit binds the cluster size. Pure.

import { type Cidr, type Family, familyBits, formatCidr, size, usableContainerAddresses } from '../net/ip.js';
import type { AgentRange, CanonicalConfig, CanonicalOverlay } from './canonical.js';
import { MAX_OVERLAYS } from './overlay-rules.js';

/** Capacity of one address family of one overlay. */
export interface FamilyCapacity {
  family: Family;
  subnet: string;
  prefix: number;
  /** Agent subnets the overlay splits into: 2^(prefix - mask). */
  agentSubnets: bigint;
  /** Addresses in one agent subnet: 2^(bits - prefix). */
  addressesPerAgent: bigint;
  /** Prefix length of each bridge half (m-<name> below, d-<name> above). */
  bridgeHalfPrefix: number;
  /** Container addresses one bridge half hands out, after network, gateway and (IPv4) broadcast. */
  containersPerBridgeHalf: bigint;
}

export interface OverlayCapacity {
  name: string;
  enabled: boolean;
  ipv4?: FamilyCapacity;
  ipv6?: FamilyCapacity;
  /** Agents that can get this overlay: min of the VTEP capacity and its agent subnets. */
  maxAgents: bigint;
  /** Field paths of the limits equal to maxAgents, e.g. ["overlays[0].subnet"]. */
  limitedBy: string[];
}

export interface VtepCapacity {
  family: Family;
  subnet: string;
  /** VTEP addresses the master can hand out (one per agent). */
  vteps: bigint;
}

export interface CapacityPlan {
  vtep: { ipv4: VtepCapacity; ipv6?: VtepCapacity };
  overlays: OverlayCapacity[];
  /** Agents that can join with every enabled overlay working. */
  cluster: { maxAgents: bigint; limitedBy: string[] };
  /** How many overlays the config holds, and the most it may (MAX_OVERLAYS). */
  overlayCount: { count: number; max: number };
}

/**
 * VTEP addresses of a pool. IPv4 skips the network and broadcast addresses;
 * IPv6 skips only the subnet-router anycast address (as the allocator does).
 */
export function vtepCapacity(cidr: Cidr): bigint {
  const reserved = cidr.family === 4 ? 2n : 1n;
  const total = size(cidr);
  return total > reserved ? total - reserved : 0n;
}

/** The numbers of one overlay subnet split into /prefix agent subnets. */
export function familyCapacity(cidr: Cidr, prefix: number): Omit<FamilyCapacity, 'subnet'> {
  const bits = familyBits(cidr.family);
  const halfPrefix = Math.min(prefix + 1, bits);
  const half: Cidr = { family: cidr.family, base: 0n, length: halfPrefix };
  return {
    family: cidr.family,
    prefix,
    agentSubnets: 1n << BigInt(Math.max(0, prefix - cidr.length)),
    addressesPerAgent: 1n << BigInt(bits - prefix),
    bridgeHalfPrefix: halfPrefix,
    containersPerBridgeHalf: prefix < bits ? usableContainerAddresses(half) : 0n,
  };
}

interface Limit {
  path: string;
  count: bigint;
}

function tightest(limits: Limit[]): { maxAgents: bigint; limitedBy: string[] } {
  // biome-ignore lint/complexity/useMathMinMax: counts are bigints, which Math.min does not take
  const maxAgents = limits.reduce((min, l) => (l.count < min ? l.count : min), limits[0]!.count);
  return { maxAgents, limitedBy: limits.filter((l) => l.count === maxAgents).map((l) => l.path) };
}

function planFamily(range: AgentRange | undefined): FamilyCapacity | undefined {
  if (range === undefined) return undefined;
  const { family, ...counts } = familyCapacity(range.subnet, range.prefix);
  return { family, subnet: formatCidr(range.subnet), ...counts };
}

function planOverlay(overlay: CanonicalOverlay, index: number, vtepLimits: Limit[]): OverlayCapacity {
  const ipv4 = planFamily(overlay.v4);
  const ipv6 = planFamily(overlay.v6);
  const limits = [...vtepLimits];
  if (ipv4) limits.push({ path: `overlays[${index}].subnet`, count: ipv4.agentSubnets });
  if (ipv6) limits.push({ path: `overlays[${index}].subnet6`, count: ipv6.agentSubnets });
  return { name: overlay.name, enabled: overlay.enabled, ...(ipv4 && { ipv4 }), ...(ipv6 && { ipv6 }), ...tightest(limits) };
}

/** Capacity of a canonical config. */
export function planCapacity(config: CanonicalConfig): CapacityPlan {
  const ipv4: VtepCapacity = { family: 4, subnet: formatCidr(config.vtep4), vteps: vtepCapacity(config.vtep4) };
  const ipv6: VtepCapacity | undefined =
    config.vtep6 === undefined ? undefined : { family: 6, subnet: formatCidr(config.vtep6), vteps: vtepCapacity(config.vtep6) };
  const vtepLimits: Limit[] = [{ path: 'vtep_subnet', count: ipv4.vteps }];
  if (ipv6) vtepLimits.push({ path: 'vtep_subnet6', count: ipv6.vteps });
  const overlays = config.overlays.map((overlay, index) => planOverlay(overlay, index, vtepLimits));
  const clusterLimits = [...vtepLimits];
  overlays.forEach((overlay, index) => {
    if (!overlay.enabled) return;
    if (overlay.ipv4) clusterLimits.push({ path: `overlays[${index}].subnet`, count: overlay.ipv4.agentSubnets });
    if (overlay.ipv6) clusterLimits.push({ path: `overlays[${index}].subnet6`, count: overlay.ipv6.agentSubnets });
  });
  return {
    vtep: { ipv4, ...(ipv6 && { ipv6 }) },
    overlays,
    cluster: tightest(clusterLimits),
    overlayCount: { count: overlays.length, max: MAX_OVERLAYS },
  };
}
