// Pure: what readers see of agent leases. An expired agent leaves /state
// exactly as a deleted one does (a DC/OS `delete` frame), plus vxnet's
// `expired` frame for clients that know it; its allocation, and every
// quarantined one, is listed on GET /overlay-master/leases with stranded containers.

import type { HeldAllocation, LeasesView } from '../api/types.js';
import { epochOf } from '../alloc/lease-record.js';
import type { AgentRecord, OverlayAllocation } from '../store/store.js';

/** The `expired` watch frame (same revision as the `delete` frame before it); clients that do not know the type ignore it. */
export const expiredFrame = (revision: number, ip: string, at: string): string =>
  `id: ${revision}\nevent: expired\ndata: ${JSON.stringify({ type: 'expired', revision, ip, at })}\n\n`;

const subnets = (overlays: Record<string, OverlayAllocation>): HeldAllocation['overlays'] =>
  Object.fromEntries(
    Object.entries(overlays)
      .filter(([, a]) => a.subnet !== undefined || a.subnet6 !== undefined)
      .map(([name, a]) => [
        name,
        { ...(a.subnet !== undefined && { subnet: a.subnet }), ...(a.subnet6 !== undefined && { subnet6: a.subnet6 }) },
      ]),
  );

/** Every allocation held for an agent that is not using it: expired ones and quarantined earlier epochs, by `until`. */
export function heldAllocations(records: Iterable<AgentRecord>): HeldAllocation[] {
  const held: HeldAllocation[] = [];
  for (const r of records) {
    if (r.expired) {
      held.push({
        ip: r.ip,
        epoch: epochOf(r),
        vtep_ip: r.vtepIp,
        ...(r.vtepIp6 !== undefined && { vtep_ip6: r.vtepIp6 }),
        overlays: subnets(r.overlays),
        expired_at: r.expired.at,
        until: r.expired.until,
        kind: 'expired',
      });
    }
    for (const q of r.quarantine ?? []) {
      held.push({
        ip: r.ip,
        epoch: q.epoch,
        vtep_ip: q.vtepIp,
        ...(q.vtepIp6 !== undefined && { vtep_ip6: q.vtepIp6 }),
        overlays: subnets(q.overlays),
        expired_at: q.expiredAt,
        until: q.until,
        kind: 'quarantined',
      });
    }
  }
  return held.sort((a, b) => a.until.localeCompare(b.until) || a.ip.localeCompare(b.ip) || a.epoch - b.epoch);
}

/** GET /overlay-master/leases: held allocations, and the stranded containers live agents report. */
export function leasesView(records: Iterable<AgentRecord>): LeasesView {
  const all = [...records];
  const stranded = all
    .filter((r) => !r.expired)
    .sort((a, b) => a.seq - b.seq)
    .flatMap((r) => (r.stranded ?? []).map((c) => ({ agent: r.ip, ...c })));
  return { held: heldAllocations(all), stranded };
}
