// Pure: decides whether a new config may take over a stored state, at start
// and at a reload alike (a reload without force refuses exactly what a start
// refuses).
//
// Allocations already handed out are facts agents act on; a config that
// contradicts them is refused with old vs new and the fix, never applied
// half-way (the original crashed or restart-looped here). A change only counts
// when stored allocations depend on it: with no agents, any config is accepted.
// Removing an overlay deletes it (its allocations are freed), refused only
// while agents report containers on it, unless forced.
// Networks are compared as parsed values, so "FD01::/48" and "fd01::/48" agree.

import { type AgentRange, type CanonicalConfig, type CanonicalOverlay, canonicalize } from '../config/canonical.js';
import type { NetworkConfig } from '../config/types.js';
import { type Cidr, formatCidr } from '../net/ip.js';
import type { AgentRecord } from '../store/store.js';

export type RefusalKind = 'overlay-in-use' | 'overlay-changed' | 'vtep-changed';

/** A container an agent reports on an overlay that is being removed. */
export interface AttachedContainer {
  agent: string;
  id: string;
  name?: string;
  ip: string;
  ip6?: string;
}

export interface Refusal {
  kind: RefusalKind;
  /** The overlay or config field concerned. */
  subject: string;
  /** The field of the new config, e.g. "vtep_subnet" or "overlays[1].prefix". */
  field: string;
  /** Its value in the new config (undefined: missing). */
  value: unknown;
  fix: string;
  /** The whole refusal as one line: what, why, and the fix. */
  message: string;
  /** overlay-in-use: what is still attached. */
  containers?: AttachedContainer[];
}

export interface ReconcileOptions {
  /** Accept removing overlays that still have containers attached (their addresses are freed under them). */
  force?: boolean;
}

export type ReconcileResult =
  | {
      ok: true;
      /** Overlays the stored config did not list. */
      added: string[];
      /** Overlays the stored config or the agents hold that the new config does not list: deleted. */
      removed: string[];
      /** Enabled before, disabled now (allocations kept). */
      disabled: string[];
      /** Disabled before, enabled now. */
      enabled: string[];
      /** Kept overlays whose traffic to the outside is masqueraded now and was not, and the other way round. */
      masqueradeOn: string[];
      masqueradeOff: string[];
      configChanged: boolean;
    }
  | { ok: false; refusals: Refusal[] };

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
    .map(([field, , a, b]) => {
      const fix = `set ${field} back to ${a ?? '(unset)'}, or delete every agent first (POST /overlay-master/agents/delete).`;
      return {
        kind: 'vtep-changed' as const,
        subject: field,
        field,
        value: b,
        fix,
        message: `${field} changed from ${a ?? '(unset)'} to ${b ?? '(unset)'} but ${agentsWord(agents.length)} VTEP addresses and MACs made from the old value. Fix: ${fix}`,
      };
    });
}

function overlayRefusals(
  old: CanonicalOverlay,
  next: CanonicalOverlay,
  index: number,
  agents: readonly AgentRecord[],
  storeArgs: string,
): Refusal[] {
  const changed4 = !sameRange(old.v4, next.v4);
  const changed6 = !sameRange(old.v6, next.v6);
  const n = (changed4 ? holders(agents, old.name, 4) : 0) + (changed6 ? holders(agents, old.name, 6) : 0);
  if (n === 0) return [];
  const count = holders(agents, old.name, 'any');
  const [a, b] = changed4 ? [old.v4, next.v4] : [old.v6, next.v6];
  const key = `${a && b && sameCidr(a.subnet, b.subnet) ? 'prefix' : 'subnet'}${changed4 ? '' : '6'}` as const;
  const fix =
    `put the old values back, or delete the overlay first (remove it from the config and reload, or stop the master and run: ` +
    `vxnet network delete ${old.name} ${storeArgs}), then add it again with the new values`;
  return [
    {
      kind: 'overlay-changed',
      subject: old.name,
      field: `overlays[${index}].${key}`,
      value: b && (key.startsWith('prefix') ? b.prefix : formatCidr(b.subnet)),
      fix,
      message: `overlay ${old.name} changed: old ${describeOverlay(old)}; new ${describeOverlay(next)}; ${agentsWord(count)} subnets made from the old value. Fix: ${fix}`,
    },
  ];
}

/** Every container the agents report on overlay `name`. */
export function attachedTo(agents: readonly AgentRecord[], name: string): AttachedContainer[] {
  return agents.flatMap((a) =>
    a.containers
      .filter((c) => c.network === name)
      .map((c) => ({ agent: a.ip, id: c.id, ...(c.name && { name: c.name }), ip: c.ip, ...(c.ip6 && { ip6: c.ip6 }) })),
  );
}

const containerText = (c: AttachedContainer): string =>
  `${c.name ? `${c.name} (${c.id.slice(0, 12)})` : c.id.slice(0, 12)} ${c.ip}${c.ip6 ? ` ${c.ip6}` : ''} on agent ${c.agent}`;

function inUseRefusal(name: string, old: CanonicalOverlay | undefined, containers: AttachedContainer[], storeArgs: string): Refusal {
  const was = old ? ` (${describeOverlay(old)})` : '';
  const shown = containers.slice(0, 20).map(containerText).join(', ');
  const more = containers.length > 20 ? ` and ${containers.length - 20} more` : '';
  const fix =
    `stop those containers first, or put ${name} back in the config${was}, or delete it anyway: vxnet network reload --force ` +
    `(a running master) or vxnet network delete ${name} ${storeArgs} (a stopped one); their addresses are then freed while they run`;
  return {
    kind: 'overlay-in-use',
    subject: name,
    field: 'overlays',
    value: undefined,
    fix,
    containers,
    message: `overlay ${name} is not in the config but ${containers.length} container(s) are still attached to it: ${shown}${more}. Fix: ${fix}`,
  };
}

/**
 * Checks `next` against what is stored. `storeArgs` (e.g. `--data /var/lib/vxnet`)
 * names the store in the fix text, so the command shown can be run as it is.
 */
export function reconcile(stored: StoredState, next: CanonicalConfig, storeArgs: string, options: ReconcileOptions = {}): ReconcileResult {
  const refusals: Refusal[] = [];
  const oldConfig = stored.config && canonicalize(stored.config);
  const nextByName = new Map(next.overlays.map((o) => [o.name, o]));
  const oldByName = new Map((oldConfig?.overlays ?? []).map((o) => [o.name, o]));

  if (oldConfig) refusals.push(...vtepRefusals(oldConfig, next, stored.agents));

  // Overlays the agents hold, whether or not the stored config still lists them.
  const heldNames = new Set<string>([...oldByName.keys()]);
  for (const a of stored.agents) for (const name of Object.keys(a.overlays)) heldNames.add(name);

  const removed: string[] = [];
  for (const name of heldNames) {
    const nextOverlay = nextByName.get(name);
    const oldOverlay = oldByName.get(name);
    if (!nextOverlay) {
      removed.push(name);
      const containers = attachedTo(stored.agents, name);
      if (containers.length > 0 && !options.force) refusals.push(inUseRefusal(name, oldOverlay, containers, storeArgs));
    } else if (oldOverlay) {
      refusals.push(...overlayRefusals(oldOverlay, nextOverlay, next.overlays.indexOf(nextOverlay), stored.agents, storeArgs));
    }
  }
  if (refusals.length > 0) return { ok: false, refusals };
  const added = next.overlays.filter((o) => !oldByName.has(o.name)).map((o) => o.name);
  const kept = next.overlays.filter((o) => oldByName.has(o.name));
  /** Kept overlays whose `key` is `now` and was not before. */
  const turned = (key: 'enabled' | 'masquerade', now: boolean) =>
    kept.filter((o) => o[key] === now && oldByName.get(o.name)![key] !== now).map((o) => o.name);
  const disabled = turned('enabled', false);
  const enabled = turned('enabled', true);
  const masqueradeOn = turned('masquerade', true);
  const masqueradeOff = turned('masquerade', false);
  // The stored text is what /state echoes, so any change to it is written, even one that parses the same.
  const configChanged = JSON.stringify(stored.config) !== JSON.stringify(next.network);
  return { ok: true, added, removed, disabled, enabled, masqueradeOn, masqueradeOff, configChanged };
}
