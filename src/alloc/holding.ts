// What one agent holds, as block indices, and how a stored record maps onto
// the configured pools. A record that contradicts the config or another
// agent is refused here, before anything is reserved.

import { VxnetError } from '../errors.js';
import { parseCidr, parseIp } from '../net/ip.js';
import { vtepMac } from '../net/mac.js';
import type { AgentRecord } from '../store/store.js';
import type { Claims } from './claims.js';
import type { SubnetPool } from './subnet-pool.js';
import type { VtepPool } from './vtep-pool.js';

export interface Held {
  v4?: bigint;
  v6?: bigint;
}

export interface Holding {
  vtep4?: bigint;
  vtep6?: bigint;
  /** Keyed by overlay name. */
  subnets: Map<string, Held>;
}

export interface VtepClaims {
  pool: VtepPool;
  claims: Claims;
}

export interface SubnetClaims {
  pool: SubnetPool;
  claims: Claims;
}

export interface OverlayPools {
  name: string;
  enabled: boolean;
  v4?: SubnetClaims;
  v6?: SubnetClaims;
}

export interface Pools {
  oui: string;
  vtep4: VtepClaims;
  vtep6?: VtepClaims;
  overlays: OverlayPools[];
}

const VTEP_FIX = 'restore the vtep settings the store was written with, or delete the agent';
const deleteFix = (overlay: string) => `run "vxnet network delete ${overlay} --data DIR" to free its allocations`;

/** The record as indices. Throws RECONCILE_REFUSED naming agent, pool and value. */
export function resolveRecord(record: AgentRecord, pools: Pools): Holding {
  const agent = record.ip;
  const refusal = (what: string, problem: string, fix: string, details: Record<string, unknown>) =>
    new VxnetError('RECONCILE_REFUSED', `agent ${agent} holds ${what}, ${problem}; ${fix}`, { agent, ...details });
  const claim = (claims: Claims, index: bigint, what: string, details: Record<string, unknown>): bigint => {
    const owner = claims.ownerOf(index);
    if (owner !== undefined && owner !== agent) {
      throw refusal(what, `which agent ${owner} holds too`, 'the store is inconsistent: delete one of the two agents', details);
    }
    return index;
  };

  const holding: Holding = { subnets: new Map() };
  const ip4 = parseIp(record.vtepIp);
  const index4 = ip4 && pools.vtep4.pool.indexOf(ip4);
  if (!ip4 || index4 === undefined) {
    throw refusal(`VTEP address "${record.vtepIp}"`, `which is not a usable address of ${pools.vtep4.claims.label}`, VTEP_FIX, { vtepIp: record.vtepIp });
  }
  holding.vtep4 = claim(pools.vtep4.claims, index4, `VTEP address ${record.vtepIp}`, { vtepIp: record.vtepIp });
  const expectedMac = vtepMac(pools.oui, ip4);
  if (record.vtepMac.toLowerCase() !== expectedMac) {
    throw refusal(`VTEP MAC ${record.vtepMac}`, `but vtep_mac_oui ${pools.oui} gives ${expectedMac}`, VTEP_FIX, { vtepMac: record.vtepMac });
  }
  if (record.vtepIp6 !== undefined) {
    const ip6 = parseIp(record.vtepIp6);
    const index6 = ip6 && pools.vtep6?.pool.indexOf(ip6);
    if (!pools.vtep6 || index6 === undefined) {
      const problem = pools.vtep6 ? `which is not a usable address of ${pools.vtep6.claims.label}` : 'but no vtep_subnet6 is configured';
      throw refusal(`VTEP address "${record.vtepIp6}"`, problem, VTEP_FIX, { vtepIp6: record.vtepIp6 });
    }
    holding.vtep6 = claim(pools.vtep6.claims, index6, `VTEP address ${record.vtepIp6}`, { vtepIp6: record.vtepIp6 });
  }

  for (const [name, allocation] of Object.entries(record.overlays)) {
    const overlay = pools.overlays.find((o) => o.name === name);
    const held: Held = {};
    for (const [family, text] of [['v4', allocation.subnet], ['v6', allocation.subnet6]] as const) {
      if (text === undefined) continue;
      const what = `subnet "${text}" in overlay ${name}`;
      const details = { overlay: name, subnet: text };
      if (!overlay) throw refusal(what, 'which is not in the config', `put overlay ${name} back in the config, or ${deleteFix(name)}`, details);
      const target = overlay[family];
      const found = target
        ? lookupBlock(target.pool, text)
        : { ok: false as const, reason: `but overlay ${name} has no ${family === 'v4' ? 'subnet' : 'subnet6'} configured` };
      if (!found.ok || !target) {
        throw refusal(what, found.ok ? '' : found.reason, `restore overlay ${name}'s old subnet and prefix in the config, or ${deleteFix(name)}`, details);
      }
      held[family] = claim(target.claims, found.index, what, details);
    }
    if (held.v4 !== undefined || held.v6 !== undefined) holding.subnets.set(name, held);
  }
  return holding;
}

/** Every (pool, block) the holding occupies. */
export function claimsOf(holding: Holding | undefined, pools: Pools): [Claims, bigint][] {
  if (!holding) return [];
  const out: [Claims, bigint][] = [];
  if (holding.vtep4 !== undefined) out.push([pools.vtep4.claims, holding.vtep4]);
  if (holding.vtep6 !== undefined && pools.vtep6) out.push([pools.vtep6.claims, holding.vtep6]);
  for (const overlay of pools.overlays) {
    const held = holding.subnets.get(overlay.name);
    if (held?.v4 !== undefined && overlay.v4) out.push([overlay.v4.claims, held.v4]);
    if (held?.v6 !== undefined && overlay.v6) out.push([overlay.v6.claims, held.v6]);
  }
  return out;
}

function lookupBlock(pool: SubnetPool, text: string): { ok: true; index: bigint } | { ok: false; reason: string } {
  const parsed = parseCidr(text);
  if (!parsed.ok) return { ok: false, reason: `which is not a CIDR (${parsed.reason})` };
  if (!parsed.aligned) return { ok: false, reason: 'which has host bits set' };
  const found = pool.indexOf(parsed.cidr);
  return found.ok ? found : { ok: false, reason: `which does not fit the configured overlay: ${found.reason} (prefix ${pool.prefix})` };
}
