// The agent's lease with the master (`vxnet master --agent-ttl`): heartbeats
// every third of the TTL with the epoch of its allocation, and the gate the
// loop passes before each pass. An agent that heard nothing from the master
// for longer than the TTL (it was frozen, or cut off) makes one renewal
// attempt first: "stale" (its lease ran out, or a newer epoch exists) means it
// withdraws its old allocation and registers again; an unreachable master
// means the data plane stays as it is (a master outage must not take the
// network down). The rules are pure functions; LeaseKeeper is the shell.

import type { AgentInfo, LeaseTerms } from '../api/types.js';
import { VxnetError } from '../errors.js';
import type { Clock } from './ports.js';

export interface HeldLease {
  epoch: number;
  /** Undefined: leases are off at the master (no heartbeats). */
  ttlMs?: number;
}

/** A registration answer split into the DC/OS AgentInfo and vxnet's lease terms. */
export function splitLeaseTerms(answer: AgentInfo & Partial<LeaseTerms>): { info: AgentInfo; lease?: HeldLease } {
  const { epoch, ttl_seconds: ttl, ...info } = answer;
  if (typeof epoch !== 'number') return { info };
  return { info, lease: { epoch, ...(typeof ttl === 'number' && ttl > 0 && { ttlMs: ttl * 1000 }) } };
}

/** Heartbeats go every third of the TTL, so two may be lost before the lease runs out. */
export const heartbeatIntervalMs = (ttlMs: number): number => Math.max(100, Math.floor(ttlMs / 3));

/** True when the agent has heard nothing from the master for longer than the TTL: it must ask before it passes again. */
export const mustAskFirst = (now: number, answeredAt: number, ttlMs: number): boolean => now - answeredAt > ttlMs;

/** A heartbeat's outcome: 404/409 from the master mean the lease is gone or stale; anything else is an outage. */
export function verdictOf(err: unknown): 'stale' | 'unreachable' {
  const status = err instanceof VxnetError ? (err.details as { status?: number } | undefined)?.status : undefined;
  return status === 404 || status === 409 ? 'stale' : 'unreachable';
}

/** The agent's own info with its allocation withdrawn: no subnets and no bridges, the VTEP kept, so a pass removes its old subnet from the host. */
export function withdrawn(info: AgentInfo): AgentInfo {
  return {
    ...info,
    overlays: info.overlays.map(({ subnet: _s, subnet6: _s6, mesos_bridge: _m, docker_bridge: _d, ...rest }) => rest),
  };
}

export type Beat = (epoch: number) => Promise<Partial<LeaseTerms> | undefined>;

export class LeaseKeeper {
  private held: HeldLease | undefined;
  /** When the last renewal that succeeded was sent (the master counts from no later than that). */
  private renewedAt = 0;
  /** When the master last answered anything (an outage's error counts: the agent is not frozen). */
  private answeredAt = 0;
  private stale = false;

  constructor(
    private readonly beat: Beat,
    private readonly clock: Clock,
    private readonly log: (message: string) => void,
  ) {}

  /** After a registration sent at `sentAt`: the new lease (or none, from an older master). */
  granted(lease: HeldLease | undefined, sentAt: number): void {
    this.held = lease;
    this.renewedAt = sentAt;
    this.answeredAt = this.clock.now();
    this.stale = false;
  }

  /** Heartbeats until `signal` aborts; `onStale` is told when the master says the lease is gone. */
  async run(signal: AbortSignal, onStale: () => void): Promise<void> {
    while (!signal.aborted) {
      const ttl = this.held?.ttlMs;
      await new Promise<void>((resolve) => {
        const cancel = this.clock.setTimer(ttl === undefined ? 1_000 : heartbeatIntervalMs(ttl), resolve);
        signal.addEventListener(
          'abort',
          () => {
            cancel();
            resolve();
          },
          { once: true },
        );
      });
      if (signal.aborted || this.held?.ttlMs === undefined || this.stale) continue;
      if ((await this.renew()) === 'stale') onStale();
    }
  }

  /** One renewal attempt. */
  async renew(): Promise<'renewed' | 'stale' | 'unreachable'> {
    const held = this.held;
    if (!held) return 'renewed';
    const sentAt = this.clock.now();
    try {
      const terms = await this.beat(held.epoch);
      this.answeredAt = this.clock.now();
      if (this.held !== held) return 'renewed'; // a registration came in meanwhile
      this.renewedAt = sentAt;
      if (terms && 'ttl_seconds' in terms)
        this.held = { ...held, ...(terms.ttl_seconds ? { ttlMs: terms.ttl_seconds * 1000 } : { ttlMs: undefined }) };
      else if (terms) this.held = { epoch: held.epoch };
      return 'renewed';
    } catch (err) {
      this.answeredAt = this.clock.now();
      if (this.held !== held) return 'renewed';
      const verdict = verdictOf(err);
      if (verdict === 'stale') {
        this.stale = true;
        this.log(`the master says this agent's lease (epoch ${held.epoch}) is gone: withdrawing its allocation and registering again`);
      }
      return verdict;
    }
  }

  /**
   * Before a pass: 'withdraw' when the lease is known to be stale, or when
   * the agent heard nothing for longer than the TTL and the one renewal
   * attempt says so; else 'pass' (also when the master is unreachable).
   */
  async gate(): Promise<'pass' | 'withdraw'> {
    const ttl = this.held?.ttlMs;
    if (this.stale) return 'withdraw';
    if (ttl === undefined || !mustAskFirst(this.clock.now(), this.answeredAt, ttl)) return 'pass';
    return (await this.renew()) === 'stale' ? 'withdraw' : 'pass';
  }

  /** For GET /overlay-agent/overlay. */
  state(): { epoch: number; ttl_seconds: number; renewed_at?: string } | undefined {
    if (!this.held || this.held.ttlMs === undefined) return undefined;
    return {
      epoch: this.held.epoch,
      ttl_seconds: this.held.ttlMs / 1000,
      ...(this.renewedAt > 0 && { renewed_at: new Date(this.renewedAt).toISOString() }),
    };
  }
}

/** Stranded containers sent in one containers report (the master refuses more). */
export const MAX_STRANDED = 256;
