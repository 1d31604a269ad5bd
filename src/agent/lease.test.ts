import { describe, expect, it } from 'vitest';
import { VxnetError } from '../errors.js';
import { FakeClock } from './fake/clock.js';
import { agent } from './fixtures.test-helpers.js';
import { heartbeatIntervalMs, LeaseKeeper, mustAskFirst, splitLeaseTerms, verdictOf, withdrawn } from './lease.js';

const answered = (status: number) => new VxnetError('PRECONDITION', `answered ${status}`, { status });

describe('lease rules', () => {
  it('splits the registration answer into the DC/OS info and the lease terms', () => {
    const info = agent(1);
    expect(splitLeaseTerms({ ...info, epoch: 3, ttl_seconds: 2 })).toEqual({ info, lease: { epoch: 3, ttlMs: 2_000 } });
    expect(splitLeaseTerms({ ...info, epoch: 1 })).toEqual({ info, lease: { epoch: 1 } });
    expect(splitLeaseTerms(info)).toEqual({ info });
  });

  it('beats every third of the TTL, and asks first after a silence longer than the TTL', () => {
    expect(heartbeatIntervalMs(300_000)).toBe(100_000);
    expect(heartbeatIntervalMs(2_000)).toBe(666);
    expect(mustAskFirst(10_000, 8_000, 2_000)).toBe(false);
    expect(mustAskFirst(10_001, 8_000, 2_000)).toBe(true);
  });

  it('reads 404 and 409 as a stale lease and everything else as an outage', () => {
    expect(verdictOf(answered(409))).toBe('stale');
    expect(verdictOf(answered(404))).toBe('stale');
    expect(verdictOf(answered(503))).toBe('unreachable');
    expect(verdictOf(new Error('ECONNREFUSED'))).toBe('unreachable');
  });

  it('a withdrawn allocation keeps the VTEP and drops subnets and bridges', () => {
    const out = withdrawn(agent(1));
    expect(out.overlays[0]!.backend).toEqual(agent(1).overlays[0]!.backend);
    expect(out.overlays[0]).not.toHaveProperty('subnet');
    expect(out.overlays[0]).not.toHaveProperty('mesos_bridge');
    expect(out.overlays[0]).not.toHaveProperty('docker_bridge');
  });
});

describe('LeaseKeeper.gate', () => {
  const keeper = (beat: (epoch: number) => Promise<{ epoch: number; ttl_seconds?: number }>) => {
    const clock = new FakeClock();
    const calls: number[] = [];
    const k = new LeaseKeeper(
      async (epoch) => {
        calls.push(epoch);
        return beat(epoch);
      },
      clock,
      () => {},
    );
    k.granted({ epoch: 2, ttlMs: 2_000 }, clock.now());
    return { k, clock, calls };
  };

  it('passes without asking while the master answered within the TTL', async () => {
    const { k, clock, calls } = keeper(async () => ({ epoch: 2, ttl_seconds: 2 }));
    clock.advance(2_000);
    expect(await k.gate()).toBe('pass');
    expect(calls).toEqual([]);
  });

  it('after a freeze longer than the TTL, asks once first: stale means withdraw, and it stays so until a registration', async () => {
    const { k, clock, calls } = keeper(async () => {
      throw answered(409);
    });
    clock.advance(5_000);
    expect(await k.gate()).toBe('withdraw');
    expect(calls).toEqual([2]);
    expect(await k.gate()).toBe('withdraw');
    k.granted({ epoch: 3, ttlMs: 2_000 }, clock.now());
    expect(await k.gate()).toBe('pass');
  });

  it('an unreachable master keeps the data plane: the pass goes on, and the next gate does not wait again', async () => {
    const { k, clock, calls } = keeper(async () => {
      throw new Error('connect ECONNREFUSED');
    });
    clock.advance(5_000);
    expect(await k.gate()).toBe('pass');
    expect(await k.gate()).toBe('pass');
    expect(calls).toHaveLength(1);
  });

  it('a renewal after the freeze lets the pass go on, and the lease stays current', async () => {
    const { k, clock } = keeper(async () => ({ epoch: 2, ttl_seconds: 2 }));
    clock.advance(5_000);
    expect(await k.gate()).toBe('pass');
    expect(k.state()).toMatchObject({ epoch: 2, ttl_seconds: 2 });
  });

  it('a heartbeat answer without ttl_seconds (leases turned off) stops the asking', async () => {
    const { k, clock, calls } = keeper(async () => ({ epoch: 2 }));
    clock.advance(5_000);
    expect(await k.gate()).toBe('pass');
    clock.advance(5_000);
    expect(await k.gate()).toBe('pass');
    expect(calls).toHaveLength(1);
    expect(k.state()).toBeUndefined();
  });
});
