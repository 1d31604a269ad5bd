// Pure: what `vxnet network delete NAME` writes to a stored state. The overlay
// disappears from every agent record (subnets, statuses, containers) and from
// the stored config, so a master started without it reconciles cleanly.

import type { NetworkConfig } from '../config/types.js';
import { VxnetError } from '../errors.js';
import type { AgentRecord, Change, Snapshot } from '../store/store.js';

export interface NetworkDeletePlan {
  changes: Change[];
  /** Agents that held something in the overlay. */
  agents: number;
  fromConfig: boolean;
}

function without<T>(record: Record<string, T>, key: string): Record<string, T> {
  const { [key]: _dropped, ...rest } = record;
  return rest;
}

export function planNetworkDelete(snapshot: Snapshot, name: string, dataDir: string): NetworkDeletePlan {
  const holders = snapshot.agents.filter((a) => name in a.overlays || name in a.status || a.containers.some((c) => c.network === name));
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
  const changes: Change[] = holders.map(
    (a): Change => ({
      type: 'put',
      record: {
        ...a,
        overlays: without(a.overlays, name),
        status: without(a.status, name),
        containers: a.containers.filter((c) => c.network !== name),
      } satisfies AgentRecord,
    }),
  );
  if (inConfig && snapshot.config) {
    const config: NetworkConfig = { ...snapshot.config, overlays: snapshot.config.overlays.filter((o) => o.name !== name) };
    changes.push({ type: 'config', config });
  }
  return { changes, agents: holders.filter((a) => name in a.overlays).length, fromConfig: inConfig };
}
