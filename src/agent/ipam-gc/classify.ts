// Pure: each host-local reservation -> live, leaked or suspect, from what
// the runtimes that can have made it say. Leaked needs positive proof that
// the container is gone; anything unproven is suspect and kept.

import type { IpamCounts } from '../../api/types.js';

/** One host-local file: `<ipam dir>/<overlay>/<ip>` holding the container id and interface. */
export interface Reservation {
  overlay: string;
  ip: string;
  container: string;
  ifname: string;
}

/** Whether a container's netns file exists, seen from the mount namespace where it was made. */
export type NetnsSeen = { present: true } | { present: false } | { unknown: string };

/** A vxnet container record (src/cni/records.ts) whose name is the reservation's container id. */
export interface VxnetRecordFacts {
  network: string;
  ifname: string;
  /** The addresses in its CNI result; undefined while its ADD is still running. */
  ips?: readonly string[];
  netnsPath: string;
  netns: NetnsSeen;
}

/** `podman ps -a`: every container id podman has, or why it could not be asked. */
export type PodmanProbe = { ok: true; ids: ReadonlySet<string> } | { ok: false; error: string };

export interface Evidence {
  /** vxnet container records by name. */
  records: ReadonlyMap<string, VxnetRecordFacts>;
  /** Keys (`reservationKey`) with a libcni cache entry that names this agent's IPAM dir: podman's. */
  libcniCached: ReadonlySet<string>;
  /** Undefined when the agent is told not to ask podman. */
  podman?: PodmanProbe;
  /** Inside the agent's current subnet of that overlay. */
  inSubnets: (r: Reservation) => boolean;
}

export type Runtime = 'vxnet' | 'podman' | 'unknown';
export type GcState = 'live' | 'leaked' | 'suspect';

export interface Verdict extends Reservation {
  runtime: Runtime;
  state: GcState;
  stranded: boolean;
  reason: string;
  /**
   * How a leaked one is released: `cni-del` (the container's DEL, which frees
   * every address of that container and interface) or `file` (this one file
   * only: another container of that name holds other addresses).
   */
  release?: 'cni-del' | 'file';
}

/** What a CNI DEL of this reservation is keyed on (host-local frees by container and interface). */
export const reservationKey = (r: Pick<Reservation, 'overlay' | 'container' | 'ifname'>): string =>
  `${r.overlay}\0${r.container}\0${r.ifname}`;

const short = (id: string): string => (/^[0-9a-f]{64}$/.test(id) ? id.slice(0, 12) : id);

function byRecord(r: Reservation, rec: VxnetRecordFacts): Pick<Verdict, 'state' | 'reason' | 'release'> {
  const name = `vxnet container ${r.container}`;
  if (rec.ips !== undefined && !rec.ips.includes(r.ip))
    return { state: 'leaked', reason: `${name} now holds ${rec.ips.join(', ') || 'no address'}, not this one`, release: 'file' };
  const seen = rec.netns;
  if ('unknown' in seen) return { state: 'suspect', reason: `${name}: cannot tell whether ${rec.netnsPath} exists (${seen.unknown})` };
  if (seen.present) return { state: 'live', reason: `${name}, network namespace ${rec.netnsPath}` };
  return { state: 'leaked', reason: `${name}: its network namespace ${rec.netnsPath} is gone`, release: 'cni-del' };
}

function byPodman(r: Reservation, probe: PodmanProbe | undefined): Pick<Verdict, 'state' | 'reason' | 'release'> {
  if (!probe)
    return { state: 'suspect', reason: "made through libcni (podman's cache), but the agent does not ask podman (--podman-argv '[]')" };
  if (!probe.ok) return { state: 'suspect', reason: `podman could not be asked: ${probe.error}` };
  if (probe.ids.has(r.container)) return { state: 'live', reason: `podman container ${short(r.container)}` };
  return { state: 'leaked', reason: `podman has no container ${short(r.container)}`, release: 'cni-del' };
}

/** The verdict on one reservation. */
export function classify(r: Reservation, evidence: Evidence): Verdict {
  const stranded = !evidence.inSubnets(r);
  const rec = evidence.records.get(r.container);
  if (rec && rec.network === r.overlay && rec.ifname === r.ifname) return { ...r, runtime: 'vxnet', stranded, ...byRecord(r, rec) };
  if (evidence.libcniCached.has(reservationKey(r))) return { ...r, runtime: 'podman', stranded, ...byPodman(r, evidence.podman) };
  return {
    ...r,
    runtime: 'unknown',
    stranded,
    state: 'suspect',
    reason: 'no runtime the agent knows made it: no vxnet container record and no libcni cache entry name this container',
  };
}

/**
 * host-local's DEL frees every address of a container and interface: it is
 * only run when all of them are leaked. A group with a live or suspect member
 * keeps its leaked ones as suspect.
 */
export function guardGroups(verdicts: readonly Verdict[]): Verdict[] {
  const blocked = new Set(verdicts.filter((v) => v.state !== 'leaked').map(reservationKey));
  return verdicts.map((v) =>
    v.state === 'leaked' && v.release === 'cni-del' && blocked.has(reservationKey(v))
      ? { ...v, state: 'suspect', reason: `${v.reason}, but another address of that container is not: kept`, release: undefined }
      : v,
  );
}

export interface Timed extends Verdict {
  /** Leaked: when first seen leaked (ms since the epoch). */
  leakedSince?: number;
  releaseAt?: number;
}

const timedKey = (v: Reservation): string => `${v.overlay}\0${v.ip}\0${v.container}`;

/**
 * The grace period: a reservation is released only once it has been seen
 * leaked for `graceMs`. `since` holds when each was first seen leaked; the
 * answer's `since` keeps only those still leaked (a live one starts over).
 */
export function applyGrace(
  verdicts: readonly Verdict[],
  since: ReadonlyMap<string, number>,
  now: number,
  graceMs: number,
): { timed: Timed[]; due: Timed[]; since: Map<string, number> } {
  const next = new Map<string, number>();
  const timed = verdicts.map((v): Timed => {
    if (v.state !== 'leaked') return v;
    const first = since.get(timedKey(v)) ?? now;
    next.set(timedKey(v), first);
    return { ...v, leakedSince: first, releaseAt: first + graceMs };
  });
  const due = timed.filter((v) => v.releaseAt !== undefined && v.releaseAt <= now);
  return { timed, due, since: next };
}

/** Counts per overlay. */
export function summarize(verdicts: readonly Verdict[]): Record<string, IpamCounts> {
  const out: Record<string, IpamCounts> = {};
  for (const v of verdicts) {
    const c = out[v.overlay] ?? { used: 0, leaked: 0, suspect: 0, stranded: 0 };
    c.used++;
    if (v.state === 'leaked') c.leaked++;
    if (v.state === 'suspect') c.suspect++;
    if (v.stranded) c.stranded++;
    out[v.overlay] = c;
  }
  return out;
}

/** Where a netns file was made, from its record: the mount namespace and the peer group of /run/netns there. */
export interface MadeIn {
  mountNs?: string;
  peer?: string;
}

/** This agent's view: its mount namespace and the peer groups of its /run/netns. */
export interface Here {
  mountNs?: string;
  shared?: string;
  master?: string;
}

/**
 * Whether a vxnet container's missing netns file proves it gone: only when
 * the agent sees /run/netns as the mount namespace it was made in does. That
 * is the same mount namespace, or a /run/netns in the same peer group or a
 * slave of it (the agent under `ip netns exec`): those receive every mount
 * and unmount made there. Elsewhere (podman's private namespace, an old
 * record) a missing file proves nothing.
 */
export function netnsVisible(made: MadeIn, here: Here): { ok: true } | { unknown: string } {
  if (made.mountNs !== undefined && made.mountNs === here.mountNs) return { ok: true };
  if (made.peer !== undefined && (made.peer === here.shared || made.peer === here.master)) return { ok: true };
  if (made.mountNs === undefined && made.peer === undefined)
    return { unknown: 'its record does not say in which mount namespace it was made' };
  return {
    unknown: `it was made in mount namespace ${made.mountNs ?? '?'} (/run/netns peer group ${made.peer ?? '?'}), which this agent does not see`,
  };
}
