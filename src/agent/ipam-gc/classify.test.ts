import { describe, expect, it } from 'vitest';
import {
  applyGrace,
  classify,
  type Evidence,
  guardGroups,
  netnsVisible,
  type Reservation,
  reservationKey,
  summarize,
  type VxnetRecordFacts,
} from './classify.js';

const res = (ip: string, container: string, overlay = 'dcos-1', ifname = 'eth0'): Reservation => ({ overlay, ip, container, ifname });
const PODMAN_ID = 'a'.repeat(64);
const OTHER_ID = 'b'.repeat(64);

const record = (over: Partial<VxnetRecordFacts> = {}): VxnetRecordFacts => ({
  network: 'dcos-1',
  ifname: 'eth0',
  ips: ['192.168.0.2'],
  netnsPath: '/run/netns/c1',
  netns: { present: true },
  ...over,
});

function evidence(over: Partial<Evidence> = {}): Evidence {
  return {
    records: new Map(),
    libcniCached: new Set(),
    inSubnets: (r) => r.ip.startsWith('192.168.0.'),
    ...over,
  };
}

describe('classify: a reservation is leaked only on positive proof', () => {
  const cases: { description: string; r: Reservation; e: Evidence; state: string; runtime: string; reason: RegExp; release?: string }[] = [
    {
      description: 'vxnet record with its netns present: live',
      r: res('192.168.0.2', 'c1'),
      e: evidence({ records: new Map([['c1', record()]]) }),
      state: 'live',
      runtime: 'vxnet',
      reason: /vxnet container c1, network namespace \/run\/netns\/c1/,
    },
    {
      description: 'vxnet record whose netns file is gone where it was made: leaked, by CNI DEL',
      r: res('192.168.0.2', 'c1'),
      e: evidence({ records: new Map([['c1', record({ netns: { present: false } })]]) }),
      state: 'leaked',
      runtime: 'vxnet',
      reason: /network namespace \/run\/netns\/c1 is gone/,
      release: 'cni-del',
    },
    {
      description: 'vxnet record holding other addresses (the name was reused): leaked, this file only',
      r: res('192.168.0.9', 'c1'),
      e: evidence({ records: new Map([['c1', record()]]) }),
      state: 'leaked',
      runtime: 'vxnet',
      reason: /now holds 192\.168\.0\.2, not this one/,
      release: 'file',
    },
    {
      description: 'vxnet record whose ADD is still running (no result yet), netns present: live',
      r: res('192.168.0.9', 'c1'),
      e: evidence({ records: new Map([['c1', record({ ips: undefined })]]) }),
      state: 'live',
      runtime: 'vxnet',
      reason: /vxnet container c1/,
    },
    {
      description: 'vxnet record whose netns cannot be looked at (another mount namespace): suspect',
      r: res('192.168.0.2', 'c1'),
      e: evidence({ records: new Map([['c1', record({ netns: { unknown: 'made in mount namespace mnt:[9]' } })]]) }),
      state: 'suspect',
      runtime: 'vxnet',
      reason: /cannot tell whether \/run\/netns\/c1 exists \(made in mount namespace mnt:\[9\]\)/,
    },
    {
      description: 'a record of that name on another overlay is not this reservation: unknown runtime, suspect',
      r: res('192.168.0.2', 'c1'),
      e: evidence({ records: new Map([['c1', record({ network: 'dcos-2', netns: { present: false } })]]) }),
      state: 'suspect',
      runtime: 'unknown',
      reason: /no runtime the agent knows made it/,
    },
    {
      description: 'podman (libcni cache) and podman lists it: live',
      r: res('192.168.0.3', PODMAN_ID),
      e: evidence({ libcniCached: new Set([reservationKey(res('', PODMAN_ID))]), podman: { ok: true, ids: new Set([PODMAN_ID]) } }),
      state: 'live',
      runtime: 'podman',
      reason: /podman container aaaaaaaaaaaa/,
    },
    {
      description: 'podman (libcni cache) and podman no longer has it: leaked',
      r: res('192.168.0.3', PODMAN_ID),
      e: evidence({ libcniCached: new Set([reservationKey(res('', PODMAN_ID))]), podman: { ok: true, ids: new Set([OTHER_ID]) } }),
      state: 'leaked',
      runtime: 'podman',
      reason: /podman has no container aaaaaaaaaaaa/,
      release: 'cni-del',
    },
    {
      description: 'podman could not be asked (failed or timed out): suspect',
      r: res('192.168.0.3', PODMAN_ID),
      e: evidence({
        libcniCached: new Set([reservationKey(res('', PODMAN_ID))]),
        podman: { ok: false, error: 'timed out after 20000 ms' },
      }),
      state: 'suspect',
      runtime: 'podman',
      reason: /podman could not be asked: timed out/,
    },
    {
      description: 'podman reservation while the agent is told not to ask podman: suspect',
      r: res('192.168.0.3', PODMAN_ID),
      e: evidence({ libcniCached: new Set([reservationKey(res('', PODMAN_ID))]) }),
      state: 'suspect',
      runtime: 'podman',
      reason: /does not ask podman/,
    },
    {
      description: 'no record and no libcni cache entry (Mesos, a record lost): suspect, even when podman answers',
      r: res('192.168.0.4', 'mesos-123'),
      e: evidence({ podman: { ok: true, ids: new Set() } }),
      state: 'suspect',
      runtime: 'unknown',
      reason: /no vxnet container record and no libcni cache entry/,
    },
  ];
  for (const c of cases) {
    it(c.description, () => {
      const v = classify(c.r, c.e);
      expect(v.state).toBe(c.state);
      expect(v.runtime).toBe(c.runtime);
      expect(v.reason).toMatch(c.reason);
      expect(v.release).toBe(c.release);
    });
  }

  it('marks an address outside the current subnets stranded, whatever its state', () => {
    const e = evidence({ records: new Map([['c1', record({ ips: ['192.168.7.2'], netns: { present: true } })]]) });
    const v = classify(res('192.168.7.2', 'c1'), e);
    expect(v).toMatchObject({ state: 'live', stranded: true });
    expect(classify(res('192.168.0.2', 'c1'), evidence({ records: new Map([['c1', record()]]) })).stranded).toBe(false);
  });
});

describe('guardGroups', () => {
  it('keeps a leaked address as suspect when a DEL would also free a live one of the same container and interface', () => {
    const leaked = {
      ...res('192.168.0.2', 'c1'),
      runtime: 'vxnet',
      state: 'leaked',
      stranded: false,
      reason: 'gone',
      release: 'cni-del',
    } as const;
    const live = { ...res('192.168.0.3', 'c1'), runtime: 'vxnet', state: 'live', stranded: false, reason: 'ok' } as const;
    const [first] = guardGroups([leaked, live]);
    expect(first).toMatchObject({ state: 'suspect', release: undefined });
    expect(first!.reason).toMatch(/another address of that container is not/);
    expect(guardGroups([leaked])[0]!.state).toBe('leaked');
  });
});

describe('applyGrace', () => {
  const leaked = {
    ...res('192.168.0.2', 'c1'),
    runtime: 'vxnet',
    state: 'leaked',
    stranded: false,
    reason: 'gone',
    release: 'cni-del',
  } as const;
  const live = { ...leaked, state: 'live' } as const;

  it('releases nothing before the grace period has passed, then releases', () => {
    const first = applyGrace([leaked], new Map(), 1_000, 3_000);
    expect(first.due).toEqual([]);
    expect(first.timed[0]).toMatchObject({ leakedSince: 1_000, releaseAt: 4_000 });
    const early = applyGrace([leaked], first.since, 3_999, 3_000);
    expect(early.due).toEqual([]);
    const late = applyGrace([leaked], early.since, 4_000, 3_000);
    expect(late.due.map((v) => v.ip)).toEqual(['192.168.0.2']);
  });

  it('starts over when a reservation was seen live in between', () => {
    const first = applyGrace([leaked], new Map(), 1_000, 3_000);
    const between = applyGrace([live], first.since, 2_000, 3_000);
    expect(between.since.size).toBe(0);
    expect(applyGrace([leaked], between.since, 4_500, 3_000).due).toEqual([]);
  });

  it('never releases suspect or live ones', () => {
    const suspect = { ...leaked, state: 'suspect' } as const;
    expect(applyGrace([suspect, live], new Map(), 0, 0).due).toEqual([]);
  });
});

describe('summarize', () => {
  it('counts used, leaked, suspect and stranded per overlay', () => {
    const base = { runtime: 'vxnet', stranded: false, reason: '' } as const;
    const counts = summarize([
      { ...res('192.168.0.2', 'a'), ...base, state: 'live' },
      { ...res('192.168.0.3', 'b'), ...base, state: 'leaked' },
      { ...res('192.168.0.4', 'c'), ...base, state: 'suspect' },
      { ...res('192.168.9.4', 'd'), ...base, state: 'live', stranded: true },
      { ...res('192.168.128.2', 'e', 'dcos-2'), ...base, state: 'live' },
    ]);
    expect(counts).toEqual({
      'dcos-1': { used: 4, leaked: 1, suspect: 1, stranded: 1 },
      'dcos-2': { used: 1, leaked: 0, suspect: 0, stranded: 0 },
    });
  });
});

describe('netnsVisible: a missing netns file proves something only where it was made', () => {
  it('trusts the same mount namespace', () => {
    expect(netnsVisible({ mountNs: 'mnt:[1]', peer: '1' }, { mountNs: 'mnt:[1]', shared: '1' })).toEqual({ ok: true });
  });
  it('trusts a /run/netns that is a slave of the peer group it was made in (the agent under ip netns exec)', () => {
    expect(netnsVisible({ mountNs: 'mnt:[1]', peer: '1' }, { mountNs: 'mnt:[2]', master: '1' })).toEqual({ ok: true });
  });
  it("cannot tell for another mount namespace that does not receive from it (podman's private one)", () => {
    expect(netnsVisible({ mountNs: 'mnt:[3]', peer: '7' }, { mountNs: 'mnt:[2]', master: '1' })).toHaveProperty('unknown');
  });
  it('cannot tell for an old record that does not say where', () => {
    expect(netnsVisible({}, { mountNs: 'mnt:[2]', shared: '1' })).toHaveProperty('unknown');
  });
});
