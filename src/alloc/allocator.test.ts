import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalize } from '../config/canonical.js';
import type { NetworkConfig } from '../config/types.js';
import { VxnetError } from '../errors.js';
import { containsCidr, formatIpWithLength, halves, formatCidr, mustCidr, overlaps } from '../net/ip.js';
import type { AgentRecord } from '../store/store.js';
import { Allocator } from './allocator.js';
import { allocationOf, leaseFromRecord } from './lease-record.js';

const SEED_EXAMPLE: NetworkConfig = {
  vtep_subnet: '198.15.0.0/20',
  vtep_mac_oui: '70:B3:D5:00:00:00',
  overlays: [{ name: 'dcos', subnet: '44.128.0.0/16', prefix: 24 }],
};
const TWO_OVERLAYS: NetworkConfig = {
  vtep_subnet: '198.15.0.0/20',
  vtep_mac_oui: '70:B3:D5:00:00:00',
  overlays: [
    { name: 'dcos-1', subnet: '192.168.0.0/23', prefix: 24 },
    { name: 'dcos-2', subnet: '192.168.128.0/17', prefix: 24 },
  ],
};
const DUAL_STACK: NetworkConfig = {
  vtep_subnet: '198.15.0.0/20',
  vtep_subnet6: 'fd03::/64',
  vtep_mac_oui: '70:B3:D5:00:00:00',
  overlays: [
    { name: 'dual', subnet: '44.128.0.0/16', prefix: 24, subnet6: 'fd01:0:0:ff00::/56', prefix6: 64 },
    { name: 'six', subnet6: 'fd02::/48', prefix6: 64 },
  ],
};

type Allocation = ReturnType<typeof allocationOf>;
const allocator = (config: NetworkConfig) => new Allocator(canonicalize(config));
/** Registers and shows the lease as the record's text, which is easier to read in expectations. */
const reg = (a: Allocator, ip: string, allocateSubnet = true): Allocation => allocationOf(a.register(ip, allocateSubnet));
/** Reserves a lease given as record text. */
const occupy = (a: Allocator, ip: string, allocation: Allocation): void => a.occupy(ip, leaseFromRecord(record(ip, allocation)));
const record = (ip: string, allocation: Allocation): AgentRecord => ({
  ip,
  seq: 1,
  networkConfig: { allocate_subnet: true, mesos_bridge: true, docker_bridge: true },
  ...allocation,
  status: {},
  containers: [],
});
const used = (a: Allocator, name: string, family = 4) => a.usage().find((u) => u.name === name && u.family === family)?.used;
const refusal = (fn: () => unknown): VxnetError => {
  try {
    fn();
  } catch (e) {
    if (e instanceof VxnetError) return e;
    throw e;
  }
  throw new Error('expected a VxnetError');
};

describe("the seed's example", () => {
  it('agents 10.10.0.120, .118, .119 get the VTEPs, MACs and subnets the seed shows', () => {
    const a = allocator(SEED_EXAMPLE);
    const leases = ['10.10.0.120', '10.10.0.118', '10.10.0.119'].map((ip) => a.register(ip, true));
    expect(leases.map((l) => [formatIpWithLength(l.vtepIp, 20), l.vtepMac, formatCidr(l.overlays.dcos!.subnet!)])).toEqual([
      ['198.15.0.1/20', '70:b3:d5:0f:00:01', '44.128.0.0/24'],
      ['198.15.0.2/20', '70:b3:d5:0f:00:02', '44.128.1.0/24'],
      ['198.15.0.3/20', '70:b3:d5:0f:00:03', '44.128.2.0/24'],
    ]);
    expect(halves(leases[1]!.overlays.dcos!.subnet!).map(formatCidr)).toEqual(['44.128.1.0/25', '44.128.1.128/25']);
    expect(a.leaseOf('10.10.0.118')).toEqual(leases[1]);
  });
});

describe('register', () => {
  it('registering again returns the same lease and reserves nothing more', () => {
    const a = allocator(TWO_OVERLAYS);
    const first = a.register('10.0.0.1', true);
    a.register('10.0.0.2', true);
    const before = a.usage();
    expect(a.register('10.0.0.1', true)).toEqual(first);
    expect(a.usage()).toEqual(before);
  });

  it('an agent released and registered again gets identical values while they are free', () => {
    const a = allocator(TWO_OVERLAYS);
    reg(a, '10.0.0.1');
    const second = reg(a, '10.0.0.2');
    reg(a, '10.0.0.3');
    a.release('10.0.0.2');
    expect(a.leaseOf('10.0.0.2')).toBeUndefined();
    expect(reg(a, '10.0.0.2')).toEqual(second);
  });

  it('allocates IPv6 VTEPs from ::1 and IPv6 subnets lowest first, next to IPv4 ones', () => {
    const a = allocator(DUAL_STACK);
    const [one, two] = [reg(a, '10.0.0.1'), reg(a, '10.0.0.2')];
    expect([one.vtepIp6, two.vtepIp6]).toEqual(['fd03::1', 'fd03::2']);
    expect(one.overlays).toEqual({
      dual: { subnet: '44.128.0.0/24', subnet6: 'fd01:0:0:ff00::/64' },
      six: { subnet6: 'fd02::/64' },
    });
    expect(two.overlays.dual).toEqual({ subnet: '44.128.1.0/24', subnet6: 'fd01:0:0:ff01::/64' });
    expect(two.overlays.six).toEqual({ subnet6: 'fd02:0:0:1::/64' });
  });

  it('a dual-stack agent keeps its IPv6 VTEP and subnets when it registers again, also after recovery', () => {
    const a = allocator(DUAL_STACK);
    reg(a, '10.0.0.1');
    const stored = reg(a, '10.0.0.2');
    const before = a.usage();
    expect(reg(a, '10.0.0.2')).toEqual(stored);
    const b = allocator(DUAL_STACK);
    occupy(b, '10.0.0.2', stored);
    expect(reg(b, '10.0.0.2')).toEqual(stored);
    expect(a.usage()).toEqual(before);
  });

  it('without allocate_subnet, the agent gets a VTEP and no subnet', () => {
    const a = allocator(TWO_OVERLAYS);
    const master = reg(a, '10.0.0.9', false);
    expect(master.vtepIp).toBe('198.15.0.1');
    expect(master.overlays).toEqual({ 'dcos-1': {}, 'dcos-2': {} });
    expect(used(a, 'dcos-1')).toBe(0);
    expect(reg(a, '10.0.0.1').overlays['dcos-1']).toEqual({ subnet: '192.168.0.0/24' });
  });

  it('turning allocate_subnet off on re-registration releases the subnets', () => {
    const a = allocator(TWO_OVERLAYS);
    const stored = reg(a, '10.0.0.1');
    const off = reg(a, '10.0.0.1', false);
    expect(off.overlays).toEqual({ 'dcos-1': {}, 'dcos-2': {} });
    expect(off.vtepIp).toBe(stored.vtepIp);
    expect([used(a, 'dcos-1'), used(a, 'dcos-2')]).toEqual([0, 0]);
    expect(reg(a, '10.0.0.2').overlays['dcos-2']).toEqual({ subnet: '192.168.128.0/24' });
  });
});

describe('exhaustion', () => {
  it('no free VTEP address: POOL_EXHAUSTED saying so, with nothing reserved', () => {
    const a = allocator({ ...TWO_OVERLAYS, vtep_subnet: '10.0.0.0/30' });
    reg(a, '10.1.0.1');
    reg(a, '10.1.0.2');
    const before = a.usage();
    const e = refusal(() => a.register('10.1.0.3', true));
    expect(e.code).toBe('POOL_EXHAUSTED');
    expect(e.message).toMatch(
      /^no free VTEP address left in the IPv4 VTEP pool vtep_subnet 10\.0\.0\.0\/30 \(2 of 2 held by agents\); delete agents that left the cluster \(POST \/overlay-master\/agents\/delete\), or run the master with --agent-ttl so dead agents expire; a wider vtep_subnet takes effect only once every agent is deleted$/,
    );
    expect(a.usage()).toEqual(before);
    expect(a.leaseOf('10.1.0.3')).toBeUndefined();
    a.release('10.1.0.1');
    expect(reg(a, '10.1.0.3').overlays['dcos-1']).toEqual({ subnet: '192.168.0.0/24' });
  });

  it('a full overlay fails only that overlay for that agent; it fills in on re-registration once there is room', () => {
    const a = allocator(TWO_OVERLAYS);
    reg(a, '10.0.0.1');
    reg(a, '10.0.0.2');
    const third = reg(a, '10.0.0.3');
    expect(third.overlays).toEqual({
      'dcos-1': {
        error:
          'no free /24 left in overlay dcos-1 (IPv4 192.168.0.0/23: 2 of 2 held by agents); delete agents that left the cluster ' +
          '(POST /overlay-master/agents/delete), or run the master with --agent-ttl so dead agents expire; a bigger subnet or a longer ' +
          'prefix takes effect only once no agent holds a subnet of dcos-1 (or add another overlay)',
      },
      'dcos-2': { subnet: '192.168.130.0/24' },
    });
    a.release('10.0.0.1');
    const retried = reg(a, '10.0.0.3');
    expect(retried.overlays).toEqual({ 'dcos-1': { subnet: '192.168.0.0/24' }, 'dcos-2': { subnet: '192.168.130.0/24' } });
    expect(retried.vtepIp).toBe(third.vtepIp);
  });

  it('an IPv6 half that is full is reported while the IPv4 half is kept', () => {
    const a = allocator({
      ...DUAL_STACK,
      overlays: [{ name: 'dual', subnet: '44.128.0.0/16', prefix: 24, subnet6: 'fd01::/64', prefix6: 64 }],
    });
    reg(a, '10.0.0.1');
    expect(reg(a, '10.0.0.2').overlays.dual).toEqual({
      subnet: '44.128.1.0/24',
      error: expect.stringMatching(
        /^no free \/64 left in overlay dual \(IPv6 fd01::\/64: 1 of 1 held by agents\); .* a bigger subnet6 or a longer prefix6 /,
      ),
    });
  });
});

describe('config changes between runs', () => {
  it('an overlay added to the config is filled in when an existing agent registers again', () => {
    const stored = reg(allocator(SEED_EXAMPLE), '10.0.0.1');
    const a = allocator({ ...SEED_EXAMPLE, overlays: [...SEED_EXAMPLE.overlays, { name: 'new', subnet: '9.0.0.0/8', prefix: 24 }] });
    occupy(a, '10.0.0.1', stored);
    expect(reg(a, '10.0.0.1').overlays).toEqual({ dcos: stored.overlays.dcos, new: { subnet: '9.0.0.0/24' } });
  });

  it('a disabled overlay gets no new allocations but keeps existing ones reserved', () => {
    const stored = reg(allocator(TWO_OVERLAYS), '10.0.0.1');
    const a = allocator({
      ...TWO_OVERLAYS,
      overlays: TWO_OVERLAYS.overlays.map((o) => (o.name === 'dcos-2' ? { ...o, enabled: false } : o)),
    });
    occupy(a, '10.0.0.1', stored);
    expect(used(a, 'dcos-2')).toBe(1);
    expect(reg(a, '10.0.0.1').overlays['dcos-2']).toEqual(stored.overlays['dcos-2']);
    expect(Object.keys(reg(a, '10.0.0.2').overlays)).toEqual(['dcos-1']);
    expect(used(a, 'dcos-2')).toBe(1);
    expect(a.usage().find((u) => u.name === 'dcos-2')).toMatchObject({ enabled: false, total: 128 });
  });
});

describe('occupy', () => {
  it('reserves stored leases so new agents skip them, and is idempotent', () => {
    const original = allocator(SEED_EXAMPLE);
    const leases = ['10.0.0.1', '10.0.0.2', '10.0.0.3'].map((ip) => reg(original, ip));
    const b = allocator(SEED_EXAMPLE);
    occupy(b, '10.0.0.3', leases[2]!);
    occupy(b, '10.0.0.1', leases[0]!);
    occupy(b, '10.0.0.1', leases[0]!);
    expect(used(b, 'dcos')).toBe(2);
    const newcomer = reg(b, '10.0.0.4');
    expect([newcomer.vtepIp, newcomer.overlays.dcos?.subnet]).toEqual(['198.15.0.2', '44.128.1.0/24']);
  });

  it('a newer lease of the same agent replaces what it held before', () => {
    const a = allocator(TWO_OVERLAYS);
    const stored = reg(a, '10.0.0.1');
    occupy(a, '10.0.0.1', { ...stored, overlays: { 'dcos-1': stored.overlays['dcos-1']! } });
    expect(used(a, 'dcos-2')).toBe(0);
    expect(reg(a, '10.0.0.2').overlays['dcos-2']).toEqual({ subnet: '192.168.128.0/24' });
  });

  it('leaseOf gives back exactly what is held: listed overlays with and without subnets, an error, and IPv6 indices past 2^53', () => {
    const a = allocator({ ...DUAL_STACK, overlays: [...DUAL_STACK.overlays, { name: 'off', subnet: '45.0.0.0/16', prefix: 24 }] });
    const stored: Allocation = {
      vtepIp: '198.15.0.9',
      // Index 2^64 - 17 of fd03::/64: no number can hold it.
      vtepIp6: 'fd03::ffff:ffff:ffff:fff0',
      vtepMac: '70:b3:d5:0f:00:09',
      overlays: { dual: { subnet: '44.128.7.0/24', error: 'no free /64 left in overlay dual' }, six: {} },
    };
    occupy(a, '10.0.0.1', stored);
    expect(allocationOf(a.leaseOf('10.0.0.1')!)).toEqual(stored);
    expect([used(a, 'vtep', 6), used(a, 'dual'), used(a, 'six', 6), used(a, 'off')]).toEqual([1, 1, 0, 0]);
    // Registering again keeps every block and fills the gaps lowest first.
    expect(reg(a, '10.0.0.1').overlays).toEqual({
      dual: { subnet: '44.128.7.0/24', subnet6: 'fd01:0:0:ff00::/64' },
      six: { subnet6: 'fd02::/64' },
      off: { subnet: '45.0.0.0/24' },
    });
    expect(reg(a, '10.0.0.1').vtepIp6).toBe('fd03::ffff:ffff:ffff:fff0');
    a.release('10.0.0.1');
    expect(a.leaseOf('10.0.0.1')).toBeUndefined();
    expect(a.usage().map((u) => u.used)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(reg(a, '10.0.0.2').vtepIp6).toBe('fd03::1');
  });

  const base = (): { a: Allocator; victim: Allocation } => {
    const a = allocator(SEED_EXAMPLE);
    const other = reg(a, '10.0.0.1');
    return { a, victim: { ...other, vtepIp: '198.15.0.2', vtepMac: '70:b3:d5:0f:00:02', overlays: { dcos: { subnet: '44.128.1.0/24' } } } };
  };
  it.each([
    {
      description: 'a subnet outside the overlay',
      change: { overlays: { dcos: { subnet: '10.9.0.0/24' } } },
      says: ['agent 10.0.0.2', 'subnet "10.9.0.0/24" in overlay dcos', 'lies outside 44.128.0.0/16'],
    },
    {
      description: 'a subnet of another prefix',
      change: { overlays: { dcos: { subnet: '44.128.4.0/23' } } },
      says: ['agent 10.0.0.2', 'overlay dcos', 'is a /23, not a /24 block', 'restore overlay dcos'],
    },
    {
      description: 'a subnet with host bits',
      change: { overlays: { dcos: { subnet: '44.128.4.1/24' } } },
      says: ['"44.128.4.1/24"', 'host bits'],
    },
    {
      description: 'a subnet that is no CIDR',
      change: { overlays: { dcos: { subnet: '44.128.4/24' } } },
      says: ['"44.128.4/24"', 'is not a CIDR'],
    },
    {
      description: 'a subnet another agent holds',
      change: { overlays: { dcos: { subnet: '44.128.0.0/24' } } },
      says: ['agent 10.0.0.2', 'subnet "44.128.0.0/24" in overlay dcos', 'agent 10.0.0.1 holds too'],
    },
    {
      description: 'an overlay missing from the config',
      change: { overlays: { gone: { subnet: '44.128.9.0/24' } } },
      says: ['overlay gone', 'not in the config', 'vxnet network delete gone --data DIR'],
    },
    {
      description: 'an IPv6 subnet where none is configured',
      change: { overlays: { dcos: { subnet6: 'fd00::/64' } } },
      says: ['overlay dcos', 'has no subnet6 configured'],
    },
    {
      description: 'a VTEP address outside vtep_subnet',
      change: { vtepIp: '10.0.0.5', vtepMac: '70:b3:d5:00:00:05' },
      says: ['VTEP address "10.0.0.5"', 'vtep_subnet 198.15.0.0/20'],
    },
    {
      description: 'a VTEP address that is no address',
      change: { vtepIp: '198.15.0.300' },
      says: ['VTEP address "198.15.0.300"', 'not an IP address'],
    },
    {
      description: 'a VTEP address another agent holds',
      change: { vtepIp: '198.15.0.1', vtepMac: '70:b3:d5:0f:00:01' },
      says: ['VTEP address 198.15.0.1', 'agent 10.0.0.1 holds too'],
    },
    {
      description: 'a MAC the OUI does not give',
      change: { vtepMac: '00:11:22:0f:00:02' },
      says: ['VTEP MAC 00:11:22:0f:00:02', '70:b3:d5:0f:00:02'],
    },
    {
      description: 'an IPv6 VTEP with no vtep_subnet6',
      change: { vtepIp6: 'fd03::2' },
      says: ['"fd03::2"', 'no vtep_subnet6 is configured'],
    },
  ])('refuses $description with RECONCILE_REFUSED, reserving nothing', ({ change, says }) => {
    const { a, victim } = base();
    const before = a.usage();
    const e = refusal(() => occupy(a, '10.0.0.2', { ...victim, ...change } as Allocation));
    expect(e.code).toBe('RECONCILE_REFUSED');
    for (const text of says) expect(e.message).toContain(text);
    expect(a.usage()).toEqual(before);
    expect(a.leaseOf('10.0.0.2')).toBeUndefined();
    expect(reg(a, '10.0.0.3').overlays.dcos).toEqual({ subnet: '44.128.1.0/24' });
  });
});

describe('any sequence of registrations and deletions', () => {
  it('keeps subnets and VTEPs unique, inside their parents, counted, and lowest free first', () => {
    const config: NetworkConfig = {
      vtep_subnet: '198.15.0.0/27',
      vtep_mac_oui: '70:B3:D5:00:00:00',
      overlays: [
        { name: 'a', subnet: '10.0.0.0/20', prefix: 24 },
        { name: 'b', subnet6: 'fd00:0:0:fff8::/61', prefix6: 64 },
      ],
    };
    const op = fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 24 }));
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const a = allocator(config);
        const live = new Map<string, Allocation>();
        for (const [add, n] of ops) {
          const ip = `10.200.0.${n}`;
          if (add) {
            const heldA = [...live.values()].map((r) => r.overlays.a?.subnet);
            const expectA = Array.from({ length: 16 }, (_, i) => `10.0.${i}.0/24`).find((s) => !heldA.includes(s));
            const r = reg(a, ip);
            if (!live.has(ip)) expect(r.overlays.a?.subnet).toBe(expectA);
            else expect(r).toEqual(live.get(ip));
            live.set(ip, r);
          } else if (live.has(ip)) {
            a.release(ip);
            live.delete(ip);
          }
        }
        const records = [...live.values()];
        expect(new Set(records.map((r) => r.vtepIp)).size).toBe(records.length);
        for (const [name, key, parent] of [
          ['a', 'subnet', '10.0.0.0/20'],
          ['b', 'subnet6', 'fd00:0:0:fff8::/61'],
        ] as const) {
          const subnets = records.flatMap((r) => (r.overlays[name]?.[key] ? [mustCidr(r.overlays[name]![key]!)] : []));
          expect(used(a, name, key === 'subnet' ? 4 : 6)).toBe(subnets.length);
          subnets.forEach((s, i) => {
            expect(containsCidr(mustCidr(parent), s)).toBe(true);
            for (const t of subnets.slice(i + 1)) expect(overlaps(s, t)).toBe(false);
          });
        }
      }),
      { numRuns: 60 },
    );
  });
});
