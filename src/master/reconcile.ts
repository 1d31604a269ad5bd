// Pure: decides whether a new config may take over a stored state.
//
// Allocations already handed out are facts agents act on; a config that
// contradicts them is refused with old vs new and the fix, never applied
// half-way (the original crashed or restart-looped here). A change only counts
// when stored allocations depend on it: with no agents, any config is accepted.

import type { NetworkConfig, OverlayConfig } from '../config/types.js';
import type { AgentRecord } from '../store/store.js';

export type RefusalKind = 'overlay-removed' | 'overlay-changed' | 'vtep-changed';

export interface Refusal {
  kind: RefusalKind;
  /** The overlay or config field concerned. */
  subject: string;
  message: string;
}

export type ReconcileResult =
  | { ok: true; added: string[]; configChanged: boolean }
  | { ok: false; refusals: Refusal[] };

export interface StoredState {
  config?: NetworkConfig;
  agents: readonly AgentRecord[];
}

const describeOverlay = (o: OverlayConfig): string =>
  [o.subnet !== undefined && `subnet: ${o.subnet}, prefix: ${o.prefix}`, o.subnet6 !== undefined && `subnet6: ${o.subnet6}, prefix6: ${o.prefix6}`]
    .filter(Boolean)
    .join(', ');

const holders = (agents: readonly AgentRecord[], name: string, family: 4 | 6 | 'any'): number =>
  agents.filter((a) => {
    const alloc = a.overlays[name];
    if (!alloc) return false;
    if (family === 4) return alloc.subnet !== undefined;
    if (family === 6) return alloc.subnet6 !== undefined;
    return alloc.subnet !== undefined || alloc.subnet6 !== undefined;
  }).length;

const agentsWord = (n: number): string => (n === 1 ? '1 agent holds' : `${n} agents hold`);

function vtepRefusals(old: NetworkConfig, next: NetworkConfig, agents: readonly AgentRecord[]): Refusal[] {
  if (agents.length === 0) return [];
  const fields: [keyof NetworkConfig, string | undefined, string | undefined][] = [
    ['vtep_subnet', old.vtep_subnet, next.vtep_subnet],
    ['vtep_subnet6', old.vtep_subnet6, next.vtep_subnet6],
    ['vtep_mac_oui', old.vtep_mac_oui?.toLowerCase(), next.vtep_mac_oui?.toLowerCase()],
  ];
  const anyVtep6 = agents.some((a) => a.vtepIp6 !== undefined);
  return fields
    .filter(([field, a, b]) => a !== b && (field !== 'vtep_subnet6' || anyVtep6))
    .map(([field, a, b]) => ({
      kind: 'vtep-changed' as const,
      subject: field,
      message:
        `${field} changed from ${a ?? '(unset)'} to ${b ?? '(unset)'} but ${agentsWord(agents.length)} VTEP addresses and MACs made from the old value. ` +
        `Fix: set ${field} back to ${a ?? '(unset)'}, or delete every agent first (POST /overlay-master/agents/delete).`,
    }));
}

function overlayRefusals(old: OverlayConfig, next: OverlayConfig, agents: readonly AgentRecord[], storeArgs: string): Refusal[] {
  const changed4 = old.subnet !== next.subnet || old.prefix !== next.prefix;
  const changed6 = old.subnet6 !== next.subnet6 || old.prefix6 !== next.prefix6;
  const n = (changed4 ? holders(agents, old.name, 4) : 0) + (changed6 ? holders(agents, old.name, 6) : 0);
  if (n === 0) return [];
  const count = holders(agents, old.name, 'any');
  return [
    {
      kind: 'overlay-changed',
      subject: old.name,
      message:
        `overlay ${old.name} changed: old ${describeOverlay(old)}; new ${describeOverlay(next)}; ${agentsWord(count)} subnets made from the old value. ` +
        `Fix: put the old values back, or free its allocations with: vxnet network delete ${old.name} ${storeArgs}`,
    },
  ];
}

/**
 * Checks `next` against what is stored. `storeArgs` (e.g. `--data /var/lib/vxnet`)
 * names the store in the fix text, so the command shown can be run as it is.
 */
export function reconcile(stored: StoredState, next: NetworkConfig, storeArgs: string): ReconcileResult {
  const refusals: Refusal[] = [];
  const oldConfig = stored.config;
  const nextByName = new Map(next.overlays.map((o) => [o.name, o]));
  const oldByName = new Map((oldConfig?.overlays ?? []).map((o) => [o.name, o]));

  if (oldConfig) refusals.push(...vtepRefusals(oldConfig, next, stored.agents));

  // Overlays the agents hold, whether or not the stored config still lists them.
  const heldNames = new Set<string>([...oldByName.keys()]);
  for (const a of stored.agents) for (const name of Object.keys(a.overlays)) heldNames.add(name);

  for (const name of heldNames) {
    const count = holders(stored.agents, name, 'any');
    const nextOverlay = nextByName.get(name);
    const oldOverlay = oldByName.get(name);
    if (!nextOverlay) {
      if (count === 0) continue;
      const was = oldOverlay ? ` (${describeOverlay(oldOverlay)})` : '';
      refusals.push({
        kind: 'overlay-removed',
        subject: name,
        message:
          `overlay ${name} is not in the config but ${agentsWord(count)} subnets in it. ` +
          `Fix: put it back in the config${was}, or free its allocations with: vxnet network delete ${name} ${storeArgs}`,
      });
    } else if (oldOverlay) {
      refusals.push(...overlayRefusals(oldOverlay, nextOverlay, stored.agents, storeArgs));
    }
  }
  if (refusals.length > 0) return { ok: false, refusals };
  const added = next.overlays.filter((o) => !oldByName.has(o.name)).map((o) => o.name);
  return { ok: true, added, configChanged: JSON.stringify(oldConfig) !== JSON.stringify(next) };
}
