// The master's allocation policy: VTEP address and MAC per agent, one subnet
// per overlay and family, lowest free first. Pure: records in, records out.
// Every pool is a BlockSet, so a registration costs O(overlays * log n) no
// matter how many agents exist.

import type { AgentNetworkConfig } from '../api/types.js';
import type { NetworkConfig } from '../config/types.js';
import { VxnetError } from '../errors.js';
import { type Family, formatCidr, formatIp, halves, mustCidr } from '../net/ip.js';
import { vtepMac } from '../net/mac.js';
import type { AgentRecord, OverlayAllocation } from '../store/store.js';
import { Claims } from './claims.js';
import { type Held, type Holding, type OverlayPools, type Pools, type SubnetClaims, type VtepClaims, claimsOf, resolveRecord } from './holding.js';
import { SubnetPool } from './subnet-pool.js';
import { VtepPool } from './vtep-pool.js';

/** Used and total blocks of one pool. Totals past 2^53 (IPv6) are approximate. */
export interface PoolUsage {
  kind: 'vtep' | 'overlay';
  /** "vtep" or the overlay's name. */
  name: string;
  family: Family;
  cidr: string;
  /** Length of each allocated block: the overlay prefix, or 32/128 for VTEP addresses. */
  prefix: number;
  enabled: boolean;
  used: number;
  total: number;
}

export interface RegisterRequest {
  ip: string;
  networkConfig: AgentNetworkConfig;
  seq: number;
}

export class Allocator {
  private readonly pools: Pools;
  private readonly holdings = new Map<string, Holding>();

  /** @param config a config that passed checkConfig. */
  constructor(config: NetworkConfig) {
    this.pools = {
      oui: config.vtep_mac_oui,
      vtep4: vtepClaims(config.vtep_subnet, 'vtep_subnet'),
      ...(config.vtep_subnet6 ? { vtep6: vtepClaims(config.vtep_subnet6, 'vtep_subnet6') } : {}),
      overlays: config.overlays.map((o) => ({
        name: o.name,
        enabled: o.enabled !== false,
        ...(o.subnet !== undefined && o.prefix !== undefined ? { v4: subnetClaims(o.name, o.subnet, o.prefix) } : {}),
        ...(o.subnet6 !== undefined && o.prefix6 !== undefined ? { v6: subnetClaims(o.name, o.subnet6, o.prefix6) } : {}),
      })),
    };
  }

  /**
   * Reserves a stored record again (recovery, or a record another master
   * wrote). The agent then holds exactly what the record holds. Idempotent.
   * Throws RECONCILE_REFUSED, reserving nothing, when the record contradicts
   * the config or another agent's record.
   */
  occupy(record: AgentRecord): void {
    this.apply(record.ip, resolveRecord(record, this.pools));
  }

  /**
   * Returns the record to store for a registration. With `existing` (or when
   * this allocator already holds values for the IP) the agent keeps them and
   * only gaps are filled; `existing`'s seq, status and containers are kept.
   * Throws POOL_EXHAUSTED, reserving nothing, when no VTEP address is left;
   * a full overlay only sets that overlay's `error`.
   */
  register(req: RegisterRequest, existing?: AgentRecord): AgentRecord {
    if (existing && existing.ip !== req.ip) {
      throw new TypeError(`register: existing record is for ${existing.ip}, not ${req.ip}`);
    }
    const { vtep4, vtep6 } = this.pools;
    const base = existing ? resolveRecord(existing, this.pools) : this.holdings.get(req.ip);
    // Only peek at free blocks until everything is known, so a throw reserves nothing.
    const next: Holding = { vtep4: base?.vtep4 ?? freeVtep(vtep4), subnets: new Map() };
    if (vtep6) next.vtep6 = base?.vtep6 ?? freeVtep(vtep6);

    const overlays: Record<string, OverlayAllocation> = {};
    for (const overlay of this.pools.overlays) {
      const planned = planOverlay(overlay, base?.subnets.get(overlay.name) ?? {}, req.networkConfig.allocate_subnet);
      if (!planned) continue;
      next.subnets.set(overlay.name, planned.held);
      overlays[overlay.name] = planned.allocation;
    }
    this.apply(req.ip, next);

    const vtepIp = vtep4.pool.addressOf(next.vtep4!);
    return {
      ip: req.ip,
      seq: existing?.seq ?? req.seq,
      networkConfig: { ...req.networkConfig },
      vtepIp: formatIp(vtepIp),
      ...(vtep6 && next.vtep6 !== undefined ? { vtepIp6: formatIp(vtep6.pool.addressOf(next.vtep6)) } : {}),
      vtepMac: vtepMac(this.pools.oui, vtepIp),
      overlays,
      status: { ...(existing?.status ?? {}) },
      containers: [...(existing?.containers ?? [])],
    };
  }

  /** Frees everything the agent holds. Idempotent. */
  release(record: AgentRecord): void {
    this.apply(record.ip, undefined);
  }

  usage(): PoolUsage[] {
    const { vtep4, vtep6, overlays } = this.pools;
    const vteps = [vtep4, ...(vtep6 ? [vtep6] : [])].map(({ pool }) => {
      const prefix = pool.cidr.family === 4 ? 32 : 128;
      return { kind: 'vtep' as const, name: 'vtep', family: pool.cidr.family, cidr: formatCidr(pool.cidr), prefix, enabled: true, ...counts(pool) };
    });
    const subnets = overlays.flatMap(({ name, enabled, v4, v6 }) =>
      [v4, v6].flatMap((target) => {
        if (!target) return [];
        const { pool } = target;
        return [{ kind: 'overlay' as const, name, family: pool.cidr.family, cidr: formatCidr(pool.cidr), prefix: pool.prefix, enabled, ...counts(pool) }];
      }),
    );
    return [...vteps, ...subnets];
  }

  /** Makes the agent hold exactly `next` (undefined: nothing). Validation happened before. */
  private apply(agent: string, next: Holding | undefined): void {
    const after = claimsOf(next, this.pools);
    const kept = new Map<Claims, Set<bigint>>();
    for (const [claims, index] of after) kept.set(claims, (kept.get(claims) ?? new Set()).add(index));
    for (const [claims, index] of claimsOf(this.holdings.get(agent), this.pools)) {
      if (!kept.get(claims)?.has(index)) claims.giveBack(index, agent);
    }
    for (const [claims, index] of after) claims.take(index, agent);
    if (next) this.holdings.set(agent, next);
    else this.holdings.delete(agent);
  }
}

/** The m- (lower) and d- (upper) bridge halves of an agent subnet, IPv4 or IPv6. */
export function bridgeHalves(subnet: string): { mesos: string; docker: string } {
  const [lower, upper] = halves(mustCidr(subnet));
  return { mesos: formatCidr(lower), docker: formatCidr(upper) };
}

/** A VTEP address written with its vtep subnet's length, as /state shows it: "198.15.0.1/20". */
export function vtepWithLength(vtepIp: string, vtepSubnet: string): string {
  return `${vtepIp}/${mustCidr(vtepSubnet).length}`;
}

/** What the agent holds in one overlay after a registration; undefined lists nothing. */
function planOverlay(overlay: OverlayPools, held: Held, allocateSubnet: boolean): { held: Held; allocation: OverlayAllocation } | undefined {
  if (!allocateSubnet) return overlay.enabled ? { held: {}, allocation: {} } : undefined;
  const result: Held = { ...held };
  const allocation: OverlayAllocation = {};
  const errors: string[] = [];
  for (const family of ['v4', 'v6'] as const) {
    const target = overlay[family];
    if (!target) continue;
    // Disabled overlays keep what they hold but get nothing new.
    if (result[family] === undefined && overlay.enabled) {
      const free = target.pool.blocks.lowestFree();
      if (free === undefined) errors.push(exhausted(overlay.name, target.pool));
      else result[family] = free;
    }
    const index = result[family];
    if (index !== undefined) allocation[family === 'v4' ? 'subnet' : 'subnet6'] = formatCidr(target.pool.blockOf(index));
  }
  if (errors.length > 0) allocation.error = errors.join('; ');
  if (!overlay.enabled && result.v4 === undefined && result.v6 === undefined) return undefined;
  return { held: result, allocation };
}

function freeVtep({ pool, claims }: VtepClaims): bigint {
  const free = pool.blocks.lowestFree();
  if (free !== undefined) return free;
  const field = claims.label.split(' ')[0];
  throw new VxnetError(
    'POOL_EXHAUSTED',
    `no free VTEP address left in ${claims.label} (${pool.used} of ${pool.total} in use); ` +
      // The master refuses a changed vtep subnet while agents hold addresses from it, so "widen" alone is no fix.
      `delete agents that left the cluster (POST /overlay-master/agents/delete); a wider ${field} takes effect only once every agent is deleted`,
    { pool: field, used: Number(pool.used), total: Number(pool.total) },
  );
}

function exhausted(name: string, pool: SubnetPool): string {
  return `no free /${pool.prefix} left in overlay ${name} (${pool.used} of ${pool.total} in use)`;
}

function counts(pool: { used: bigint; total: bigint }): { used: number; total: number } {
  return { used: Number(pool.used), total: Number(pool.total) };
}

function vtepClaims(subnet: string, field: string): VtepClaims {
  const pool = new VtepPool(mustCidr(subnet));
  return { pool, claims: new Claims(pool.blocks, `${field} ${formatCidr(pool.cidr)}`) };
}

function subnetClaims(name: string, subnet: string, prefix: number): SubnetClaims {
  const pool = new SubnetPool(mustCidr(subnet), prefix);
  return { pool, claims: new Claims(pool.blocks, `overlay ${name} ${formatCidr(pool.cidr)}`) };
}
