// The IPAM collector: every interval (and on demand) it reads the host-local
// reservations, asks the runtimes about their containers, classifies them
// (classify.ts) and releases the ones seen leaked for the grace period. One
// run at a time; the ports make it testable without a host.

import type { AgentInfo, IpamCheck, IpamCounts } from '../../api/types.js';
import type { Clock } from '../ports.js';
import {
  applyGrace,
  classify,
  type Evidence,
  guardGroups,
  type Reservation,
  reservationKey,
  summarize,
  type Timed,
  type Verdict,
} from './classify.js';
import type { Recorded } from './probes.js';
import { subnetTest } from './reservations.js';

export interface CollectorPorts {
  readReservations(): Promise<Reservation[]>;
  probe(reservations: readonly Reservation[]): Promise<Omit<Evidence, 'inSubnets'> & { recorded: Map<string, Recorded> }>;
  release(v: Verdict, recorded: Recorded | undefined): Promise<'cni-del' | 'file'>;
}

export interface CollectorSettings {
  ip: string;
  graceMs: number;
  intervalMs: number;
}

/** `scheduled`: release what passed the grace period; `look`: release nothing; `release-now`: every leaked one, grace or not. */
export type CheckMode = 'scheduled' | 'look' | 'release-now';

const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

export class IpamCollector {
  /** When each leaked reservation was first seen leaked. */
  private since = new Map<string, number>();
  private last: Record<string, IpamCounts> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private lastSuspects = '';

  constructor(
    private readonly settings: CollectorSettings,
    private readonly ports: CollectorPorts,
    private readonly deps: { self: () => AgentInfo | undefined; clock: Clock; log: (message: string) => void },
  ) {}

  /** The counts of the last run, for the containers report; undefined before the first. */
  summary(): Record<string, IpamCounts> | undefined {
    return this.last;
  }

  /** One run; runs never overlap. */
  check(mode: CheckMode): Promise<IpamCheck> {
    const next = this.queue.then(() => this.checkNow(mode));
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Runs every interval until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.check('scheduled').catch((e: unknown) =>
        this.deps.log(`ipam check failed: ${e instanceof Error ? e.message : String(e)}`),
      );
      await new Promise<void>((resolve) => {
        const cancel = this.deps.clock.setTimer(this.settings.intervalMs, resolve);
        signal.addEventListener(
          'abort',
          () => {
            cancel();
            resolve();
          },
          { once: true },
        );
      });
    }
  }

  private async checkNow(mode: CheckMode): Promise<IpamCheck> {
    const self = this.deps.self();
    const answer: IpamCheck = {
      ip: this.settings.ip,
      at: '',
      graceSeconds: this.settings.graceMs / 1000,
      overlays: [],
      released: [],
      errors: [],
    };
    if (!self || self.overlays.length === 0) {
      answer.at = new Date(this.deps.clock.now()).toISOString();
      answer.errors.push('this agent holds no overlay yet (not registered): nothing checked');
      return answer;
    }
    const reservations = await this.ports.readReservations();
    const evidence = await this.ports.probe(reservations);
    const now = this.deps.clock.now();
    answer.at = new Date(now).toISOString();
    const verdicts = guardGroups(reservations.map((r) => classify(r, { ...evidence, inSubnets: subnetTest(self) })));
    const graced = applyGrace(verdicts, this.since, now, this.settings.graceMs);
    for (const v of graced.timed) if (v.state === 'leaked' && !this.since.has(`${v.overlay}\0${v.ip}\0${v.container}`)) this.logFound(v);
    this.since = graced.since;
    const toRelease = mode === 'look' ? [] : mode === 'release-now' ? graced.timed.filter((v) => v.state === 'leaked') : graced.due;
    const released = new Set<Timed>();
    for (const v of toRelease) {
      try {
        const how = await this.ports.release(v, evidence.recorded.get(reservationKey(v)));
        released.add(v);
        answer.released.push({ overlay: v.overlay, ip: v.ip, container: v.container, how });
        this.deps.log(`released ${v.ip} on ${v.overlay} (container ${v.container}, ${how}): ${v.reason}`);
      } catch (e) {
        answer.errors.push(`releasing ${v.ip} on ${v.overlay}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    const kept = graced.timed.filter((v) => !released.has(v));
    this.logSuspects(kept);
    const counts = summarize(kept);
    this.last = counts;
    answer.overlays = Object.entries(counts)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, c]) => ({
        name,
        ...c,
        addresses: kept
          .filter((v) => v.overlay === name && (v.state !== 'live' || v.stranded))
          .map((v) => ({
            ip: v.ip,
            container: v.container,
            interface: v.ifname,
            runtime: v.runtime,
            state: v.state,
            stranded: v.stranded,
            reason: v.reason,
            ...(v.leakedSince !== undefined && { leakedSince: iso(v.leakedSince), releaseAt: iso(v.releaseAt) }),
          })),
      }));
    return answer;
  }

  private logFound(v: Timed): void {
    this.deps.log(`leaked address ${v.ip} on ${v.overlay} (container ${v.container}): ${v.reason}; released after ${iso(v.releaseAt)}`);
  }

  private logSuspects(kept: readonly Timed[]): void {
    const text = kept
      .filter((v) => v.state === 'suspect')
      .map((v) => `${v.overlay} ${v.ip} (${v.container}): ${v.reason}`)
      .join('; ');
    if (text && text !== this.lastSuspects) this.deps.log(`suspect addresses, kept: ${text}`);
    this.lastSuspects = text;
  }
}
