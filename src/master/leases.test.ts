import { describe, expect, it } from 'vitest';
import type { AgentInfo, LeasesView } from '../api/types.js';
import { canonicalize } from '../config/canonical.js';
import type { NetworkConfig } from '../config/types.js';
import { formatDuration, parseDuration } from '../duration.js';
import { VxnetError } from '../errors.js';
import { formatCidr, formatIp } from '../net/ip.js';
import { MemoryStore } from '../store/memory/memory-store.js';
import type { AgentRecord } from '../store/store.js';
import { freshAllocation } from './lease-writes.js';
import { checkRenewal, expiredRecord, leaseSettings, planSweep, returningRecord, withoutQuarantine } from './leases.js';
import { allocatorFor, MasterService } from './service.js';
import type { WatchClient } from './watch-streams.js';

const config: NetworkConfig = {
  vtep_subnet: '198.15.0.0/29',
  vtep_mac_oui: '70:B3:D5:00:00:00',
  overlays: [{ name: 'a', subnet: '44.128.0.0/22', prefix: 24 }],
};
const all = { allocate_subnet: true, mesos_bridge: true, docker_bridge: true };

const record = (ip: string, extra: Partial<AgentRecord> = {}): AgentRecord => ({
  ip,
  seq: 1,
  networkConfig: all,
  vtepIp: '198.15.0.1',
  vtepMac: '70:b3:d5:0f:00:01',
  overlays: { a: { subnet: '44.128.0.0/24' } },
  status: {},
  containers: [],
  ...extra,
});

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    return e instanceof VxnetError ? e.code : 'other';
  }
  return undefined;
};

describe('durations and lease settings', () => {
  it.each([
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1500ms', 1_500],
    ['1.5s', 1_500],
    ['2d', 172_800_000],
  ])('%s is %d ms', (text, ms) => expect(parseDuration(text, '--agent-ttl')).toBe(ms));

  it.each(['30', '5 minutes', '-1s', '', 's', '1e3s'])('refuses %j, naming the flag, the value and the fix', (text) => {
    expect(() => parseDuration(text, '--agent-ttl')).toThrow(
      /--agent-ttl ".*" is not a duration; give a number with a unit.*e\.g\. --agent-ttl 30s/,
    );
  });

  it('is off without a TTL, and the quarantine defaults to twice the TTL', () => {
    expect(leaseSettings(undefined, undefined)).toBeUndefined();
    expect(leaseSettings('2s', undefined)).toEqual({ ttlMs: 2_000, quarantineMs: 4_000 });
    expect(leaseSettings('5m', '1h')).toEqual({ ttlMs: 300_000, quarantineMs: 3_600_000 });
    expect(leaseSettings('5m', '5m')).toEqual({ ttlMs: 300_000, quarantineMs: 300_000 });
  });

  it('refuses a quarantine shorter than the TTL, saying why, and one without a TTL', () => {
    expect(() => leaseSettings('5m', '1m')).toThrow(
      /--agent-quarantine 1m is shorter than --agent-ttl 5m: a host that froze.*give --agent-quarantine 10m or more/,
    );
    expect(() => leaseSettings(undefined, '1m')).toThrow(/needs --agent-ttl/);
    expect(() => leaseSettings('500ms', undefined)).toThrow(/shorter than 1s/);
  });

  it('formats durations back', () => {
    expect([formatDuration(600_000), formatDuration(1_500), formatDuration(7_200_000)]).toEqual(['10m', '1500ms', '2h']);
  });
});

describe('planSweep', () => {
  const settings = { ttlMs: 2_000, quarantineMs: 6_000 };
  const wallNow = Date.parse('2030-01-01T00:00:10.000Z');
  const plan = (records: AgentRecord[], renewed: Record<string, number>, now = 10_000) =>
    planSweep({ records, renewedAt: (ip) => renewed[ip], now, wallNow, settings });

  it('expires live agents whose last renewal is older than the TTL, and only those', () => {
    const p = plan([record('10.0.0.1'), record('10.0.0.2'), record('10.0.0.3'), record('10.0.0.4')], {
      '10.0.0.1': 7_999, // 2.001 s ago
      '10.0.0.2': 8_000, // exactly the TTL: not yet
      '10.0.0.3': 9_500,
    });
    expect(p.expire).toEqual(['10.0.0.1']);
    // No renewal on record (a leader counts every agent from its start): never expired by the rule.
    expect(p.reclaim).toEqual([]);
  });

  it('reclaims expired agents whose quarantine ended, keeps the others, and never expires them again', () => {
    const ended = record('10.0.0.1', { expired: { at: '2030-01-01T00:00:01.000Z', until: '2030-01-01T00:00:10.000Z' } });
    const held = record('10.0.0.2', { expired: { at: '2030-01-01T00:00:05.000Z', until: '2030-01-01T00:00:11.000Z' } });
    const garbled = record('10.0.0.3', { expired: { at: 'x', until: 'not a time' } });
    const p = plan([ended, held, garbled], { '10.0.0.1': 0, '10.0.0.2': 0, '10.0.0.3': 0 });
    expect(p).toEqual({ expire: [], reclaim: ['10.0.0.1'], endQuarantine: [] });
  });

  it('ends quarantine entries whose time came, of live and expired agents', () => {
    const q = (epoch: number, until: string) => ({
      epoch,
      vtepIp: '198.15.0.2',
      vtepMac: '70:b3:d5:0f:00:02',
      overlays: {},
      expiredAt: '2030-01-01T00:00:00.000Z',
      until,
    });
    const live = record('10.0.0.1', { epoch: 3, quarantine: [q(1, '2030-01-01T00:00:09.000Z'), q(2, '2030-01-01T00:00:11.000Z')] });
    const p = plan([live], { '10.0.0.1': 10_000 });
    expect(p.endQuarantine).toEqual([{ ip: '10.0.0.1', epochs: [1] }]);
    expect(withoutQuarantine(live, [1]).quarantine!.map((e) => e.epoch)).toEqual([2]);
    expect('quarantine' in withoutQuarantine(live, [1, 2])).toBe(false);
  });
});

describe('records and epochs', () => {
  const settings = { ttlMs: 2_000, quarantineMs: 6_000 };

  it('an expired record keeps its allocation and says until when it is held', () => {
    const r = expiredRecord(record('10.0.0.1'), Date.parse('2030-01-01T00:00:00Z'), settings);
    expect(r.expired).toEqual({ at: '2030-01-01T00:00:00.000Z', until: '2030-01-01T00:00:06.000Z' });
    expect(r.overlays).toEqual(record('10.0.0.1').overlays);
  });

  it('a returning agent gets the next epoch, a new seq, nothing reported, and its old allocation in quarantine', () => {
    const old = expiredRecord(
      record('10.0.0.1', { epoch: 2, containers: [{ id: 'c', network: 'a', ip: '44.128.0.2', interface: 'eth0' }] }),
      0,
      settings,
    );
    const fresh = record('10.0.0.1', { vtepIp: '198.15.0.2', overlays: { a: { subnet: '44.128.1.0/24' } }, epoch: 2 });
    const back = returningRecord(old as Parameters<typeof returningRecord>[0], fresh, 9);
    expect(back).toMatchObject({ epoch: 3, seq: 9, containers: [], status: {}, overlays: { a: { subnet: '44.128.1.0/24' } } });
    expect(back.expired).toBeUndefined();
    expect(back.quarantine).toEqual([
      {
        epoch: 2,
        vtepIp: '198.15.0.1',
        vtepMac: '70:b3:d5:0f:00:01',
        overlays: { a: { subnet: '44.128.0.0/24' } },
        expiredAt: old.expired!.at,
        until: old.expired!.until,
      },
    ]);
  });

  it('a heartbeat renews only the live epoch', () => {
    expect(codeOf(() => checkRenewal('10.0.0.1', record('10.0.0.1'), 1))).toBeUndefined(); // no epoch stored: 1
    expect(codeOf(() => checkRenewal('10.0.0.1', record('10.0.0.1', { epoch: 2 }), 1))).toBe('STALE_EPOCH');
    expect(codeOf(() => checkRenewal('10.0.0.1', expiredRecord(record('10.0.0.1'), 0, settings), 1))).toBe('STALE_EPOCH');
    expect(codeOf(() => checkRenewal('10.0.0.1', undefined, 1))).toBe('NOT_FOUND');
  });
});

describe('the allocator and quarantined leases', () => {
  const canonical = canonicalize(config);
  const quarantined = record('10.0.0.1', {
    epoch: 2,
    vtepIp: '198.15.0.2',
    vtepMac: '70:b3:d5:0f:00:02',
    overlays: { a: { subnet: '44.128.1.0/24' } },
    quarantine: [
      {
        epoch: 1,
        vtepIp: '198.15.0.1',
        vtepMac: '70:b3:d5:0f:00:01',
        overlays: { a: { subnet: '44.128.0.0/24' } },
        expiredAt: 'x',
        until: 'y',
      },
    ],
  });

  it('allocatorFor holds quarantined leases too: a new agent gets neither the old nor the new blocks', () => {
    const allocator = allocatorFor(canonical, [quarantined]);
    const lease = allocator.register('10.0.0.9', true);
    expect(formatCidr(lease.overlays.a!.subnet!)).toBe('44.128.2.0/24');
    expect(formatIp(lease.vtepIp)).toBe('198.15.0.3');
    const usage = allocator.usage().find((u) => u.kind === 'overlay')!;
    expect(usage.used).toBe(3);
  });

  it('allocatorFor refuses a quarantined block another agent holds (the store is inconsistent)', () => {
    const other = record('10.0.0.5', { vtepIp: '198.15.0.3', vtepMac: '70:b3:d5:0f:00:03', overlays: { a: { subnet: '44.128.0.0/24' } } });
    expect(codeOf(() => allocatorFor(canonical, [quarantined, other]))).toBe('RECONCILE_REFUSED');
  });

  it('a fresh allocation skips the quarantined blocks, lowest free first among the rest; undo restores the old lease', () => {
    const first = record('10.0.0.1'); // 44.128.0.0/24, vtep .1
    const second = record('10.0.0.2', { vtepIp: '198.15.0.2', vtepMac: '70:b3:d5:0f:00:02', overlays: { a: { subnet: '44.128.1.0/24' } } });
    const allocator = allocatorFor(canonical, [first, second]);
    const fresh = freshAllocation(allocator, first, true);
    // Neither its own old /24 (quarantined) nor 44.128.1.0/24 (another agent's): the lowest free one.
    expect(formatCidr(fresh.lease.overlays.a!.subnet!)).toBe('44.128.2.0/24');
    expect(formatIp(fresh.lease.vtepIp)).toBe('198.15.0.3');
    expect(allocator.usage().find((u) => u.kind === 'vtep')!.used).toBe(3);
    fresh.undo();
    expect(allocator.usage().find((u) => u.kind === 'vtep')!.used).toBe(2);
    expect(formatCidr(allocator.leaseOf('10.0.0.1')!.overlays.a!.subnet!)).toBe('44.128.0.0/24');
  });
});

describe('MasterService with leases', () => {
  const clocks = () => {
    const c = { mono: 0, wall: Date.parse('2030-01-01T00:00:00Z') };
    return {
      c,
      options: { storeArgs: '--data /d', leases: { ttlMs: 2_000, quarantineMs: 6_000 }, now: () => c.mono, wallNow: () => c.wall },
    };
  };
  const frames = () => {
    const list: string[] = [];
    const client: WatchClient = { write: (f) => list.push(String(f)) > 0, pendingBytes: 0, close: () => {}, destroy: () => {} };
    return { list, client };
  };

  it('expires a silent agent out of /state (delete + expired frames), quarantines it, and gives it a fresh allocation when it returns', async () => {
    const store = new MemoryStore();
    const { c, options } = clocks();
    const svc = await MasterService.start(store, config, options);
    try {
      const first = JSON.parse(await svc.register({ ip: '10.0.0.1', networkConfig: all })) as AgentInfo & {
        epoch: number;
        ttl_seconds: number;
      };
      expect(first.epoch).toBe(1);
      expect(first.ttl_seconds).toBe(2);
      await svc.register({ ip: '10.0.0.2', networkConfig: all });
      const watch = frames();
      svc.reads.subscribe(watch.client, svc.revision);

      c.mono = 1_500;
      expect(await svc.heartbeat('10.0.0.2', 1)).toBe('{"epoch":1,"ttl_seconds":2}');
      c.mono = 2_500; // 10.0.0.1: 2.5 s silent; 10.0.0.2: renewed 1 s ago
      c.wall += 2_500;
      await svc.sweepLeases();
      expect(svc.reads.state().agents.map((a) => a.ip)).toEqual(['10.0.0.2']);
      expect(svc.reads.agentText('10.0.0.1')).toBeUndefined();
      expect(watch.list.map((f) => /event: (\w+)/.exec(f)![1])).toEqual(['delete', 'expired']);
      const view: LeasesView = svc.reads.leases();
      expect(view.held).toMatchObject([{ ip: '10.0.0.1', epoch: 1, kind: 'expired', overlays: { a: { subnet: '44.128.0.0/24' } } }]);
      await expect(svc.heartbeat('10.0.0.1', 1)).rejects.toMatchObject({ code: 'STALE_EPOCH' });
      await expect(svc.reportStatus('10.0.0.1', { overlays: [] })).rejects.toMatchObject({ code: 'STALE_EPOCH' });

      // A third agent never gets the quarantined blocks.
      const third = JSON.parse(await svc.register({ ip: '10.0.0.3', networkConfig: all })) as AgentInfo;
      expect(third.overlays[0]!.subnet).toBe('44.128.2.0/24');

      // The host comes back: a fresh allocation, the next epoch; the old one stays held.
      const back = JSON.parse(await svc.register({ ip: '10.0.0.1', networkConfig: all })) as AgentInfo & { epoch: number };
      expect(back.epoch).toBe(2);
      expect(back.overlays[0]!.subnet).toBe('44.128.3.0/24');
      expect(svc.reads.state().agents.map((a) => a.ip)).toEqual(['10.0.0.2', '10.0.0.3', '10.0.0.1']);
      expect(svc.reads.leases().held).toMatchObject([{ ip: '10.0.0.1', epoch: 1, kind: 'quarantined' }]);
      await expect(svc.heartbeat('10.0.0.1', 1)).rejects.toMatchObject({ code: 'STALE_EPOCH' });
      expect(await svc.heartbeat('10.0.0.1', 2)).toContain('"epoch":2');

      // After the quarantine the old blocks are free again, lowest first.
      c.wall += 6_001;
      c.mono = 2_600;
      await svc.sweepLeases();
      expect(svc.reads.leases().held).toEqual([]);
      await svc.deleteAgents(['10.0.0.3']);
      const fourth = JSON.parse(await svc.register({ ip: '10.0.0.4', networkConfig: all })) as AgentInfo;
      expect(fourth.overlays[0]!.subnet).toBe('44.128.0.0/24');
    } finally {
      await svc.close();
    }
  });

  it('reclaims an expired agent after its quarantine, and a restarted master holds what the store says', async () => {
    const store = new MemoryStore();
    const { c, options } = clocks();
    const svc = await MasterService.start(store, config, options);
    await svc.register({ ip: '10.0.0.1', networkConfig: all });
    c.mono = 2_001;
    await svc.sweepLeases();
    expect((await store.snapshot()).agents[0]!.expired).toBeDefined();
    await svc.close();

    // A new leader counts every live agent as renewed at its start; the expired one stays held.
    const again = await MasterService.start(store, config, options);
    try {
      const other = JSON.parse(await again.register({ ip: '10.0.0.2', networkConfig: all })) as AgentInfo;
      expect(other.overlays[0]!.subnet).toBe('44.128.1.0/24');
      c.wall += 6_000;
      await again.sweepLeases();
      expect((await store.snapshot()).agents.map((a) => a.ip)).toEqual(['10.0.0.2']);
      const third = JSON.parse(await again.register({ ip: '10.0.0.3', networkConfig: all })) as AgentInfo;
      expect(third.overlays[0]!.subnet).toBe('44.128.0.0/24');
    } finally {
      await again.close();
    }
  });

  it('keeps stranded containers as reported, outside the allocation checks', async () => {
    const svc = await MasterService.start(new MemoryStore(), config, { storeArgs: '--data /d' });
    try {
      await svc.register({ ip: '10.0.0.1', networkConfig: all });
      const stray = { id: 'old', network: 'a', ip: '44.128.3.7', interface: 'eth0' };
      await svc.reportContainers('10.0.0.1', { containers: [], stranded: [stray] });
      expect(svc.reads.leases().stranded).toEqual([{ agent: '10.0.0.1', ...stray }]);
      // Leases off: the registration answer is the DC/OS AgentInfo alone; a heartbeat is still checked.
      const answer = JSON.parse(await svc.register({ ip: '10.0.0.1', networkConfig: all })) as { epoch?: number; ttl_seconds?: number };
      expect(answer.epoch).toBeUndefined();
      expect(answer.ttl_seconds).toBeUndefined();
      expect(await svc.heartbeat('10.0.0.1', 1)).toBe('{"epoch":1}');
    } finally {
      await svc.close();
    }
  });
});
