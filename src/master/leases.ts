// Pure: the rules of agent leases (`vxnet master --agent-ttl`). An agent that
// has not renewed (registration, heartbeat, status or containers report) for
// longer than the TTL expires: its record stays, marked `expired`, and its
// allocation is quarantined until `until`, then freed. An agent that comes
// back after that gets a fresh allocation and the next epoch; the old one
// stays quarantined. Renewals are kept in memory on the leader only (a store
// write per heartbeat would not scale), so a leader that starts counts every
// live agent as renewed at that moment.

import { formatDuration, parseDuration } from '../duration.js';
import { VxnetError } from '../errors.js';
import { epochOf, quarantinedLeaseOf } from '../alloc/lease-record.js';
import type { AgentRecord } from '../store/store.js';

export interface LeaseSettings {
  /** An agent that has not renewed for longer than this expires. */
  ttlMs: number;
  /** How long an expired allocation stays held before its blocks are free again; at least `ttlMs`. */
  quarantineMs: number;
}

/** The shortest TTL accepted: heartbeats go every third of it, and a loaded host needs some slack. */
export const MIN_TTL_MS = 1_000;

/**
 * The lease settings of `--agent-ttl` and `--agent-quarantine`; undefined
 * without a TTL (leases off, as on DC/OS). The quarantine defaults to twice
 * the TTL and may not be shorter than it.
 */
export function leaseSettings(ttl: string | undefined, quarantine: string | undefined): LeaseSettings | undefined {
  if (ttl === undefined) {
    if (quarantine !== undefined)
      throw new VxnetError('BAD_REQUEST', `--agent-quarantine ${quarantine} needs --agent-ttl: without a TTL no agent ever expires`, {
        field: '--agent-quarantine',
        value: quarantine,
      });
    return undefined;
  }
  const ttlMs = parseDuration(ttl, '--agent-ttl');
  if (ttlMs < MIN_TTL_MS)
    throw new VxnetError('BAD_REQUEST', `--agent-ttl ${ttl} is shorter than 1s; give at least 1s (a few minutes suit most clusters)`, {
      field: '--agent-ttl',
      value: ttl,
    });
  const quarantineMs = quarantine === undefined ? 2 * ttlMs : parseDuration(quarantine, '--agent-quarantine');
  if (quarantineMs < ttlMs) {
    throw new VxnetError(
      'BAD_REQUEST',
      `--agent-quarantine ${quarantine} is shorter than --agent-ttl ${ttl}: a host that froze or was cut off keeps its old ` +
        'subnet in its kernel until it runs again and hears from the master, so its blocks must stay held at least one more TTL ' +
        `(better: as long as the longest outage you accept) before another agent gets them; give --agent-quarantine ${formatDuration(2 * ttlMs)} or more`,
      { field: '--agent-quarantine', value: quarantine },
    );
  }
  return { ttlMs, quarantineMs };
}

/** How often the leader looks for expired agents and ended quarantines: a fraction of the TTL, 0.1 s to 5 s. */
export const sweepIntervalMs = (settings: LeaseSettings): number => Math.min(5_000, Math.max(100, Math.floor(settings.ttlMs / 8)));

export interface SweepInput {
  records: Iterable<AgentRecord>;
  /** When each live agent last renewed (monotonic ms), as the leader remembers it. */
  renewedAt: (ip: string) => number | undefined;
  /** Monotonic ms, comparable with `renewedAt`. */
  now: number;
  /** Wall-clock ms, compared with the stored ISO times. */
  wallNow: number;
  settings: LeaseSettings;
}

export interface SweepPlan {
  /** Live agents whose lease ran out. */
  expire: string[];
  /** Expired agents whose quarantine ended: their records go, their blocks are free. */
  reclaim: string[];
  /** Quarantine entries (by epoch) that ended, of agents not reclaimed whole. */
  endQuarantine: { ip: string; epochs: number[] }[];
}

/** Who expires and which quarantines end now. An agent with no renewal on record is not expired (the leader counts it from its start). */
export function planSweep(input: SweepInput): SweepPlan {
  const plan: SweepPlan = { expire: [], reclaim: [], endQuarantine: [] };
  for (const record of input.records) {
    if (record.expired) {
      if (ended(record.expired.until, input.wallNow)) {
        plan.reclaim.push(record.ip);
        continue;
      }
    } else {
      const renewed = input.renewedAt(record.ip);
      if (renewed !== undefined && input.now - renewed > input.settings.ttlMs) plan.expire.push(record.ip);
    }
    const epochs = (record.quarantine ?? []).filter((q) => ended(q.until, input.wallNow)).map((q) => q.epoch);
    if (epochs.length > 0) plan.endQuarantine.push({ ip: record.ip, epochs });
  }
  return plan;
}

/** An unparsable time never ends a quarantine: holding blocks too long is safe, freeing them early is not. */
const ended = (iso: string, wallNow: number): boolean => {
  const at = Date.parse(iso);
  return Number.isFinite(at) && at <= wallNow;
};

const iso = (ms: number): string => new Date(ms).toISOString();

/** The record once its lease ran out at `wallNow`: kept (its blocks stay held), marked expired until the quarantine ends. */
export function expiredRecord(record: AgentRecord, wallNow: number, settings: LeaseSettings): AgentRecord {
  return { ...record, expired: { at: iso(wallNow), until: iso(wallNow + settings.quarantineMs) } };
}

/** The record without the quarantine entries of `epochs` (their blocks become free). */
export function withoutQuarantine(record: AgentRecord, epochs: readonly number[]): AgentRecord {
  const { quarantine, ...rest } = record;
  const kept = (quarantine ?? []).filter((q) => !epochs.includes(q.epoch));
  return kept.length > 0 ? { ...rest, quarantine: kept } : rest;
}

/**
 * The record of an expired agent that registers again, given its fresh
 * allocation: the next epoch, a new place in the registration order, nothing
 * reported yet, and the old allocation added to its quarantine until the
 * old `until`.
 */
export function returningRecord(
  expired: AgentRecord & { expired: { at: string; until: string } },
  fresh: AgentRecord,
  seq: number,
): AgentRecord {
  const old = quarantinedLeaseOf(expired, expired.expired.at, expired.expired.until);
  const epoch = Math.max(epochOf(expired), ...(expired.quarantine ?? []).map((q) => q.epoch)) + 1;
  const { expired: _gone, stranded: _stranded, ...rest } = fresh;
  return { ...rest, seq, epoch, status: {}, containers: [], quarantine: [...(expired.quarantine ?? []), old] };
}

/**
 * A heartbeat's verdict: returns when `epoch` is the agent's live lease, else
 * throws NOT_FOUND (no record) or STALE_EPOCH (expired, or another epoch),
 * each telling the agent to register again.
 */
export function checkRenewal(ip: string, record: AgentRecord | undefined, epoch: number): void {
  const again = 'register again (POST /overlay-master/agents) for a fresh allocation, and withdraw the old one first';
  if (!record) throw new VxnetError('NOT_FOUND', `agent ${ip} is not registered; ${again}`);
  if (record.expired)
    throw new VxnetError('STALE_EPOCH', `the lease of agent ${ip} (epoch ${epochOf(record)}) expired at ${record.expired.at}; ${again}`, {
      epoch: epochOf(record),
    });
  if (epochOf(record) !== epoch)
    throw new VxnetError('STALE_EPOCH', `agent ${ip} holds epoch ${epochOf(record)}, not ${epoch}; ${again}`, { epoch: epochOf(record) });
}
