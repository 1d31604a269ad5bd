// The edge between stored agent records (text, as the store and the API keep
// them) and leases (parsed values, as the allocator works on them). The only
// file of src/alloc that knows the record's shape; nothing else converts.

import type { AgentNetworkConfig } from '../api/types.js';
import { type Cidr, formatCidr, formatIp, type Ip, parseCidr, parseIp } from '../net/ip.js';
import type { AgentRecord, OverlayAllocation, QuarantinedLease } from '../store/store.js';
import { type Lease, type OverlayLease, VTEP_FIX, leaseRefusal, overlayFix } from './lease.js';

/**
 * The lease a stored record holds. Throws RECONCILE_REFUSED, naming agent and
 * value, for text that is not an address or an aligned network.
 */
export function leaseFromRecord(record: Pick<AgentRecord, 'ip' | 'vtepIp' | 'vtepIp6' | 'vtepMac' | 'overlays'>): Lease {
  const agent = record.ip;
  const vtep = (field: 'vtepIp' | 'vtepIp6', text: string) => {
    const ip = parseIp(text);
    if (!ip) throw leaseRefusal(agent, `VTEP address "${text}"`, 'which is not an IP address', VTEP_FIX, { [field]: text });
    return ip;
  };
  const subnet = (name: string, text: string): Cidr => {
    const parsed = parseCidr(text);
    const problem = !parsed.ok ? `which is not a CIDR (${parsed.reason})` : !parsed.aligned ? 'which has host bits set' : undefined;
    if (problem || !parsed.ok)
      throw leaseRefusal(agent, `subnet "${text}" in overlay ${name}`, problem ?? '', overlayFix(name), { overlay: name, subnet: text });
    return parsed.cidr;
  };
  // Plain assignments, no object spreads: a restart converts every stored record.
  const overlays: Record<string, OverlayLease> = {};
  for (const name in record.overlays) {
    const held = record.overlays[name]!;
    const overlay: { subnet?: Cidr; subnet6?: Cidr; error?: string } = {};
    if (held.subnet !== undefined) overlay.subnet = subnet(name, held.subnet);
    if (held.subnet6 !== undefined) overlay.subnet6 = subnet(name, held.subnet6);
    if (held.error !== undefined) overlay.error = held.error;
    overlays[name] = overlay;
  }
  const lease: { vtepIp: Ip; vtepIp6?: Ip; vtepMac: string; overlays: Record<string, OverlayLease> } = {
    vtepIp: vtep('vtepIp', record.vtepIp),
    vtepMac: record.vtepMac,
    overlays,
  };
  if (record.vtepIp6 !== undefined) lease.vtepIp6 = vtep('vtepIp6', record.vtepIp6);
  return lease;
}

/** The record's allocation fields for a lease, as text. */
export function allocationOf(lease: Lease): Pick<AgentRecord, 'vtepIp' | 'vtepIp6' | 'vtepMac' | 'overlays'> {
  const overlays: Record<string, OverlayAllocation> = {};
  for (const [name, held] of Object.entries(lease.overlays)) {
    overlays[name] = {
      ...(held.subnet && { subnet: formatCidr(held.subnet) }),
      ...(held.subnet6 && { subnet6: formatCidr(held.subnet6) }),
      ...(held.error !== undefined && { error: held.error }),
    };
  }
  return {
    vtepIp: formatIp(lease.vtepIp),
    ...(lease.vtepIp6 && { vtepIp6: formatIp(lease.vtepIp6) }),
    vtepMac: lease.vtepMac,
    overlays,
  };
}

export interface Registration {
  ip: string;
  networkConfig: AgentNetworkConfig;
  /** The seq a new agent gets; an existing one keeps its own. */
  seq: number;
}

/**
 * The record to store after a registration: the lease's values, the request's
 * switches, and `existing`'s seq, status, containers (copied, never shared) and credential hash.
 */
export function registeredRecord(req: Registration, lease: Lease, existing?: AgentRecord): AgentRecord {
  const { vtepIp, vtepIp6, vtepMac, overlays } = allocationOf(lease);
  return {
    ip: req.ip,
    seq: existing?.seq ?? req.seq,
    networkConfig: { ...req.networkConfig },
    vtepIp,
    ...(vtepIp6 !== undefined && { vtepIp6 }),
    vtepMac,
    overlays,
    status: { ...(existing?.status ?? {}) },
    containers: [...(existing?.containers ?? [])],
    ...(existing?.credential !== undefined && { credential: existing.credential }),
    ...(existing ? keptLeaseFields(existing) : { epoch: 1 }),
  };
}

/** What a registration keeps of a live record besides its allocation: epoch, quarantine, and the agent's own reports. */
function keptLeaseFields(existing: AgentRecord): Partial<AgentRecord> {
  return {
    ...(existing.epoch !== undefined && { epoch: existing.epoch }),
    ...(existing.quarantine !== undefined && { quarantine: existing.quarantine.map((q) => ({ ...q })) }),
    ...(existing.stranded !== undefined && { stranded: [...existing.stranded] }),
    ...(existing.ipam !== undefined && { ipam: { ...existing.ipam } }),
  };
}

/** The allocation epoch of a record (records written before epochs hold epoch 1). */
export const epochOf = (record: Pick<AgentRecord, 'epoch'>): number => record.epoch ?? 1;

/** The allocator's key for a quarantined lease of `ip`: never an agent IP, so it can hold blocks beside the agent's fresh ones. */
export const quarantineKey = (ip: string, epoch: number): string => `${ip}@${epoch}`;

/** A record's current allocation as a quarantine entry, held until `until`. */
export function quarantinedLeaseOf(record: AgentRecord, expiredAt: string, until: string): QuarantinedLease {
  return {
    epoch: epochOf(record),
    vtepIp: record.vtepIp,
    ...(record.vtepIp6 !== undefined && { vtepIp6: record.vtepIp6 }),
    vtepMac: record.vtepMac,
    overlays: structuredClone(record.overlays),
    expiredAt,
    until,
  };
}

/**
 * Every lease a record makes the allocator hold: its own under its IP, and each
 * quarantined one under `quarantineKey`. Throws RECONCILE_REFUSED as leaseFromRecord.
 */
export function leasesOfRecord(record: AgentRecord): { key: string; lease: Lease }[] {
  const own = { key: record.ip, lease: leaseFromRecord(record) };
  const held = (record.quarantine ?? []).map((q) => {
    const key = quarantineKey(record.ip, q.epoch);
    return { key, lease: leaseFromRecord({ ...q, ip: key }) };
  });
  return [own, ...held];
}
