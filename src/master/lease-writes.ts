// The leader's writes for agent leases, on the service's own machinery (its
// records, per-agent locks, allocator and ordered commits, handed in as a
// LeaseHost): heartbeats, expiry, the end of a quarantine, and the fresh
// allocation of an expired agent that comes back. Rules: leases.ts.

import type { Allocator } from '../alloc/allocator.js';
import type { Lease } from '../alloc/lease.js';
import { epochOf, leaseFromRecord, quarantineKey } from '../alloc/lease-record.js';
import type { AgentRecord, Change } from '../store/store.js';
import { checkRenewal, expiredRecord, type LeaseSettings, withoutQuarantine } from './leases.js';
import { LeaseSweeper } from './lease-sweeper.js';

/** What lease writes need of the service. */
export interface LeaseHost {
  record(ip: string): AgentRecord | undefined;
  records(): Iterable<AgentRecord>;
  lock<T>(ip: string, work: () => Promise<T>): Promise<T>;
  allocator: Allocator;
  /** Commits in store order and applies the result (MasterService.commitInOrder, store errors mapped). */
  commit(changes: Change[], apply: () => void): Promise<void>;
  applyPut(record: AgentRecord): void;
  applyDelete(ip: string): void;
  /** Monotonic ms. */
  now(): number;
  log(message: string): void;
}

/**
 * The registration answer with the lease's terms added when leases are on
 * (`epoch`, `ttl_seconds`); without --agent-ttl it is the DC/OS AgentInfo as
 * it was (no agent renews, so no epoch can go stale).
 */
export const leaseAnswer = (json: string, epoch: number, ttlSeconds: number | undefined): string =>
  ttlSeconds === undefined ? json : `{"epoch":${epoch},"ttl_seconds":${ttlSeconds},${json.slice(1)}`;

/** Refuses a report from an agent whose lease ran out: it must register again (and so withdraw) first. */
export function refuseExpired(ip: string, record: AgentRecord): void {
  if (record.expired) checkRenewal(ip, record, epochOf(record));
}

/**
 * For an expired agent that registers again: its old lease is held under its
 * quarantine key and a fresh one is allocated beside it (so never one of its
 * old blocks). `undo` puts the allocator back as it was; a throw (exhaustion)
 * undoes by itself.
 */
export function freshAllocation(allocator: Allocator, expired: AgentRecord, allocateSubnet: boolean): { lease: Lease; undo(): void } {
  const ip = expired.ip;
  const old = allocator.leaseOf(ip) ?? leaseFromRecord(expired);
  const key = quarantineKey(ip, epochOf(expired));
  const undo = (): void => {
    allocator.release(ip);
    allocator.release(key);
    allocator.occupy(ip, old);
  };
  allocator.release(ip);
  allocator.occupy(key, old);
  try {
    return { lease: allocator.register(ip, allocateSubnet), undo };
  } catch (e) {
    undo();
    throw e;
  }
}

export class LeaseWrites {
  private readonly sweeper: LeaseSweeper;

  constructor(
    private readonly host: LeaseHost,
    private readonly settings: LeaseSettings,
    private readonly wallNow: () => number,
  ) {
    this.sweeper = new LeaseSweeper(
      settings,
      { now: host.now, wallNow },
      {
        records: () => host.records(),
        expire: (ip) => this.expire(ip),
        reclaim: (ip) => this.reclaim(ip),
        endQuarantine: (ip, epochs) => this.endQuarantine(ip, epochs),
        failed: (ip, e) =>
          host.log(`lease sweep of agent ${ip} failed, retried at the next sweep: ${e instanceof Error ? e.message : String(e)}`),
      },
    );
    this.sweeper.start();
  }

  /** What the registration answer tells the agent. */
  get ttlSeconds(): number {
    return this.settings.ttlMs / 1000;
  }

  renew(ip: string): void {
    this.sweeper.renew(ip);
  }

  forget(ip: string): void {
    this.sweeper.forget(ip);
  }

  /** Runs one sweep now (tests). */
  sweep(): Promise<void> {
    return this.sweeper.sweep();
  }

  stop(): Promise<void> {
    return this.sweeper.stop();
  }

  private async expire(ip: string): Promise<void> {
    await this.host.lock(ip, async () => {
      const record = this.host.record(ip);
      // A renewal may have come in while the sweep waited for the lock.
      if (!record || record.expired || !this.sweeper.lapsed(ip)) return;
      const next = expiredRecord(record, this.wallNow(), this.settings);
      await this.host.commit([{ type: 'put', record: next }], () => this.host.applyPut(next));
      this.sweeper.forget(ip);
      this.host.log(
        `agent ${ip} expired (no renewal for ${this.settings.ttlMs / 1000} s); its allocation is held until ${next.expired!.until}`,
      );
    });
  }

  private async reclaim(ip: string): Promise<void> {
    await this.host.lock(ip, async () => {
      const record = this.host.record(ip);
      const until = record?.expired ? Date.parse(record.expired.until) : Number.NaN;
      if (!(until <= this.wallNow())) return;
      await this.host.commit([{ type: 'delete', ip }], () => this.host.applyDelete(ip));
    });
  }

  private async endQuarantine(ip: string, epochs: number[]): Promise<void> {
    await this.host.lock(ip, async () => {
      const record = this.host.record(ip);
      if (!record) return;
      const now = this.wallNow();
      const ended = (record.quarantine ?? []).filter((q) => epochs.includes(q.epoch) && Date.parse(q.until) <= now).map((q) => q.epoch);
      if (ended.length === 0) return;
      const next = withoutQuarantine(record, ended);
      await this.host.commit([{ type: 'put', record: next }], () => {
        this.host.applyPut(next);
        for (const epoch of ended) this.host.allocator.release(quarantineKey(ip, epoch));
      });
    });
  }
}
