// The master's allocation policy: VTEP address and MAC per agent, one subnet
// per overlay and family, lowest free first. Pure: records in, records out.
// Every pool is a BlockSet, so a registration costs O(overlays * log n) no
// matter how many agents exist.

import type { AgentNetworkConfig } from '../api/types.js';
import type { NetworkConfig } from '../config/types.js';
import { VxnetError } from '../errors.js';
import { type Cidr, type Family, formatCidr, formatIp, halves, mustCidr, parseCidr, parseIp } from '../net/ip.js';
import { vtepMac } from '../net/mac.js';
import type { AgentRecord, OverlayAllocation } from '../store/store.js';
import { BlockSet } from './block-set.js';
import { Claims } from './claims.js';
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

interface OverlayPools {
  name: string;
  enabled: boolean;
  v4?: { pool: SubnetPool; claims: Claims };
  v6?: { pool: SubnetPool; claims: Claims };
}

/** What one agent holds, as block indices. */
interface Holding {
  vtep4?: bigint;
  vtep6?: bigint;
  subnets: Map<string, { v4?: bigint; v6?: bigint }>;
}

export class Allocator {
  private readonly vtep4: { pool: VtepPool; claims: Claims };
  private readonly vtep6?: { pool: VtepPool; claims: Claims };
  private readonly overlays: OverlayPools[];
  private readonly holdings = new Map<string, Holding>();

  /** @param config a config that passed checkConfig. */
  constructor(private readonly config: NetworkConfig) {
    this.vtep4 = vtepPool(config.vtep_subnet, 'vtep_subnet');
    if (config.vtep_subnet6) this.vtep6 = vtepPool(config.vtep_subnet6, 'vtep_subnet6');
    this.overlays = config.overlays.map((o) => ({
      name: o.name,
      enabled: o.enabled !== false,
      ...(o.subnet !== undefined && o.prefix !== undefined ? { v4: subnetPool(o.name, o.subnet, o.prefix) } : {}),
      ...(o.subnet6 !== undefined && o.prefix6 !== undefined ? { v6: subnetPool(o.name, o.subnet6, o.prefix6) } : {}),
    }));
  }

  /**
   * Reserves a stored record again (recovery, or a record another master
   * wrote). The agent then holds exactly what the record holds. Idempotent.
   * Throws RECONCILE_REFUSED, reserving nothing, when the record contradicts
   * the config or another agent's record.
   */
  occupy(record: AgentRecord): void {
    this.apply(record.ip, this.resolve(record));
  }

  /**
   * Returns the record to store for a registration. With `existing` (or when
   * this allocator already holds values for the IP) the agent keeps them and
   * only gaps are filled. Throws POOL_EXHAUSTED, reserving nothing, when no
   * VTEP address is left; a full overlay only sets that overlay's `error`.
   */
  register(req: RegisterRequest, existing?: AgentRecord): AgentRecord {
    if (existing && existing.ip !== req.ip) {
      throw new TypeError(`register: existing record is for ${existing.ip}, not ${req.ip}`);
    }
    const base = existing ? this.resolve(existing) : this.holdings.get(req.ip);
    const next: Holding = {
      vtep4: base?.vtep4 ?? this.freeVtep(this.vtep4),
      subnets: new Map(),
    };
    if (this.vtep6) next.vtep6 = base?.vtep6 ?? this.freeVtep(this.vtep6);

    const overlays: Record<string, OverlayAllocation> = {};
    for (const overlay of this.overlays) {
      const held = base?.subnets.get(overlay.name) ?? {};
      const entry = this.planOverlay(overlay, held, req.networkConfig.allocate_subnet);
      if (!entry) continue;
      next.subnets.set(overlay.name, entry.held);
      overlays[overlay.name] = entry.allocation;
    }
    this.apply(req.ip, next);

    const vtepIp = this.vtep4.pool.addressOf(next.vtep4!);
    return {
      ip: req.ip,
      seq: existing?.seq ?? req.seq,
      networkConfig: { ...req.networkConfig },
      vtepIp: formatIp(vtepIp),
      ...(this.vtep6 && next.vtep6 !== undefined ? { vtepIp6: formatIp(this.vtep6.pool.addressOf(next.vtep6)) } : {}),
      vtepMac: vtepMac(this.config.vtep_mac_oui, vtepIp),
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
    const vteps = [this.vtep4, ...(this.vtep6 ? [this.vtep6] : [])].map(({ pool }) =>
      usageOf('vtep', 'vtep', true, pool.cidr, pool.cidr.family === 4 ? 32 : 128, pool.blocks),
    );
    const subnets = this.overlays.flatMap((o) =>
      [o.v4, o.v6].flatMap((p) => (p ? [usageOf('overlay', o.name, o.enabled, p.pool.cidr, p.pool.prefix, p.pool.blocks)] : [])),
    );
    return [...vteps, ...subnets];
  }

  /** What the agent holds in one overlay after this registration; undefined to list nothing. */
  private planOverlay(
    overlay: OverlayPools,
    held: { v4?: bigint; v6?: bigint },
    allocateSubnet: boolean,
  ): { held: { v4?: bigint; v6?: bigint }; allocation: OverlayAllocation } | undefined {
    if (!allocateSubnet) return overlay.enabled ? { held: {}, allocation: {} } : undefined;
    const result: { v4?: bigint; v6?: bigint } = { ...held };
    const allocation: OverlayAllocation = {};
    const errors: string[] = [];
    for (const family of ['v4', 'v6'] as const) {
      const pools = overlay[family];
      if (!pools) continue;
      if (result[family] === undefined && overlay.enabled) {
        const free = pools.pool.blocks.lowestFree();
        if (free === undefined) errors.push(exhausted(overlay.name, pools.pool));
        else result[family] = free;
      }
      const index = result[family];
      if (index !== undefined) allocation[family === 'v4' ? 'subnet' : 'subnet6'] = formatCidr(pools.pool.blockOf(index));
    }
    if (errors.length > 0) allocation.error = errors.join('; ');
    if (!overlay.enabled && result.v4 === undefined && result.v6 === undefined) return undefined;
    return { held: result, allocation };
  }

  private freeVtep(vtep: { pool: VtepPool; claims: Claims }): bigint {
    const free = vtep.pool.blocks.lowestFree();
    if (free !== undefined) return free;
    const { pool, claims } = vtep;
    throw new VxnetError(
      'POOL_EXHAUSTED',
      `no free VTEP address left in ${claims.label} (${pool.used} of ${pool.total} in use); ` +
        `widen ${claims.label.split(' ')[0]} or delete agents that left the cluster (POST /overlay-master/agents/delete)`,
      { pool: claims.label, used: Number(pool.used), total: Number(pool.total) },
    );
  }

  /** Checks a stored record against the config and other agents; returns it as indices. */
  private resolve(record: AgentRecord): Holding {
    const agent = record.ip;
    const refuse = (what: string, problem: string, fix: string, details: Record<string, unknown>): never => {
      throw new VxnetError('RECONCILE_REFUSED', `agent ${agent} holds ${what}, ${problem}; ${fix}`, { agent, ...details });
    };
    const claimIndex = (claims: Claims, index: bigint, what: string, details: Record<string, unknown>): bigint => {
      const owner = claims.ownerOf(index);
      if (owner !== undefined && owner !== agent) {
        refuse(what, `which agent ${owner} holds too`, 'the store is inconsistent: delete one of the two agents', details);
      }
      return index;
    };

    const holding: Holding = { subnets: new Map() };
    const vtepFix = 'restore the vtep settings the store was written with, or delete the agent';
    const ip4 = parseIp(record.vtepIp);
    const index4 = ip4 ? this.vtep4.pool.indexOf(ip4) : undefined;
    if (index4 === undefined) {
      refuse(`VTEP address "${record.vtepIp}"`, `which is not a usable address of ${this.vtep4.claims.label}`, vtepFix, { vtepIp: record.vtepIp });
    }
    holding.vtep4 = claimIndex(this.vtep4.claims, index4!, `VTEP address ${record.vtepIp}`, { vtepIp: record.vtepIp });
    const expectedMac = vtepMac(this.config.vtep_mac_oui, ip4!);
    if (record.vtepMac.toLowerCase() !== expectedMac) {
      refuse(`VTEP MAC ${record.vtepMac}`, `but vtep_mac_oui ${this.config.vtep_mac_oui} gives ${expectedMac}`, vtepFix, { vtepMac: record.vtepMac });
    }
    if (record.vtepIp6 !== undefined) {
      const ip6 = parseIp(record.vtepIp6);
      const index6 = ip6 && this.vtep6 ? this.vtep6.pool.indexOf(ip6) : undefined;
      if (index6 === undefined) {
        const where = this.vtep6 ? `which is not a usable address of ${this.vtep6.claims.label}` : 'but no vtep_subnet6 is configured';
        refuse(`VTEP address "${record.vtepIp6}"`, where, vtepFix, { vtepIp6: record.vtepIp6 });
      }
      holding.vtep6 = claimIndex(this.vtep6!.claims, index6!, `VTEP address ${record.vtepIp6}`, { vtepIp6: record.vtepIp6 });
    }

    for (const [name, allocation] of Object.entries(record.overlays)) {
      if (allocation.subnet === undefined && allocation.subnet6 === undefined) continue;
      const overlay = this.overlays.find((o) => o.name === name);
      const held: { v4?: bigint; v6?: bigint } = {};
      for (const [family, text] of [['v4', allocation.subnet], ['v6', allocation.subnet6]] as const) {
        if (text === undefined) continue;
        const details = { overlay: name, subnet: text };
        const what = `subnet "${text}" in overlay ${name}`;
        if (!overlay) {
          refuse(what, 'which is not in the config', `put overlay ${name} back in the config, or run "vxnet network delete ${name} --data DIR" to free its allocations`, details);
        }
        const pools = overlay![family];
        const lookup = pools ? lookupBlock(pools.pool, text) : { ok: false as const, reason: `overlay ${name} has no ${family === 'v4' ? 'subnet' : 'subnet6'} configured` };
        if (!lookup.ok) {
          refuse(what, lookup.reason, `restore overlay ${name}'s old subnet and prefix in the config, or run "vxnet network delete ${name} --data DIR"`, details);
        }
        held[family] = claimIndex(pools!.claims, (lookup as { index: bigint }).index, what, details);
      }
      holding.subnets.set(name, held);
    }
    return holding;
  }

  /** Makes the agent hold exactly `next` (undefined: nothing). Validation happened before. */
  private apply(agent: string, next: Holding | undefined): void {
    const before = this.claimsOf(this.holdings.get(agent));
    const after = this.claimsOf(next);
    const kept = new Set(after.map(([claims, index]) => `${claims.label}|${index}`));
    for (const [claims, index] of before) {
      if (!kept.has(`${claims.label}|${index}`)) claims.giveBack(index, agent);
    }
    for (const [claims, index] of after) claims.take(index, agent);
    if (next) this.holdings.set(agent, next);
    else this.holdings.delete(agent);
  }

  private claimsOf(holding: Holding | undefined): [Claims, bigint][] {
    if (!holding) return [];
    const out: [Claims, bigint][] = [];
    if (holding.vtep4 !== undefined) out.push([this.vtep4.claims, holding.vtep4]);
    if (holding.vtep6 !== undefined && this.vtep6) out.push([this.vtep6.claims, holding.vtep6]);
    for (const overlay of this.overlays) {
      const held = holding.subnets.get(overlay.name);
      if (held?.v4 !== undefined && overlay.v4) out.push([overlay.v4.claims, held.v4]);
      if (held?.v6 !== undefined && overlay.v6) out.push([overlay.v6.claims, held.v6]);
    }
    return out;
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

function vtepPool(subnet: string, field: string): { pool: VtepPool; claims: Claims } {
  const pool = new VtepPool(mustCidr(subnet));
  return { pool, claims: new Claims(pool.blocks, `${field} ${formatCidr(pool.cidr)}`) };
}

function subnetPool(name: string, subnet: string, prefix: number): { pool: SubnetPool; claims: Claims } {
  const pool = new SubnetPool(mustCidr(subnet), prefix);
  return { pool, claims: new Claims(pool.blocks, `overlay ${name} ${formatCidr(pool.cidr)}`) };
}

function lookupBlock(pool: SubnetPool, text: string): { ok: true; index: bigint } | { ok: false; reason: string } {
  const parsed = parseCidr(text);
  if (!parsed.ok) return { ok: false, reason: `which is not a CIDR (${parsed.reason})` };
  if (!parsed.aligned) return { ok: false, reason: 'which has host bits set' };
  const found = pool.indexOf(parsed.cidr);
  return found.ok ? found : { ok: false, reason: `which does not fit the configured overlay: ${found.reason} (prefix ${pool.prefix})` };
}

function exhausted(name: string, pool: SubnetPool): string {
  return `no free /${pool.prefix} left in overlay ${name} (${pool.used} of ${pool.total} in use)`;
}

function usageOf(kind: 'vtep' | 'overlay', name: string, enabled: boolean, cidr: Cidr, prefix: number, blocks: BlockSet): PoolUsage {
  return { kind, name, family: cidr.family, cidr: formatCidr(cidr), prefix, enabled, used: Number(blocks.used), total: Number(blocks.total) };
}
