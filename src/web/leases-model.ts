// Pure (runs in the browser): the page's lease tables from GET
// /overlay-master/leases: allocations held for agents whose lease ran out
// (expired) or that came back with a fresh one (quarantined), and containers
// agents report on an address outside their allocation (stranded).

import type { LeasesView, WatchEvent } from '../api/types.js';

export interface HeldRow {
  ip: string;
  kind: 'expired' | 'quarantined';
  /** What the kind means to an operator. */
  kindText: string;
  epoch: number;
  expiredAt: string;
  until: string;
  /** VTEP addresses, IPv4 first. */
  vtep: string[];
  /** "overlay subnet [subnet6]" per overlay, by name. */
  subnets: string[];
}

export interface StrandedRow {
  agent: string;
  /** The runtime's name and the short id, or the id alone. */
  container: string;
  network: string;
  /** IPv4 and IPv6, as reported. */
  address: string;
}

const KIND_TEXT: Record<HeldRow['kind'], string> = {
  expired: 'expired: the agent has not come back',
  quarantined: 'came back with a fresh allocation; the old one is held',
};

export function heldRows(view: LeasesView): HeldRow[] {
  return view.held.map((h) => ({
    ip: h.ip,
    kind: h.kind,
    kindText: KIND_TEXT[h.kind] ?? h.kind,
    epoch: h.epoch,
    expiredAt: h.expired_at,
    until: h.until,
    vtep: [h.vtep_ip, h.vtep_ip6 ?? ''].filter((v) => v !== ''),
    subnets: Object.entries(h.overlays)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, s]) => [name, s.subnet, s.subnet6].filter(Boolean).join(' ')),
  }));
}

export function strandedRows(view: LeasesView): StrandedRow[] {
  return view.stranded.map((c) => ({
    agent: c.agent,
    container: c.name ? `${c.name} (${c.id.slice(0, 12)})` : c.id,
    network: c.network,
    address: [c.ip, c.ip6].filter(Boolean).join(' '),
  }));
}

/** "2024-05-01T12:00:03.123Z" → "2024-05-01 12:00:03 UTC"; text that is not an ISO time is shown as it is. */
export function formatTime(iso: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?Z$/.exec(iso);
  return m ? `${m[1]} ${m[2]} UTC` : iso;
}

/**
 * Watch events after which the lists may have changed: an agent put (a
 * containers report carries stranded ones; a registration turns an expired
 * allocation into a quarantined one), delete, `expired` and resync. Pool
 * events and types this page does not know change nothing here.
 */
export function changesLeases(event: Pick<WatchEvent, 'type'> | { type: string }): boolean {
  return event.type === 'put' || event.type === 'delete' || event.type === 'expired' || event.type === 'resync';
}

/** setTimeout's longest delay. */
const MAX_DELAY_MS = 2 ** 31 - 1;
/** A quarantine that ended is freed at the master's next sweep (at most 5 s later): ask again after this. */
export const PAST_DUE_RETRY_MS = 5_000;

/**
 * When to fetch again with no watch event: a quarantine's end frees its
 * blocks without one. A second after the earliest `until`; undefined when
 * nothing is held. Unparsable times are skipped (never a busy loop).
 */
export function nextRefreshMs(view: LeasesView, nowMs: number): number | undefined {
  const ends = view.held.map((h) => Date.parse(h.until)).filter((t) => Number.isFinite(t));
  if (ends.length === 0) return undefined;
  const wait = Math.min(...ends) - nowMs + 1_000;
  return Math.min(MAX_DELAY_MS, Math.max(PAST_DUE_RETRY_MS, wait));
}
