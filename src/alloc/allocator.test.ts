import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AgentNetworkConfig } from '../api/types.js';
import type { NetworkConfig } from '../config/types.js';
import { VxnetError } from '../errors.js';
import { containsCidr, mustCidr, overlaps } from '../net/ip.js';
import type { AgentRecord } from '../store/store.js';
import { Allocator, bridgeHalves, vtepWithLength } from './allocator.js';

const ALL_ON: AgentNetworkConfig = { allocate_subnet: true, mesos_bridge: true, docker_bridge: true };
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

let seq = 0;
const req = (ip: string, networkConfig: AgentNetworkConfig = ALL_ON) => ({ ip, networkConfig, seq: ++seq });
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
    const a = new Allocator(SEED_EXAMPLE);
    const got = ['10.10.0.120', '10.10.0.118', '10.10.0.119'].map((ip) => a.register(req(ip)));
    expect(got.map((r) => [r.ip, vtepWithLength(r.vtepIp, SEED_EXAMPLE.vtep_subnet), r.vtepMac, r.overlays.dcos?.subnet])).toEqual([
      ['10.10.0.120', '198.15.0.1/20', '70:b3:d5:0f:00:01', '44.128.0.0/24'],
      ['10.10.0.118', '198.15.0.2/20', '70:b3:d5:0f:00:02', '44.128.1.0/24'],
      ['10.10.0.119', '198.15.0.3/20', '70:b3:d5:0f:00:03', '44.128.2.0/24'],
    ]);
    expect(bridgeHalves(got[1]!.overlays.dcos!.subnet!)).toEqual({ mesos: '44.128.1.0/25', docker: '44.128.1.128/25' });
  });

  it('bridge halves work for IPv6 agent subnets too', () => {
    expect(bridgeHalves('fd01:0:0:ff00::/64')).toEqual({ mesos: 'fd01:0:0:ff00::/65', docker: 'fd01:0:0:ff00:8000::/65' });
  });
});

describe('register', () => {
  it('re-registering with the stored record returns the same values and reserves nothing more', () => {
    const a = new Allocator(TWO_OVERLAYS);
    const first = a.register(req('10.0.0.1'));
    a.register(req('10.0.0.2'));
    const before = a.usage();
    const again = a.register({ ip: '10.0.0.1', networkConfig: ALL_ON, seq: 99 }, first);
    expect(again).toEqual(first);
    expect(a.usage()).toEqual(before);
  });

  it('re-registering without the stored record still returns the values the agent holds', () => {
    const a = new Allocator(TWO_OVERLAYS);
    a.register(req('10.0.0.1'));
    const second = a.register(req('10.0.0.2'));
    const again = a.register(req('10.0.0.2'));
    expect({ ...again, seq: second.seq }).toEqual(second);
  });

  it('an agent deleted and registered again gets identical values while they are free', () => {
    const a = new Allocator(TWO_OVERLAYS);
    a.register(req('10.0.0.1'));
    const second = a.register(req('10.0.0.2'));
    a.register(req('10.0.0.3'));
    a.release(second);
    const back = a.register(req('10.0.0.2'));
    expect({ ...back, seq: second.seq }).toEqual(second);
  });

  it('does not mutate the existing record and keeps its seq, status and containers', () => {
    const a = new Allocator(TWO_OVERLAYS);
    const stored: AgentRecord = {
      ...a.register(req('10.0.0.1')),
      status: { 'dcos-1': { status: 'STATUS_OK' } },
      containers: [{ id: 'c1', network: 'dcos-1', ip: '192.168.0.2', interface: 'eth0' }],
    };
    const frozen = structuredClone(stored);
    const next = a.register({ ip: '10.0.0.1', networkConfig: { ...ALL_ON, docker_bridge: false }, seq: 42 }, stored);
    expect(stored).toEqual(frozen);
    expect(next.seq).toBe(stored.seq);
    expect(next.status).toEqual(stored.status);
    expect(next.containers).toEqual(stored.containers);
    expect(next.networkConfig).toEqual({ ...ALL_ON, docker_bridge: false });
    expect(next.status).not.toBe(stored.status);
  });

  it('allocates IPv6 VTEPs from ::1 and IPv6 subnets lowest first, next to IPv4 ones', () => {
    const a = new Allocator(DUAL_STACK);
    const [one, two] = [a.register(req('10.0.0.1')), a.register(req('10.0.0.2'))];
    expect([one.vtepIp6, two.vtepIp6]).toEqual(['fd03::1', 'fd03::2']);
    expect(one.overlays).toEqual({
      dual: { subnet: '44.128.0.0/24', subnet6: 'fd01:0:0:ff00::/64' },
      six: { subnet6: 'fd02::/64' },
    });
    expect(two.overlays.dual).toEqual({ subnet: '44.128.1.0/24', subnet6: 'fd01:0:0:ff01::/64' });
    expect(two.overlays.six).toEqual({ subnet6: 'fd02:0:0:1::/64' });
  });

  it('re-registering a dual-stack agent keeps its IPv6 VTEP and subnets, with or without the stored record', () => {
    const a = new Allocator(DUAL_STACK);
    a.register(req('10.0.0.1'));
    const stored = a.register(req('10.0.0.2'));
    const before = a.usage();
    expect(a.register(req('10.0.0.2'), stored)).toEqual(stored);
    expect({ ...a.register(req('10.0.0.2')), seq: stored.seq }).toEqual(stored);
    expect(a.usage()).toEqual(before);
  });

  it('with allocate_subnet false, the agent gets a VTEP and no subnet', () => {
    const a = new Allocator(TWO_OVERLAYS);
    const master = a.register(req('10.0.0.9', { allocate_subnet: false, mesos_bridge: false, docker_bridge: false }));
    expect(master.vtepIp).toBe('198.15.0.1');
    expect(master.overlays).toEqual({ 'dcos-1': {}, 'dcos-2': {} });
    expect(used(a, 'dcos-1')).toBe(0);
    expect(a.register(req('10.0.0.1')).overlays['dcos-1']).toEqual({ subnet: '192.168.0.0/24' });
  });

  it('turning allocate_subnet off on re-registration releases the subnets', () => {
    const a = new Allocator(TWO_OVERLAYS);
    const stored = a.register(req('10.0.0.1'));
    const off = a.register({ ...req('10.0.0.1'), networkConfig: { ...ALL_ON, allocate_subnet: false } }, stored);
    expect(off.overlays).toEqual({ 'dcos-1': {}, 'dcos-2': {} });
    expect(off.vtepIp).toBe(stored.vtepIp);
    expect([used(a, 'dcos-1'), used(a, 'dcos-2')]).toEqual([0, 0]);
    expect(a.register(req('10.0.0.2')).overlays['dcos-2']).toEqual({ subnet: '192.168.128.0/24' });
  });

  it('the bridge switches are kept in the record but do not change what is allocated', () => {
    const a = new Allocator(TWO_OVERLAYS);
    const r = a.register(req('10.0.0.1', { allocate_subnet: true, mesos_bridge: false, docker_bridge: true }));
    expect(r.networkConfig).toEqual({ allocate_subnet: true, mesos_bridge: false, docker_bridge: true });
    expect(r.overlays['dcos-1']).toEqual({ subnet: '192.168.0.0/24' });
  });
});

describe('exhaustion', () => {
  it('no free VTEP address: POOL_EXHAUSTED saying so, with nothing reserved', () => {
    const a = new Allocator({ ...TWO_OVERLAYS, vtep_subnet: '10.0.0.0/30' });
    const first = a.register(req('10.1.0.1'));
    a.register(req('10.1.0.2'));
    const before = a.usage();
    const e = refusal(() => a.register(req('10.1.0.3')));
    expect(e.code).toBe('POOL_EXHAUSTED');
    expect(e.message).toMatch(/^no free VTEP address left in vtep_subnet 10\.0\.0\.0\/30 \(2 of 2 in use\); delete agents that left the cluster \(POST \/overlay-master\/agents\/delete\); a wider vtep_subnet takes effect only once every agent is deleted$/);
    expect(a.usage()).toEqual(before);
    a.release(first);
    expect(a.register(req('10.1.0.3')).overlays['dcos-1']).toEqual({ subnet: '192.168.0.0/24' });
  });

  it('a full overlay fails only that overlay for that agent; it fills in on re-registration once there is room', () => {
    const a = new Allocator(TWO_OVERLAYS);
    const first = a.register(req('10.0.0.1'));
    a.register(req('10.0.0.2'));
    const third = a.register(req('10.0.0.3'));
    expect(third.overlays).toEqual({
      'dcos-1': { error: 'no free /24 left in overlay dcos-1 (2 of 2 in use)' },
      'dcos-2': { subnet: '192.168.130.0/24' },
    });
    a.release(first);
    const retried = a.register(req('10.0.0.3'), third);
    expect(retried.overlays).toEqual({ 'dcos-1': { subnet: '192.168.0.0/24' }, 'dcos-2': { subnet: '192.168.130.0/24' } });
    expect(retried.vtepIp).toBe(third.vtepIp);
  });

  it('an IPv6 half that is full is reported while the IPv4 half is kept', () => {
    const a = new Allocator({ ...DUAL_STACK, overlays: [{ name: 'dual', subnet: '44.128.0.0/16', prefix: 24, subnet6: 'fd01::/64', prefix6: 64 }] });
    a.register(req('10.0.0.1'));
    expect(a.register(req('10.0.0.2')).overlays.dual).toEqual({
      subnet: '44.128.1.0/24',
      error: 'no free /64 left in overlay dual (1 of 1 in use)',
    });
  });
});

describe('config changes between runs', () => {
  it('an overlay added to the config is filled in when an existing agent registers again', () => {
    const old = new Allocator(SEED_EXAMPLE);
    const stored = old.register(req('10.0.0.1'));
    const grown: NetworkConfig = { ...SEED_EXAMPLE, overlays: [...SEED_EXAMPLE.overlays, { name: 'new', subnet: '9.0.0.0/8', prefix: 24 }] };
    const a = new Allocator(grown);
    a.occupy(stored);
    const next = a.register(req('10.0.0.1'), stored);
    expect(next.overlays).toEqual({ dcos: stored.overlays.dcos, new: { subnet: '9.0.0.0/24' } });
  });

  it('a disabled overlay gets no new allocations but keeps existing ones reserved', () => {
    const enabled = new Allocator(TWO_OVERLAYS);
    const stored = enabled.register(req('10.0.0.1'));
    const disabledConfig: NetworkConfig = {
      ...TWO_OVERLAYS,
      overlays: TWO_OVERLAYS.overlays.map((o) => (o.name === 'dcos-2' ? { ...o, enabled: false } : o)),
    };
    const a = new Allocator(disabledConfig);
    a.occupy(stored);
    expect(used(a, 'dcos-2')).toBe(1);
    expect(a.register(req('10.0.0.1'), stored).overlays['dcos-2']).toEqual(stored.overlays['dcos-2']);
    const newcomer = a.register(req('10.0.0.2'));
    expect(Object.keys(newcomer.overlays)).toEqual(['dcos-1']);
    expect(used(a, 'dcos-2')).toBe(1);
    expect(a.usage().find((u) => u.name === 'dcos-2')).toMatchObject({ enabled: false, total: 128 });
  });
});

describe('occupy', () => {
  it('reserves stored records so new agents skip them, and is idempotent', () => {
    const a = new Allocator(SEED_EXAMPLE);
    const records = ['10.0.0.1', '10.0.0.2', '10.0.0.3'].map((ip) => a.register(req(ip)));
    const b = new Allocator(SEED_EXAMPLE);
    b.occupy(records[2]!);
    b.occupy(records[0]!);
    b.occupy(records[0]!);
    expect(used(b, 'dcos')).toBe(2);
    const newcomer = b.register(req('10.0.0.4'));
    expect([newcomer.vtepIp, newcomer.overlays.dcos?.subnet]).toEqual(['198.15.0.2', '44.128.1.0/24']);
  });

  it('a newer record of the same agent replaces what it held before', () => {
    const a = new Allocator(TWO_OVERLAYS);
    const stored = a.register(req('10.0.0.1'));
    a.occupy({ ...stored, overlays: { 'dcos-1': stored.overlays['dcos-1']! } });
    expect(used(a, 'dcos-2')).toBe(0);
  });

  const base = (): { a: Allocator; other: AgentRecord; victim: AgentRecord } => {
    const a = new Allocator(SEED_EXAMPLE);
    const other = a.register(req('10.0.0.1'));
    const victim = { ...other, ip: '10.0.0.2', vtepIp: '198.15.0.2', vtepMac: '70:b3:d5:0f:00:02', overlays: { dcos: { subnet: '44.128.1.0/24' } } };
    return { a, other, victim };
  };
  it.each([
    { description: 'a subnet outside the overlay', change: { overlays: { dcos: { subnet: '10.9.0.0/24' } } }, says: ['agent 10.0.0.2', 'subnet "10.9.0.0/24" in overlay dcos', 'lies outside 44.128.0.0/16'] },
    { description: 'a subnet of another prefix', change: { overlays: { dcos: { subnet: '44.128.4.0/23' } } }, says: ['agent 10.0.0.2', 'overlay dcos', 'is a /23, not a /24 block', 'restore overlay dcos'] },
    { description: 'a subnet with host bits', change: { overlays: { dcos: { subnet: '44.128.4.1/24' } } }, says: ['"44.128.4.1/24"', 'host bits'] },
    { description: 'a subnet another agent holds', change: { overlays: { dcos: { subnet: '44.128.0.0/24' } } }, says: ['agent 10.0.0.2', 'subnet "44.128.0.0/24" in overlay dcos', 'agent 10.0.0.1 holds too'] },
    { description: 'an overlay missing from the config', change: { overlays: { gone: { subnet: '44.128.9.0/24' } } }, says: ['overlay gone', 'not in the config', 'vxnet network delete gone --data DIR'] },
    { description: 'an IPv6 subnet where none is configured', change: { overlays: { dcos: { subnet6: 'fd00::/64' } } }, says: ['overlay dcos', 'has no subnet6 configured'] },
    { description: 'a VTEP address outside vtep_subnet', change: { vtepIp: '10.0.0.5', vtepMac: '70:b3:d5:00:00:05' }, says: ['VTEP address "10.0.0.5"', 'vtep_subnet 198.15.0.0/20'] },
    { description: 'a VTEP address another agent holds', change: { vtepIp: '198.15.0.1', vtepMac: '70:b3:d5:0f:00:01' }, says: ['VTEP address 198.15.0.1', 'agent 10.0.0.1 holds too'] },
    { description: 'a MAC the OUI does not give', change: { vtepMac: '00:11:22:0f:00:02' }, says: ['VTEP MAC 00:11:22:0f:00:02', '70:b3:d5:0f:00:02'] },
    { description: 'an IPv6 VTEP with no vtep_subnet6', change: { vtepIp6: 'fd03::2' }, says: ['"fd03::2"', 'no vtep_subnet6 is configured'] },
  ])('refuses $description with RECONCILE_REFUSED, reserving nothing', ({ change, says }) => {
    const { a, victim } = base();
    const before = a.usage();
    const e = refusal(() => a.occupy({ ...victim, ...change } as AgentRecord));
    expect(e.code).toBe('RECONCILE_REFUSED');
    for (const text of says) expect(e.message).toContain(text);
    expect(a.usage()).toEqual(before);
    expect(a.register(req('10.0.0.3')).overlays.dcos).toEqual({ subnet: '44.128.1.0/24' });
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
        const a = new Allocator(config);
        const live = new Map<string, AgentRecord>();
        for (const [add, n] of ops) {
          const ip = `10.200.0.${n}`;
          if (add) {
            const heldA = [...live.values()].map((r) => r.overlays.a?.subnet);
            const expectA = Array.from({ length: 16 }, (_, i) => `10.0.${i}.0/24`).find((s) => !heldA.includes(s));
            const r = a.register(req(ip), live.get(ip));
            if (!live.has(ip)) expect(r.overlays.a?.subnet).toBe(expectA);
            live.set(ip, r);
          } else if (live.has(ip)) {
            a.release(live.get(ip)!);
            live.delete(ip);
          }
        }
        const records = [...live.values()];
        expect(new Set(records.map((r) => r.vtepIp)).size).toBe(records.length);
        for (const [name, key, parent] of [['a', 'subnet', '10.0.0.0/20'], ['b', 'subnet6', 'fd00:0:0:fff8::/61']] as const) {
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
