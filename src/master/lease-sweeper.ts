// The leader's side of agent leases: when each agent last renewed (in memory
// only), and a timer that sweeps: it asks the pure rules (leases.ts) who
// expired and which quarantines ended, and hands each to the service, which
// commits it under that agent's lock. One sweep at a time; a failed commit is
// tried again at the next sweep.

import type { AgentRecord } from '../store/store.js';
import { type LeaseSettings, planSweep, sweepIntervalMs } from './leases.js';

/** What the sweeper asks of the service; each call re-checks under the agent's lock. */
export interface LeaseActions {
  records(): Iterable<AgentRecord>;
  expire(ip: string): Promise<void>;
  reclaim(ip: string): Promise<void>;
  endQuarantine(ip: string, epochs: number[]): Promise<void>;
  /** A sweep step failed (e.g. the store is down); the next sweep retries. */
  failed(ip: string, error: unknown): void;
}

export interface LeaseClocks {
  /** Monotonic ms (renewals). */
  now: () => number;
  /** Wall-clock ms (the stored expiry and quarantine times). */
  wallNow: () => number;
}

export class LeaseSweeper {
  private readonly renewals = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;

  constructor(
    readonly settings: LeaseSettings,
    private readonly clocks: LeaseClocks,
    private readonly actions: LeaseActions,
  ) {}

  /** Counts every live agent as renewed now (a leader that starts never expires the cluster), and starts sweeping. */
  start(): void {
    const now = this.clocks.now();
    for (const r of this.actions.records()) if (!r.expired) this.renewals.set(r.ip, now);
    this.timer = setInterval(() => void this.sweep(), sweepIntervalMs(this.settings));
    this.timer.unref();
  }

  renew(ip: string): void {
    this.renewals.set(ip, this.clocks.now());
  }

  forget(ip: string): void {
    this.renewals.delete(ip);
  }

  /** Monotonic ms of the agent's last renewal, if any. */
  renewedAt(ip: string): number | undefined {
    return this.renewals.get(ip);
  }

  /** True when the agent's last renewal is older than the TTL (re-checked under its lock before expiring it). */
  lapsed(ip: string): boolean {
    const at = this.renewals.get(ip);
    return at !== undefined && this.clocks.now() - at > this.settings.ttlMs;
  }

  /** One sweep (the timer's, or a test's); concurrent calls share it. */
  sweep(): Promise<void> {
    this.sweeping ??= this.sweepOnce().finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  /** Stops the timer and waits for a sweep in flight. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
  }

  private async sweepOnce(): Promise<void> {
    const plan = planSweep({
      records: this.actions.records(),
      renewedAt: (ip) => this.renewals.get(ip),
      now: this.clocks.now(),
      wallNow: this.clocks.wallNow(),
      settings: this.settings,
    });
    const step = (ip: string, work: Promise<void>) => work.catch((e: unknown) => this.actions.failed(ip, e));
    await Promise.all([
      ...plan.expire.map((ip) => step(ip, this.actions.expire(ip))),
      ...plan.reclaim.map((ip) => step(ip, this.actions.reclaim(ip))),
      ...plan.endQuarantine.map(({ ip, epochs }) => step(ip, this.actions.endQuarantine(ip, epochs))),
    ]);
  }
}
