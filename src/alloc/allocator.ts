// The master's allocation policy: VTEP address and MAC per agent, one subnet
// per overlay and family, lowest free first. Pure: leases in, leases out, on
// a canonical config; no text is parsed here. Every pool is a BlockSet, so a
// registration costs O(overlays * log n) no matter how many agents exist.

import type { CanonicalConfig } from '../config/canonical.js';
import { VxnetError } from '../errors.js';
import { type Cidr, type Family, formatCidr, formatIp } from '../net/ip.js';
import { vtepMac } from '../net/mac.js';
import type { BlockSet } from './block-set.js';
import { type Lease, type OverlayLease, VTEP_FIX, leaseRefusal, missingOverlayFix, overlayFix } from './lease.js';
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

/** A pool, how messages name it (e.g. "vtep_subnet 198.15.0.0/20"), and its slot in a Held. */
interface Named<P> {
  pool: P;
  label: string;
  slot: number;
}

/** One block of one pool: the pool's slot and the block's index in it. */
interface Claim {
  readonly slot: number;
  readonly index: bigint;
}

/**
 * What one agent holds, one entry per pool (its slot): a block index (a
 * number while it is a safe integer, else a bigint), NONE, or, in an
 * overlay's slots, UNLISTED when the lease does not list that overlay. A
 * restart holds 100,000 of these; an array of small integers is a fraction of
 * the Lease objects it stands for (issue 10 (c)), which leaseOf() rebuilds.
 */
type Held = (number | bigint)[];
const NONE = -1;
const UNLISTED = -2;
const isBlock = (key: number | bigint): boolean => typeof key === 'bigint' || key >= 0;
const keyOf = (index: bigint): number | bigint => (index <= MAX_SAFE ? Number(index) : index);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

interface OverlayPools {
  name: string;
  enabled: boolean;
  subnet?: Named<SubnetPool>;
  subnet6?: Named<SubnetPool>;
}

const FAMILIES = ['subnet', 'subnet6'] as const;

export class Allocator {
  private readonly oui: string;
  private readonly vtep4: Named<VtepPool>;
  private readonly vtep6: Named<VtepPool> | undefined;
  private readonly overlays: OverlayPools[];
  /** Every pool's blocks, by slot: vtep4, vtep6, then each overlay's subnet and subnet6 (those configured). Each knows its owners. */
  private readonly slots: BlockSet[] = [];
  private readonly held = new Map<string, Held>();
  /** Why an overlay got no subnet (it was full), by agent and overlay: rare, so kept apart from Held. */
  private readonly errors = new Map<string, Record<string, string>>();
  /** The Held of a lease that holds nothing and lists no overlay; copied by slice(), which makes exact-size arrays. */
  private readonly nothing: Held = [];

  constructor(config: CanonicalConfig) {
    this.oui = config.oui;
    const named = <P extends { blocks: BlockSet }>(pool: P, label: string, empty: number): Named<P> => {
      this.nothing.push(empty);
      return { pool, label, slot: this.slots.push(pool.blocks) - 1 };
    };
    this.vtep4 = named(new VtepPool(config.vtep4), `vtep_subnet ${formatCidr(config.vtep4)}`, NONE);
    this.vtep6 = config.vtep6 && named(new VtepPool(config.vtep6), `vtep_subnet6 ${formatCidr(config.vtep6)}`, NONE);
    this.overlays = config.overlays.map((o) => ({
      name: o.name,
      enabled: o.enabled,
      ...(o.v4 && { subnet: named(new SubnetPool(o.v4.subnet, o.v4.prefix), `overlay ${o.name} ${formatCidr(o.v4.subnet)}`, UNLISTED) }),
      ...(o.v6 && { subnet6: named(new SubnetPool(o.v6.subnet, o.v6.prefix), `overlay ${o.name} ${formatCidr(o.v6.subnet)}`, UNLISTED) }),
    }));
  }

  /**
   * Reserves a stored lease again (recovery, or a lease another master
   * wrote). The agent then holds exactly what the lease holds. Idempotent.
   * Throws RECONCILE_REFUSED, reserving nothing, when the lease contradicts
   * the config or another agent's lease.
   */
  occupy(agent: string, lease: Lease): void {
    this.hold(agent, lease, this.check(agent, lease));
  }

  /**
   * The agent's lease after a registration. What it holds already is kept and
   * only gaps are filled; without `allocateSubnet` it holds only its VTEP.
   * Throws POOL_EXHAUSTED, reserving nothing, when no VTEP address is left;
   * a full overlay only sets that overlay's `error`.
   */
  register(agent: string, allocateSubnet: boolean): Lease {
    const base = this.leaseOf(agent);
    // Only peek at free blocks until everything is known, so a throw reserves nothing.
    const vtepIp = base?.vtepIp ?? freeVtep(this.vtep4);
    const vtepIp6 = this.vtep6 && (base?.vtepIp6 ?? freeVtep(this.vtep6));
    const overlays: Record<string, OverlayLease> = {};
    for (const overlay of this.overlays) {
      const planned = planOverlay(overlay, base?.overlays[overlay.name] ?? {}, allocateSubnet);
      if (planned) overlays[overlay.name] = planned;
    }
    const lease: Lease = { vtepIp, ...(vtepIp6 && { vtepIp6 }), vtepMac: vtepMac(this.oui, vtepIp), overlays };
    this.hold(agent, lease, this.claimsOf(lease));
    return lease;
  }

  /** Frees everything the agent holds. Idempotent. */
  release(agent: string): void {
    const before = this.held.get(agent);
    if (before) this.releaseHeld(agent, before);
    this.held.delete(agent);
    this.errors.delete(agent);
  }

  /** What the agent holds, if anything (rebuilt from its Held). */
  leaseOf(agent: string): Lease | undefined {
    const held = this.held.get(agent);
    if (!held) return undefined;
    const vtepIp = this.vtep4.pool.addressOf(BigInt(held[this.vtep4.slot]!));
    const key6 = this.vtep6 && held[this.vtep6.slot]!;
    const vtepIp6 = this.vtep6 && key6 !== undefined && isBlock(key6) ? this.vtep6.pool.addressOf(BigInt(key6)) : undefined;
    const errors = this.errors.get(agent);
    const overlays: Record<string, OverlayLease> = {};
    for (const overlay of this.overlays) {
      const entry: { subnet?: Cidr; subnet6?: Cidr; error?: string } = {};
      let listed = false;
      for (const family of FAMILIES) {
        const target = overlay[family];
        const key = target && held[target.slot]!;
        if (key === undefined || key === UNLISTED) continue;
        listed = true;
        if (isBlock(key)) entry[family] = target!.pool.blockOf(BigInt(key));
      }
      if (!listed) continue;
      const error = errors?.[overlay.name];
      if (error !== undefined) entry.error = error;
      overlays[overlay.name] = entry;
    }
    return { vtepIp, ...(vtepIp6 && { vtepIp6 }), vtepMac: vtepMac(this.oui, vtepIp), overlays };
  }

  usage(): PoolUsage[] {
    const vteps = [this.vtep4, ...(this.vtep6 ? [this.vtep6] : [])].map(({ pool }) => {
      const prefix = pool.cidr.family === 4 ? 32 : 128;
      return {
        kind: 'vtep' as const,
        name: 'vtep',
        family: pool.cidr.family,
        cidr: formatCidr(pool.cidr),
        prefix,
        enabled: true,
        ...counts(pool),
      };
    });
    const subnets = this.overlays.flatMap(({ name, enabled, subnet, subnet6 }) =>
      [subnet, subnet6].flatMap((target) => {
        if (!target) return [];
        const { pool } = target;
        return [
          {
            kind: 'overlay' as const,
            name,
            family: pool.cidr.family,
            cidr: formatCidr(pool.cidr),
            prefix: pool.prefix,
            enabled,
            ...counts(pool),
          },
        ];
      }),
    );
    return [...vteps, ...subnets];
  }

  /**
   * Makes `agent` hold exactly `claims`, the blocks of `lease`: frees what it
   * no longer holds, takes what is new. The caller has checked that no other
   * agent holds any of them.
   */
  private hold(agent: string, lease: Lease, claims: readonly Claim[]): void {
    const next = this.nothing.slice();
    let errors: Record<string, string> | undefined;
    for (const overlay of this.overlays) {
      const listed = lease.overlays[overlay.name];
      if (!listed) continue;
      for (const family of FAMILIES) {
        const target = overlay[family];
        if (target) next[target.slot] = NONE;
      }
      if (listed.error !== undefined) errors = { ...errors, [overlay.name]: listed.error };
    }
    for (const { slot, index } of claims) next[slot] = keyOf(index);
    const before = this.held.get(agent);
    // Only an agent that held blocks can give any back (a restart takes 100,000 agents that held none).
    if (before) this.releaseHeld(agent, before, next);
    for (const { slot, index } of claims) this.slots[slot]!.occupy(index, agent);
    this.held.set(agent, next);
    if (errors) this.errors.set(agent, errors);
    else this.errors.delete(agent);
  }

  /** Frees the blocks of `before` that `agent` still owns and `next` does not hold. */
  private releaseHeld(agent: string, before: Held, next?: Held): void {
    for (let slot = 0; slot < before.length; slot++) {
      const key = before[slot]!;
      if (!isBlock(key) || next?.[slot] === key) continue;
      const index = BigInt(key);
      const blocks = this.slots[slot]!;
      if (blocks.ownerOf(index) === agent) blocks.release(index);
    }
  }

  /** The blocks of a lease this allocator made: no checks needed. */
  private claimsOf(lease: Lease): Claim[] {
    const out: Claim[] = [{ slot: this.vtep4.slot, index: this.vtep4.pool.indexOf(lease.vtepIp)! }];
    if (this.vtep6 && lease.vtepIp6) out.push({ slot: this.vtep6.slot, index: this.vtep6.pool.indexOf(lease.vtepIp6)! });
    for (const overlay of this.overlays) {
      for (const family of FAMILIES) {
        const cidr = lease.overlays[overlay.name]?.[family];
        const target = overlay[family];
        if (cidr && target) out.push({ slot: target.slot, index: (target.pool.indexOf(cidr) as { index: bigint }).index });
      }
    }
    return out;
  }

  /** The blocks of a stored lease. Throws RECONCILE_REFUSED naming agent, pool and value. */
  private check(agent: string, lease: Lease): Claim[] {
    // Messages are made only for a refusal: a restart checks every stored lease (100,000 agents: 300,000 blocks).
    const index4 = this.vtep4.pool.indexOf(lease.vtepIp);
    if (index4 === undefined) {
      const ip4 = formatIp(lease.vtepIp);
      throw leaseRefusal(agent, `VTEP address "${ip4}"`, `which is not a usable address of ${this.vtep4.label}`, VTEP_FIX, { vtepIp: ip4 });
    }
    const claims: Claim[] = [{ slot: this.vtep4.slot, index: index4 }];
    const expectedMac = vtepMac(this.oui, lease.vtepIp);
    if (lease.vtepMac.toLowerCase() !== expectedMac) {
      throw leaseRefusal(agent, `VTEP MAC ${lease.vtepMac}`, `but vtep_mac_oui ${this.oui} gives ${expectedMac}`, VTEP_FIX, {
        vtepMac: lease.vtepMac,
      });
    }
    if (lease.vtepIp6 !== undefined) {
      const ip6 = formatIp(lease.vtepIp6);
      const index6 = this.vtep6?.pool.indexOf(lease.vtepIp6);
      if (!this.vtep6 || index6 === undefined) {
        const problem = this.vtep6 ? `which is not a usable address of ${this.vtep6.label}` : 'but no vtep_subnet6 is configured';
        throw leaseRefusal(agent, `VTEP address "${ip6}"`, problem, VTEP_FIX, { vtepIp6: ip6 });
      }
      claims.push({ slot: this.vtep6.slot, index: index6 });
    }

    for (const name in lease.overlays) {
      const held = lease.overlays[name]!;
      const overlay = this.overlays.find((o) => o.name === name);
      for (const family of FAMILIES) {
        const cidr = held[family];
        if (cidr === undefined) continue;
        if (!overlay)
          throw leaseRefusal(agent, ...withDetails(describeSubnet(name, cidr), 'which is not in the config', missingOverlayFix(name)));
        const target = overlay[family];
        if (!target)
          throw leaseRefusal(
            agent,
            ...withDetails(describeSubnet(name, cidr), `but overlay ${name} has no ${family} configured`, overlayFix(name)),
          );
        const { pool, slot } = target;
        const found = pool.indexOf(cidr);
        if (!found.ok) {
          throw leaseRefusal(
            agent,
            ...withDetails(
              describeSubnet(name, cidr),
              `which does not fit the configured overlay: ${found.reason} (prefix ${pool.prefix})`,
              overlayFix(name),
            ),
          );
        }
        claims.push({ slot, index: found.index });
      }
    }
    // Held by another agent: the store is inconsistent (one lookup per block, the common case being none).
    for (let i = 0; i < claims.length; i++) {
      const { slot, index } = claims[i]!;
      const owner = this.slots[slot]!.ownerOf(index);
      if (owner !== undefined && owner !== agent) throw this.heldTwice(agent, owner, lease, i);
    }
    return claims;
  }

  /** The refusal for the `position`-th block of check()'s claims, which `owner` holds too. */
  private heldTwice(agent: string, owner: string, lease: Lease, position: number): VxnetError {
    const described: [string, Record<string, unknown>][] = [];
    const ip4 = formatIp(lease.vtepIp);
    described.push([`VTEP address ${ip4}`, { vtepIp: ip4 }]);
    if (lease.vtepIp6 !== undefined) {
      const ip6 = formatIp(lease.vtepIp6);
      described.push([`VTEP address ${ip6}`, { vtepIp6: ip6 }]);
    }
    for (const name in lease.overlays)
      for (const family of FAMILIES) {
        const cidr = lease.overlays[name]![family];
        if (cidr !== undefined) described.push(describeSubnet(name, cidr));
      }
    const [what, details] = described[position]!;
    return leaseRefusal(agent, what, `which agent ${owner} holds too`, 'the store is inconsistent: delete one of the two agents', details);
  }
}

/** How a refusal names a subnet of a lease. */
function describeSubnet(name: string, cidr: Cidr): [string, Record<string, unknown>] {
  const text = formatCidr(cidr);
  return [`subnet "${text}" in overlay ${name}`, { overlay: name, subnet: text }];
}

/** leaseRefusal's arguments after the agent, from a described block. */
const withDetails = ([what, details]: [string, Record<string, unknown>], problem: string, fix: string) =>
  [what, problem, fix, details] as const;

/** What the agent holds in one overlay after a registration; undefined lists nothing. */
function planOverlay(overlay: OverlayPools, held: OverlayLease, allocateSubnet: boolean): OverlayLease | undefined {
  if (!allocateSubnet) return overlay.enabled ? {} : undefined;
  const planned: { subnet?: OverlayLease['subnet']; subnet6?: OverlayLease['subnet6']; error?: string } = {};
  const errors: string[] = [];
  for (const family of FAMILIES) {
    const target = overlay[family];
    if (!target) continue;
    const kept = held[family];
    // Disabled overlays keep what they hold but get nothing new.
    const free = kept === undefined && overlay.enabled ? target.pool.lowestFree() : undefined;
    if (kept === undefined && overlay.enabled && free === undefined) errors.push(exhausted(overlay.name, target.pool));
    const cidr = kept ?? free;
    if (cidr !== undefined) planned[family] = cidr;
  }
  if (errors.length > 0) planned.error = errors.join('; ');
  if (!overlay.enabled && planned.subnet === undefined && planned.subnet6 === undefined) return undefined;
  return planned;
}

function freeVtep({ pool, label }: Named<VtepPool>): ReturnType<VtepPool['addressOf']> {
  const free = pool.blocks.lowestFree();
  if (free !== undefined) return pool.addressOf(free);
  const field = label.split(' ')[0];
  throw new VxnetError(
    'POOL_EXHAUSTED',
    `no free VTEP address left in the IPv${pool.cidr.family} VTEP pool ${label} (${pool.used} of ${pool.total} held by agents); ` +
      // The master refuses a changed vtep subnet while agents hold addresses from it, so "widen" alone is no fix.
      `delete agents that left the cluster (POST /overlay-master/agents/delete), or run the master with --agent-ttl so dead agents expire; ` +
      `a wider ${field} takes effect only once every agent is deleted`,
    { pool: field, used: Number(pool.used), total: Number(pool.total) },
  );
}

/** The error of a full overlay (kept in the record, shown in /state): which pool, how full, and the fix. */
function exhausted(name: string, pool: SubnetPool): string {
  const v6 = pool.cidr.family === 6;
  return (
    `no free /${pool.prefix} left in overlay ${name} (IPv${pool.cidr.family} ${formatCidr(pool.cidr)}: ${pool.used} of ${pool.total} held by agents); ` +
    'delete agents that left the cluster (POST /overlay-master/agents/delete), or run the master with --agent-ttl so dead agents expire; ' +
    `a bigger ${v6 ? 'subnet6' : 'subnet'} or a longer ${v6 ? 'prefix6' : 'prefix'} takes effect only once no agent holds a subnet of ${name} (or add another overlay)`
  );
}

function counts(pool: { used: bigint; total: bigint }): { used: number; total: number } {
  return { used: Number(pool.used), total: Number(pool.total) };
}
