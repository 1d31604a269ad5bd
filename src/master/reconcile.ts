// Pure: decides whether a new config may take over a stored state.
//
// Allocations already handed out are facts agents act on; a config that
// contradicts them is refused with old vs new and the fix, never applied
// half-way (the original crashed or restart-looped here). A change only counts
// when stored allocations depend on it: with no agents, any config is accepted.
// Networks are compared as parsed values, so "FD01::/48" and "fd01::/48" agree.

import { type AgentRange, type CanonicalConfig, type CanonicalOverlay, canonicalize } from '../config/canonical.js';
import type { NetworkConfig } from '../config/types.js';
import { type Cidr, formatCidr } from '../net/ip.js';
import type { AgentRecord } from '../store/store.js';

export type RefusalKind = 'overlay-removed' | 'overlay-changed' | 'vtep-changed';

export interface Refusal {
  kind: RefusalKind;
  /** The overlay or config field concerned. */
  subject: string;
  message: string;
}

export type ReconcileResult = { ok: true; added: string[]; configChanged: boolean } | { ok: false; refusals: Refusal[] };

export interface StoredState {
  /** As stored: it passed checkConfig when it was written. */
  config?: NetworkConfig;
  agents: readonly AgentRecord[];
}

const describeOverlay = (o: CanonicalOverlay): string =>
  [
    o.v4 && `subnet: ${formatCidr(o.v4.subnet)}, prefix: ${o.v4.prefix}`,
    o.v6 && `subnet6: ${formatCidr(o.v6.subnet)}, prefix6: ${o.v6.prefix}`,
  ]
    .filter(Boolean)
    .join(', ');

const sameCidr = (a: Cidr | undefined, b: Cidr | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && a.family === b.family && a.base === b.base && a.length === b.length);

const sameRange = (a: AgentRange | undefined, b: AgentRange | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && sameCidr(a.subnet, b.subnet) && a.prefix === b.prefix);

const cidrText = (cidr: Cidr | undefined): string | undefined => cidr && formatCidr(cidr);

const holders = (agents: readonly AgentRecord[], name: string, family: 4 | 6 | 'any'): number =>
  agents.filter((a) => {
    const alloc = a.overlays[name];
    if (!alloc) return false;
    if (family === 4) return alloc.subnet !== undefined;
    if (family === 6) return alloc.subnet6 !== undefined;
    return alloc.subnet !== undefined || alloc.subnet6 !== undefined;
  }).length;

const agentsWord = (n: number): string => (n === 1 ? '1 agent holds' : `${n} agents hold`);

function vtepRefusals(old: CanonicalConfig, next: CanonicalConfig, agents: readonly AgentRecord[]): Refusal[] {
  if (agents.length === 0) return [];
  const anyVtep6 = agents.some((a) => a.vtepIp6 !== undefined);
  const fields: [keyof NetworkConfig, boolean, string | undefined, string | undefined][] = [
    ['vtep_subnet', sameCidr(old.vtep4, next.vtep4), cidrText(old.vtep4), cidrText(next.vtep4)],
    ['vtep_subnet6', !anyVtep6 || sameCidr(old.vtep6, next.vtep6), cidrText(old.vtep6), cidrText(next.vtep6)],
    ['vtep_mac_oui', old.oui === next.oui, old.oui, next.oui],
  ];
  return fields
    .filter(([, same]) => !same)
    .map(([field, , a, b]) => ({
      kind: 'vtep-changed' as const,
      subject: field,
      message:
        `${field} changed from ${a ?? '(unset)'} to ${b ?? '(unset)'} but ${agentsWord(agents.length)} VTEP addresses and MACs made from the old value. ` +
        `Fix: set ${field} back to ${a ?? '(unset)'}, or delete every agent first (POST /overlay-master/agents/delete).`,
    }));
}

function overlayRefusals(old: CanonicalOverlay, next: CanonicalOverlay, agents: readonly AgentRecord[], storeArgs: string): Refusal[] {
  const changed4 = !sameRange(old.v4, next.v4);
  const changed6 = !sameRange(old.v6, next.v6);
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
export function reconcile(stored: StoredState, next: CanonicalConfig, storeArgs: string): ReconcileResult {
  const refusals: Refusal[] = [];
  const oldConfig = stored.config && canonicalize(stored.config);
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
  // The stored text is what /state echoes, so any change to it is written, even one that parses the same.
  return { ok: true, added, configChanged: JSON.stringify(stored.config) !== JSON.stringify(next.network) };
}
