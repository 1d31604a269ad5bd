// Allocation history events from a record's before and after (shared design,
// item 3). Pure: MasterService.commitInOrder calls it for every change it
// commits, so every write (registration, delete, reload, expiry) is covered
// and no caller writes history itself.

import type { AllocationEvent, AllocationEventKind } from '../store/allocation-history.js';
import type { AgentRecord, Change } from '../store/store.js';

/** One block an agent holds: a VTEP address, or an overlay's subnet of one family. */
interface Block {
  key: string;
  epoch?: number;
  fields: Pick<AllocationEvent, 'overlay' | 'subnet' | 'subnet6' | 'vtepIp'>;
}

/** The parts of a lease the history looks at (a record, or a quarantined lease of one). */
interface Held {
  epoch?: number;
  vtepIp?: string;
  vtepIp6?: string;
  overlays?: Record<string, { subnet?: string; subnet6?: string }>;
}

function blocksOf(held: Held, epoch: number | undefined): Block[] {
  const out: Block[] = [];
  for (const ip of [held.vtepIp, held.vtepIp6]) if (ip) out.push({ key: `vtep ${ip}`, epoch, fields: { vtepIp: ip } });
  for (const [overlay, a] of Object.entries(held.overlays ?? {})) {
    if (a.subnet) out.push({ key: `overlay ${overlay} ${a.subnet}`, epoch, fields: { overlay, subnet: a.subnet } });
    if (a.subnet6) out.push({ key: `overlay ${overlay} ${a.subnet6}`, epoch, fields: { overlay, subnet6: a.subnet6 } });
  }
  return out;
}

/** Blocks the agent holds live (not expired). */
function live(r: AgentRecord | undefined): Map<string, Block> {
  if (!r || r.expired) return new Map();
  return new Map(blocksOf(r, r.epoch).map((b) => [b.key, b]));
}

/** Blocks held in quarantine: an expired record's own, and its earlier leases'. */
function quarantined(r: AgentRecord | undefined): Map<string, Block> {
  if (!r) return new Map();
  const blocks = [...(r.expired ? blocksOf(r, r.epoch) : []), ...(r.quarantine ?? []).flatMap((q) => blocksOf(q, q.epoch))];
  return new Map(blocks.map((b) => [b.key, b]));
}

/**
 * What changed in one agent's allocation: `allocated` for a block it did not
 * hold live before; `freed` for a live block gone and not quarantined;
 * `expired` for a live block that went to quarantine; `reclaimed` for a
 * quarantined block that is free again. `after` undefined: the record was deleted.
 */
export function allocationEvents(
  ip: string,
  before: AgentRecord | undefined,
  after: AgentRecord | undefined,
  at: string,
): AllocationEvent[] {
  const liveBefore = live(before);
  const liveAfter = live(after);
  const heldBefore = quarantined(before);
  const heldAfter = quarantined(after);
  const events: AllocationEvent[] = [];
  const add = (kind: AllocationEventKind, b: Block): void => {
    events.push({ at, kind, agent: ip, ...(b.epoch !== undefined && { epoch: b.epoch }), ...b.fields });
  };
  for (const [key, b] of liveBefore) {
    if (liveAfter.has(key)) continue;
    add(heldAfter.has(key) ? 'expired' : 'freed', b);
  }
  for (const [key, b] of liveAfter) if (!liveBefore.has(key)) add('allocated', b);
  for (const [key, b] of heldBefore) if (!heldAfter.has(key) && !liveAfter.has(key)) add('reclaimed', b);
  return events;
}

/**
 * The events of a list of changes, `recordOf` giving each agent's record
 * before them (changes to one agent in the list build on each other).
 */
export function historyOfChanges(
  changes: readonly Change[],
  recordOf: (ip: string) => AgentRecord | undefined,
  at: string,
): AllocationEvent[] {
  const current = new Map<string, AgentRecord | undefined>();
  const before = (ip: string): AgentRecord | undefined => (current.has(ip) ? current.get(ip) : recordOf(ip));
  const events: AllocationEvent[] = [];
  for (const change of changes) {
    if (change.type === 'config') continue;
    const ip = change.type === 'put' ? change.record.ip : change.ip;
    const after = change.type === 'put' ? change.record : undefined;
    events.push(...allocationEvents(ip, before(ip), after, at));
    current.set(ip, after);
  }
  return events;
}
