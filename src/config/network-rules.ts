// Rules across fields: overlapping networks, IPv6 overlays without an IPv6
// VTEP pool, and capacity warnings (sizes so small they are likely mistakes). Pure.

import { type Cidr, type Family, familyBits, formatCidr, lastAddress, overlaps, size } from '../net/ip.js';
import { MAX_AGENT_PREFIX, specialRanges } from './cidr-rules.js';
import { type IssueSink, addError, addWarning } from './describe.js';
import type { ParsedOverlay } from './overlay-rules.js';
import { familyCapacity, vtepCapacity } from './plan.js';

export interface ParsedVteps {
  v4?: Cidr;
  v4Text?: string;
  v6Text?: string;
  v6?: Cidr;
  /** Whether vtep_subnet6 was given at all (even if invalid). */
  v6Given: boolean;
}

interface Claim {
  path: string;
  text: string;
  cidr: Cidr;
}

/** Lowest block of `cidr`'s size after `after` that overlaps nothing taken; bounded search. */
function freeBlockNear(cidr: Cidr, after: bigint, taken: Cidr[]): Cidr | undefined {
  const step = size(cidr);
  let base = ((after + step) / step) * step;
  for (let tries = 0; tries < 64; tries++) {
    const candidate: Cidr = { family: cidr.family, base, length: cidr.length };
    if (lastAddress(candidate) >= 1n << BigInt(familyBits(cidr.family))) return undefined;
    const blocker = taken.find((t) => overlaps(t, candidate));
    if (!blocker) return candidate;
    base = ((lastAddress(blocker) + step) / step) * step;
  }
  return undefined;
}

/** Each suggestion scans every network; a few are enough for a human. */
const MAX_SUGGESTIONS = 20;

/**
 * Networks of one family may not overlap: the VTEP pool and every overlay
 * subnet. A sweep in address order keeps this O(n log n) for long lists; each
 * overlapping network is reported once, against the widest-reaching one before it.
 */
function checkFamilyOverlaps(sink: IssueSink, claims: Claim[]): void {
  const taken = [...claims.map((c) => c.cidr), ...specialRanges()];
  const sorted = claims
    .map((claim, order) => ({ claim, order }))
    .sort((a, b) => (a.claim.cidr.base === b.claim.cidr.base ? a.order - b.order : a.claim.cidr.base < b.claim.cidr.base ? -1 : 1));
  let reach: Claim | undefined;
  let suggestionsLeft = MAX_SUGGESTIONS;
  for (const { claim } of sorted) {
    if (reach && claim.cidr.base <= lastAddress(reach.cidr)) {
      const free = suggestionsLeft-- > 0 ? freeBlockNear(claim.cidr, lastAddress(reach.cidr), taken) : undefined;
      addError(
        sink,
        claim.path,
        claim.text,
        `overlaps ${reach.path} (${reach.text}): an address would belong to two networks`,
        free ? `use a network that overlaps none of the others, e.g. ${formatCidr(free)}` : `move it out of ${formatCidr(reach.cidr)}`,
      );
    }
    if (!reach || lastAddress(claim.cidr) > lastAddress(reach.cidr)) reach = claim;
  }
}

export function checkOverlaps(sink: IssueSink, vteps: ParsedVteps, overlays: ParsedOverlay[]): void {
  for (const family of [4, 6] as const) {
    const claims: Claim[] = [];
    const vtep = family === 4 ? vteps.v4 : vteps.v6;
    const vtepPath = family === 4 ? 'vtep_subnet' : 'vtep_subnet6';
    const vtepText = family === 4 ? vteps.v4Text : vteps.v6Text;
    if (vtep) claims.push({ path: vtepPath, text: vtepText ?? formatCidr(vtep), cidr: vtep });
    for (const overlay of overlays) {
      for (const f of overlay.families) {
        if (f.family === family) claims.push({ path: f.subnetPath, text: f.text, cidr: f.cidr });
      }
    }
    checkFamilyOverlaps(sink, claims);
  }
}

/** IPv6 overlay routes point at the peers' IPv6 VTEP addresses, so they need a pool. */
export function checkIpv6NeedsVtep(sink: IssueSink, vteps: ParsedVteps, overlays: ParsedOverlay[]): void {
  if (vteps.v6Given) return;
  for (const overlay of overlays) {
    const v6 = overlay.families.find((f) => f.family === 6);
    if (v6) {
      addError(
        sink,
        v6.subnetPath,
        v6.text,
        'an IPv6 overlay needs vtep_subnet6: routes to other agents go via their IPv6 VTEP addresses',
        'add vtep_subnet6: fd00:15::/64 (any IPv6 network not used by an overlay)',
      );
    }
  }
}

const SMALL_AGENT_COUNT = 4n;
const SMALL_CONTAINER_COUNT = 6n;

/** A prefix that splits the subnet into several agent slices, if one exists. */
function longerPrefix(cidr: Cidr, family: Family): number | undefined {
  const preferred = family === 4 ? 24 : 64;
  const highest = MAX_AGENT_PREFIX[family];
  if (cidr.length < preferred) return preferred;
  return cidr.length < highest ? Math.min(cidr.length + 2, highest) : undefined;
}

/** Smallest vtep_subnet length (not below /8) whose pool holds `agents` VTEPs, if any. */
function vtepLengthFor(agents: bigint): number | undefined {
  for (let length = 30; length >= 8; length--) {
    if (vtepCapacity({ family: 4, base: 0n, length }) >= agents) return length;
  }
  return undefined;
}

/** A VTEP pool as the user wrote it, with its capacity. */
interface Pool {
  path: 'vtep_subnet' | 'vtep_subnet6';
  text: string;
  vteps: bigint;
}

function pools(vteps: ParsedVteps): Pool[] {
  const found: Pool[] = [];
  if (vteps.v4) found.push({ path: 'vtep_subnet', text: vteps.v4Text ?? formatCidr(vteps.v4), vteps: vtepCapacity(vteps.v4) });
  if (vteps.v6) found.push({ path: 'vtep_subnet6', text: vteps.v6Text ?? formatCidr(vteps.v6), vteps: vtepCapacity(vteps.v6) });
  return found;
}

function warnFamily(
  sink: IssueSink,
  overlay: ParsedOverlay,
  family: Family,
  cidr: Cidr,
  prefix: number,
  prefixPath: string,
  pool: Pool | undefined,
): void {
  const capacity = familyCapacity(cidr, prefix);
  const label = overlay.name ?? `overlays[${overlay.index}]`;
  if (capacity.agentSubnets === 1n) {
    const longer = longerPrefix(cidr, family);
    addWarning(
      sink,
      prefixPath,
      prefix,
      `equals the mask of ${formatCidr(cidr)}: the whole overlay is one agent subnet, so only one agent can join ${label}`,
      longer
        ? `use a longer prefix (e.g. ${longer}) to give every agent a slice`
        : 'use a wider subnet and a longer prefix to give every agent a slice',
    );
  } else if (capacity.agentSubnets < SMALL_AGENT_COUNT) {
    addWarning(
      sink,
      prefixPath,
      prefix,
      `splits ${formatCidr(cidr)} into only ${capacity.agentSubnets} agent subnets, so at most ${capacity.agentSubnets} agents can join ${label}`,
      'use a longer prefix or a wider subnet',
    );
  }
  if (capacity.containersPerBridgeHalf < SMALL_CONTAINER_COUNT) {
    addWarning(
      sink,
      prefixPath,
      prefix,
      `leaves each bridge half (/${capacity.bridgeHalfPrefix}) only ${capacity.containersPerBridgeHalf} container address(es) on each agent of ${label}`,
      `use a shorter prefix (e.g. ${family === 4 ? '24 gives 125' : '64 gives plenty'} per half)`,
    );
  }
  // IPv6 space is not scarce, so unreachable IPv6 agent subnets are no mistake.
  if (family === 4 && pool && pool.vteps < capacity.agentSubnets) {
    const length = pool.path === 'vtep_subnet' ? vtepLengthFor(capacity.agentSubnets) : undefined;
    addWarning(
      sink,
      pool.path,
      pool.text,
      `the VTEP pool holds ${pool.vteps} addresses, fewer than the ${capacity.agentSubnets} agent subnets of ${label}: the cluster stops at ${pool.vteps} agents and the rest of ${formatCidr(cidr)} is never used`,
      length
        ? `widen vtep_subnet to a /${length} (${vtepCapacity({ family: 4, base: 0n, length })} VTEPs), or shorten the prefix`
        : `widen ${pool.path}, or shorten the overlay prefix`,
    );
  }
}

export function capacityWarnings(sink: IssueSink, vteps: ParsedVteps, overlays: ParsedOverlay[]): void {
  const found = pools(vteps);
  for (const pool of found) {
    if (pool.vteps > 0n && pool.vteps < SMALL_AGENT_COUNT) {
      addWarning(
        sink,
        pool.path,
        pool.text,
        `holds only ${pool.vteps} VTEP addresses, so at most that many agents (masters included) can join`,
        `use a wider network, e.g. a ${pool.path === 'vtep_subnet' ? '/20 (4094 VTEPs)' : '/64'}`,
      );
    }
  }
  // The smaller pool is the one that stops registrations.
  const binding = found.reduce<Pool | undefined>((min, p) => (min === undefined || p.vteps < min.vteps ? p : min), undefined);
  for (const overlay of overlays) {
    for (const f of overlay.families) {
      if (f.prefix !== undefined && f.prefix >= f.cidr.length) warnFamily(sink, overlay, f.family, f.cidr, f.prefix, f.prefixPath, binding);
    }
  }
  if (overlays.length > 0 && overlays.every((o) => !o.enabled)) {
    addWarning(
      sink,
      'overlays',
      overlays.map((o) => ({ name: o.name, enabled: false })),
      'every overlay is disabled: agents get a VTEP but no new subnet',
      'set enabled: true (or remove enabled) on the overlays that should work',
    );
  }
}
