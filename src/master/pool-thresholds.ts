// Pool fullness and its threshold crossings: how many blocks of each pool
// (the VTEP pool per family, each overlay's agent subnets per family) the
// stored records hold, kept current change by change, and the `pool` watch
// event when one crosses 80 %, 90 % or 100 %, up or down. The crossing rule
// and the counting are pure; the replica broadcasts the frames.

import type { PoolEvent } from '../api/types.js';
import { type CanonicalConfig, canonicalize } from '../config/canonical.js';
import { familyCapacity, vtepCapacity } from '../config/plan.js';
import { type Cidr, formatCidr } from '../net/ip.js';
import type { AgentRecord, StoredChange } from '../store/store.js';

export const POOL_THRESHOLDS = [80, 90, 100] as const;

/** The highest threshold `used` of `total` reaches (0 below the lowest); an empty pool of size 0 is full. */
export function poolLevel(used: number, total: number): number {
  let level = 0;
  for (const t of POOL_THRESHOLDS) if (used * 100 >= t * total) level = t;
  return level;
}

/**
 * The crossing between two fill levels, or undefined when none: up to the
 * highest threshold now reached, or down below the one that was reached.
 */
export function crossing(
  usedBefore: number,
  usedAfter: number,
  total: number,
): { direction: 'up' | 'down'; threshold: number; level: number } | undefined {
  const before = poolLevel(usedBefore, total);
  const after = poolLevel(usedAfter, total);
  if (after > before) return { direction: 'up', threshold: after, level: after };
  if (after < before) return { direction: 'down', threshold: before, level: after };
  return undefined;
}

/** One pool: what it is and how many blocks it has. */
export interface PoolInfo {
  key: string;
  pool: 'vtep' | 'overlay';
  overlay?: string;
  family: 4 | 6;
  cidr: string;
  total: number;
}

/** Every pool of a config, keyed as `poolKeysOf` names them. */
export function poolsOf(config: CanonicalConfig): Map<string, PoolInfo> {
  const pools = new Map<string, PoolInfo>();
  const vtep = (cidr: Cidr): void => {
    const key = `vtep ${cidr.family}`;
    pools.set(key, { key, pool: 'vtep', family: cidr.family, cidr: formatCidr(cidr), total: Number(vtepCapacity(cidr)) });
  };
  vtep(config.vtep4);
  if (config.vtep6) vtep(config.vtep6);
  for (const o of config.overlays) {
    for (const range of [o.v4, o.v6]) {
      if (!range) continue;
      const key = `overlay ${o.name} ${range.subnet.family}`;
      const total = Number(familyCapacity(range.subnet, range.prefix).agentSubnets);
      pools.set(key, { key, pool: 'overlay', overlay: o.name, family: range.subnet.family, cidr: formatCidr(range.subnet), total });
    }
  }
  return pools;
}

type HeldLease = { vtepIp?: string; vtepIp6?: string; overlays: AgentRecord['overlays'] };

/** One string per pool key, so 100,000 records share them instead of each holding its own copies. */
const overlayKeys = new Map<string, [string, string]>();
function overlayKeysOf(name: string): [string, string] {
  let keys = overlayKeys.get(name);
  if (keys === undefined) {
    keys = [`overlay ${name} 4`, `overlay ${name} 6`];
    overlayKeys.set(name, keys);
  }
  return keys;
}

/** Adds the pools one lease holds a block of to `keys`. */
function addLeaseKeys(l: HeldLease, keys: string[]): void {
  if (l.vtepIp) keys.push('vtep 4');
  if (l.vtepIp6) keys.push('vtep 6');
  for (const name in l.overlays) {
    const a = l.overlays[name]!;
    if (a.subnet) keys.push(overlayKeysOf(name)[0]);
    if (a.subnet6) keys.push(overlayKeysOf(name)[1]);
  }
}

/** The pools a record holds a block of, once per block: its own lease (expired or not) and its quarantined ones. */
export function poolKeysOf(record: AgentRecord): string[] {
  const keys: string[] = [];
  addLeaseKeys(record, keys);
  for (const q of record.quarantine ?? []) addLeaseKeys(q, keys);
  return keys;
}

/** The blocks of a record that are in quarantine: all of an expired record's, and its earlier leases'. */
export function quarantinedKeysOf(record: AgentRecord): string[] {
  const keys: string[] = [];
  if (record.expired) addLeaseKeys(record, keys);
  for (const q of record.quarantine ?? []) addLeaseKeys(q, keys);
  return keys;
}

/** Counts held blocks per pool as changes arrive, and says which pools crossed a threshold. */
export class PoolCounter {
  private readonly used = new Map<string, number>();
  private pools: Map<string, PoolInfo>;

  constructor(config: CanonicalConfig, records: readonly AgentRecord[]) {
    this.pools = poolsOf(config);
    for (const r of records) this.count(poolKeysOf(r), 1);
  }

  /** Blocks held in the pool `key` (poolsOf). */
  usedOf(key: string): number {
    return this.used.get(key) ?? 0;
  }

  /**
   * Applies a stored change to the agent whose record was `before` (what the
   * caller holds: no second copy of every agent's pools is kept here); answers
   * the pool events it caused (a config change re-sizes pools and says nothing).
   */
  apply(change: StoredChange, before: AgentRecord | undefined): PoolEvent[] {
    if (change.type === 'config') {
      this.pools = poolsOf(canonicalize(change.config));
      return [];
    }
    const wasUsed = new Map(this.used);
    if (before) this.count(poolKeysOf(before), -1);
    if (change.type === 'put') this.count(poolKeysOf(change.record), 1);
    const events: PoolEvent[] = [];
    for (const [key, info] of this.pools) {
      const was = wasUsed.get(key) ?? 0;
      const now = this.usedOf(key);
      if (was === now) continue;
      const crossed = crossing(was, now, info.total);
      if (!crossed) continue;
      events.push({
        type: 'pool',
        revision: change.revision,
        pool: info.pool,
        ...(info.overlay !== undefined && { overlay: info.overlay }),
        family: info.family,
        cidr: info.cidr,
        used: now,
        total: info.total,
        ...crossed,
      });
    }
    return events;
  }

  private count(keys: readonly string[], by: 1 | -1): void {
    for (const k of keys) this.used.set(k, (this.used.get(k) ?? 0) + by);
  }
}

/**
 * The SSE frame of a pool event: live only, never replayed, so it carries no
 * `id:` and a client's resume point stays the last change it saw (the data
 * names the revision). Clients that do not know the type ignore it.
 */
export const poolFrame = (event: PoolEvent): string => `event: pool\ndata: ${JSON.stringify(event)}\n\n`;
