// The storage port of the master. Small on purpose: the SQLite store (single
// master) and the etcd store (several masters) both implement exactly this.
// Policy (allocation, reconciliation) lives in the master, never in a store.

import type { AgentNetworkConfig, ContainerInfo, EngineState, OverlayStatus } from '../api/types.js';
import type { NetworkConfig } from '../config/types.js';
import type { AllocationEvent, HistoryPage, HistoryQuery } from './allocation-history.js';

export type { AllocationEvent, HistoryPage, HistoryQuery } from './allocation-history.js';

/** What one agent holds in one overlay. */
export interface OverlayAllocation {
  /** The agent's IPv4 subnet of the overlay, e.g. "44.128.0.0/24". */
  subnet?: string;
  subnet6?: string;
  /** Why nothing (or only part) could be allocated, e.g. exhaustion. */
  error?: string;
}

/** Everything the master keeps about one agent. */
export interface AgentRecord {
  ip: string;
  /** Registration order; /state lists agents by it. */
  seq: number;
  networkConfig: AgentNetworkConfig;
  /** VTEP address without length, e.g. "198.15.0.1". */
  vtepIp: string;
  vtepIp6?: string;
  /** Lowercase, e.g. "70:b3:d5:0f:00:01". */
  vtepMac: string;
  /** Keyed by overlay name. */
  overlays: Record<string, OverlayAllocation>;
  /** Last status the agent reported, keyed by overlay name. */
  status: Record<string, { status: OverlayStatus; error?: string }>;
  containers: ContainerInfo[];
  /** Container engines the agent last reported (vxnet's addition). */
  engines?: { docker?: EngineState };
  /**
   * SHA-256 (hex) of the agent's credential (src/master/credentials.ts), when
   * the master has tokens. Never rendered: no read, /state or watch event shows it.
   */
  credential?: string;
  /** Allocation epoch: grows each time this IP gets a fresh allocation (absent means 1: records written before epochs). */
  epoch?: number;
  /** Set when the agent's lease ran out: the record leaves /state; its allocation is quarantined until `until`. ISO-8601 UTC times. */
  expired?: { at: string; until: string };
  /** Earlier allocations of this IP (an agent that came back after expiry got a fresh one), held until `until`. */
  quarantine?: QuarantinedLease[];
  /** Containers the agent found on addresses outside its current allocation (reported, never routed). */
  stranded?: ContainerInfo[];
  /** The agent's IPAM check summary per overlay: { [overlay]: { used, leaked, suspect, stranded } }. */
  ipam?: Record<string, { used: number; leaked: number; suspect: number; stranded: number }>;
  /** What the agent's underlay carries through the overlay, from its status report (src/master/mtu.ts). */
  mtu?: number;
}

/** An earlier allocation of an agent, held (quarantined) until `until` so no other agent gets it while the old host may still use it. */
export interface QuarantinedLease {
  epoch: number;
  vtepIp: string;
  vtepIp6?: string;
  vtepMac: string;
  overlays: Record<string, OverlayAllocation>;
  /** ISO-8601 UTC: when that allocation's lease ran out, and when its blocks become free. */
  expiredAt: string;
  until: string;
}

export type Change =
  | { type: 'put'; record: AgentRecord }
  | { type: 'delete'; ip: string }
  /** The network config the stored allocations were made under. */
  | { type: 'config'; config: NetworkConfig };

/** A committed change with the revision that committed it. */
export type StoredChange = Change & { revision: number };

export interface Snapshot {
  /** Revision of the last committed change (0 for an empty store). */
  revision: number;
  config?: NetworkConfig;
  /** In registration order (by seq). */
  agents: AgentRecord[];
}

/**
 * What a store only this process writes (SQLite) answers at once, before a
 * snapshot: a sole master checks the /state it saved at its last stop
 * against it (src/master/state-cache.ts).
 */
export interface StorePeek {
  /** Revision of the last committed change. */
  readonly revision: number;
  readonly config: NetworkConfig | undefined;
  /** The stored record of `ip` (expired ones too), or undefined when there is none. */
  record(ip: string): AgentRecord | undefined;
}

export interface Store {
  /** Everything stored, consistent with `revision`. */
  snapshot(): Promise<Snapshot>;
  /**
   * Commits the changes atomically and durably (on disk / on a quorum) before
   * resolving. Concurrent calls may be committed together (group commit); each
   * resolves with the revision of its own last change. Revisions only grow.
   * Every change gets its own revision (a delete of an unknown ip too); an
   * empty list resolves with the current revision. The changes are copied at
   * the call, so mutating them afterwards changes nothing stored.
   * Rejects with VxnetError 'BAD_REQUEST' (naming the field) for a malformed
   * change, and 'STORE_UNAVAILABLE' when the batch could not be stored: then
   * nothing of that batch was written, for any of its callers.
   * etcd only: 'NOT_LEADER' when the store is fenced to a leader that lost
   * its election (nothing written); and when etcd did not answer in time the
   * outcome is unknown, so the store says so and refuses every later write
   * (the master then recovers from a fresh snapshot).
   * `history`: allocation events written in the same transaction as `changes`
   * into the allocation history (its own retention, never trimmed by the
   * change log's bounds). Checked at the call like the changes (BAD_REQUEST).
   */
  commit(changes: Change[], history?: AllocationEvent[]): Promise<number>;
  /**
   * The allocation history (allocation-history.ts): the newest `limit` events
   * that match, oldest first. BAD_REQUEST (naming the field) for a bad query.
   */
  allocationHistory(query: HistoryQuery): Promise<HistoryPage>;
  /**
   * Calls `onChange` for every change committed after `sinceRevision`, by
   * anyone (another master too), in revision order. Returns a function that stops it.
   * Retained changes are replayed synchronously before it returns, then live
   * ones follow. Stores keep a bounded history (default the last 10,000
   * changes): a `sinceRevision` older than that, or newer than the current
   * revision, throws VxnetError 'CONFLICT' ("revision N is compacted; oldest
   * retained is M: resynchronise from a snapshot"); the caller then takes a
   * snapshot() and watches from its revision. The change objects passed to
   * `onChange` are shared: treat them as read-only. `onChange` must not throw;
   * one that does is stopped (and reported as a process warning).
   */
  watch(sinceRevision: number, onChange: (change: StoredChange) => void): () => void;
  /**
   * Why writes fail right now (the last batch failed, e.g. on a full disk, and
   * none succeeded since), or undefined while they succeed; /healthz reports it.
   */
  writeTrouble?(): string | undefined;
  close(): Promise<void>;
}
