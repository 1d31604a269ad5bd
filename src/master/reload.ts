// Pure: what a new config does to the stored records, at start and at a
// reload alike, so one config is accepted or refused the same way by both.
// Deleted overlays leave every record; the allocator is rebuilt from what is
// left; every live agent is then registered again, which fills added and
// re-enabled overlays and keeps what disabled ones hold. The result is one
// commit: every changed record, then the config (whose resync carries it all).

import type { Allocator } from '../alloc/allocator.js';
import { registeredRecord } from '../alloc/lease-record.js';
import type { CanonicalConfig } from '../config/canonical.js';
import type { NetworkConfig } from '../config/types.js';
import { VxnetError } from '../errors.js';
import type { AgentRecord, Change } from '../store/store.js';
import { withoutOverlay } from './network-delete.js';
import { type AttachedContainer, type Refusal, reconcile, attachedTo } from './reconcile.js';

/** What a config change did, for the reload's answer and the log. */
export interface ConfigChangeSummary {
  added: string[];
  /** Deleted overlays: the agents whose subnets were freed, and containers still attached (only with force). */
  removed: { name: string; agents: number; containers: AttachedContainer[] }[];
  disabled: string[];
  enabled: string[];
  /** Kept overlays now masqueraded, and no longer masqueraded (agents change their nftables table; flows under way keep theirs). */
  masqueradeOn: string[];
  masqueradeOff: string[];
  /** The stored config text changed. */
  configChanged: boolean;
  /** Agent records rewritten. */
  agents: number;
}

export interface ConfigChangePlan {
  allocator: Allocator;
  /** Every record after the change, in the order given. */
  records: AgentRecord[];
  /** The stored config (when it changed) and each changed record, for one commit. */
  changes: Change[];
  summary: ConfigChangeSummary;
}

export interface ConfigChangeOptions {
  /** The flags naming the store, for the fix text of refusals. */
  storeArgs: string;
  force?: boolean;
  /** Builds the allocator holding `records` (MasterService's allocatorFor). */
  allocatorFor(config: CanonicalConfig, records: readonly AgentRecord[]): Allocator;
}

/** Canonical JSON (sorted keys) so equal records compare equal whatever their key order. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  );
}

/** RECONCILE_REFUSED carrying every refusal (field, value, fix, containers) in its details. */
export function refused(refusals: Refusal[]): VxnetError {
  return new VxnetError('RECONCILE_REFUSED', refusals.map((r) => r.message).join('\n'), {
    refusals: refusals.map(({ kind, subject, field, value, fix, containers }) => ({
      kind,
      subject,
      field,
      ...(value !== undefined && { value }),
      fix,
      ...(containers && { containers }),
    })),
  });
}

const holdsSubnet = (r: AgentRecord, name: string): boolean =>
  r.overlays[name]?.subnet !== undefined || r.overlays[name]?.subnet6 !== undefined;

/**
 * Plans taking `next` over the stored state. Throws RECONCILE_REFUSED (every
 * refusal at once) when the config contradicts what agents hold, or removes
 * an overlay with containers on it without `force`; nothing is planned then.
 */
export function planConfigChange(
  stored: { config?: NetworkConfig; agents: readonly AgentRecord[] },
  next: CanonicalConfig,
  options: ConfigChangeOptions,
): ConfigChangePlan {
  const verdict = reconcile(stored, next, options.storeArgs, { force: options.force === true });
  if (!verdict.ok) throw refused(verdict.refusals);
  const stripped = stored.agents.map((r) => verdict.removed.reduce(withoutOverlay, r));
  const allocator = options.allocatorFor(next, stripped);
  // Expired agents (their lease ran out) keep what they hold until reclaimed; only live ones get new overlays.
  const records =
    verdict.configChanged && stripped.length > 0
      ? stripped.map((r) => (r.expired ? r : registeredRecord(r, allocator.register(r.ip, r.networkConfig.allocate_subnet), r)))
      : stripped;
  const changes: Change[] = records
    // Identity first: at a restart nearly every record is the stored one, and canonical() of 100,000 costs seconds.
    .filter((r, i) => r !== stored.agents[i] && canonical(r) !== canonical(stored.agents[i]))
    .map((record) => ({ type: 'put', record }));
  const agents = changes.length;
  // The config goes last: its resync then shows every watcher the whole new state at once.
  if (verdict.configChanged) changes.push({ type: 'config', config: next.network });
  const removed = verdict.removed.map((name) => ({
    name,
    agents: stored.agents.filter((r) => holdsSubnet(r, name)).length,
    containers: attachedTo(stored.agents, name),
  }));
  return {
    allocator,
    records,
    changes,
    summary: {
      added: verdict.added,
      removed,
      disabled: verdict.disabled,
      enabled: verdict.enabled,
      masqueradeOn: verdict.masqueradeOn,
      masqueradeOff: verdict.masqueradeOff,
      configChanged: verdict.configChanged,
      agents,
    },
  };
}

/** One line for the log and the CLI: what a reload changed. */
export function describeChange(summary: ConfigChangeSummary): string {
  const parts = [
    ...summary.added.map((n) => `added ${n}`),
    ...summary.enabled.map((n) => `enabled ${n}`),
    ...summary.disabled.map((n) => `disabled ${n} (allocations kept)`),
    ...summary.masqueradeOn.map((n) => `masquerade on for ${n}`),
    ...summary.masqueradeOff.map((n) => `masquerade off for ${n} (its traffic leaves with container addresses)`),
    ...summary.removed.map(
      (r) =>
        `deleted ${r.name} (freed its subnets on ${r.agents} agent(s)` +
        `${r.containers.length > 0 ? `; forced: ${r.containers.length} container(s) still attached lost their addresses` : ''})`,
    ),
  ];
  if (parts.length === 0)
    return summary.configChanged
      ? 'config text updated; no overlay added, removed, enabled or disabled, and no masquerade changed'
      : 'nothing changed';
  return `${parts.join(', ')}; ${summary.agents} agent record(s) updated`;
}
