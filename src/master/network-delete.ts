// Pure: what deleting an overlay does to a stored state, offline (`vxnet
// network delete NAME`) or by a reload. The overlay disappears from every
// agent record (subnets, statuses, containers, quarantined leases, reports)
// and from the stored config, so a master started without it reconciles cleanly.

import type { NetworkConfig } from '../config/types.js';
import { VxnetError } from '../errors.js';
import type { AgentRecord, Change, Snapshot } from '../store/store.js';

export interface NetworkDeletePlan {
  changes: Change[];
  /** Agents that held a subnet (IPv4 or IPv6) in the overlay; those that only listed it held nothing. */
  agents: number;
  fromConfig: boolean;
}

function without<T>(record: Record<string, T>, key: string): Record<string, T> {
  const { [key]: _dropped, ...rest } = record;
  return rest;
}

/** The record without anything of overlay `name`; the same object when it holds nothing of it. */
export function withoutOverlay(record: AgentRecord, name: string): AgentRecord {
  const mentions =
    name in record.overlays ||
    name in record.status ||
    record.containers.some((c) => c.network === name) ||
    (record.stranded?.some((c) => c.network === name) ?? false) ||
    (record.ipam !== undefined && name in record.ipam) ||
    (record.quarantine?.some((q) => name in q.overlays) ?? false);
  if (!mentions) return record;
  return {
    ...record,
    overlays: without(record.overlays, name),
    status: without(record.status, name),
    containers: record.containers.filter((c) => c.network !== name),
    ...(record.stranded && { stranded: record.stranded.filter((c) => c.network !== name) }),
    ...(record.ipam && { ipam: without(record.ipam, name) }),
    ...(record.quarantine && { quarantine: record.quarantine.map((q) => ({ ...q, overlays: without(q.overlays, name) })) }),
  };
}

export function planNetworkDelete(snapshot: Snapshot, name: string, dataDir: string): NetworkDeletePlan {
  const holders = snapshot.agents.filter((a) => withoutOverlay(a, name) !== a);
  const inConfig = snapshot.config?.overlays.some((o) => o.name === name) ?? false;
  if (holders.length === 0 && !inConfig) {
    const stored = new Set([
      ...(snapshot.config?.overlays ?? []).map((o) => o.name),
      ...snapshot.agents.flatMap((a) => Object.keys(a.overlays)),
    ]);
    const list = stored.size ? [...stored].join(', ') : 'none';
    throw new VxnetError(
      'NOT_FOUND',
      `overlay ${JSON.stringify(name)} is not in the store at ${dataDir}: nothing to delete (stored overlays: ${list})`,
    );
  }
  const changes: Change[] = holders.map((a): Change => ({ type: 'put', record: withoutOverlay(a, name) }));
  if (inConfig && snapshot.config) {
    const config: NetworkConfig = { ...snapshot.config, overlays: snapshot.config.overlays.filter((o) => o.name !== name) };
    changes.push({ type: 'config', config });
  }
  const held = holders.filter((a) => a.overlays[name]?.subnet !== undefined || a.overlays[name]?.subnet6 !== undefined);
  return { changes, agents: held.length, fromConfig: inConfig };
}

/**
 * What `vxnet network delete` tells the operator: a summary, and a warning
 * when the stored config lists the overlay. The command cannot see the
 * master's config file: if it still lists the overlay (a re-numbering, or a
 * mistake), the next start hands it out again in registration order, so an
 * agent may get another agent's old subnet. That is wanted when re-numbering,
 * so it is a warning, not a refusal.
 */
export function networkDeleteReport(plan: NetworkDeletePlan, name: string, where: string): { summary: string; warning?: string } {
  const summary =
    `deleted overlay ${name} from ${where}: freed its subnets on ${plan.agents} agent(s)` +
    `${plan.fromConfig ? ' and removed it from the stored config' : ''}. ` +
    `Agents drop its bridges, routes and NAT rules when they next sync; run "vxnet agent cleanup" on hosts that are gone.`;
  if (!plan.fromConfig || plan.agents === 0) return { summary };
  const warning =
    `next: if the master's --config still lists overlay ${name}, its next start gives ${name} to every agent again, ` +
    `in registration order: an agent may get a subnet another agent held, and containers still attached to ${name} keep addresses that are no longer theirs. ` +
    `Remove ${name} from the config before starting the master, unless you are re-numbering it; then restart the containers on ${name}.`;
  return { summary, warning };
}
