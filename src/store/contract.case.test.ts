// The behaviour every Store must show, run by each implementation's own test
// file: runStoreContract('sqlite', (options) => SqliteStore.open(tmp, options)).

import { afterEach, describe, expect, it } from 'vitest';
import type { NetworkConfig } from '../config/types.js';
import { VxnetError } from '../errors.js';
import type { FlushInfo } from './group-commit.js';
import type { StoreOptions } from './options.js';
import type { AgentRecord, Store, StoredChange } from './store.js';

export type MakeStore = (options?: StoreOptions) => Promise<Store>;

export function agentRecord(ip: string, seq: number, overrides: Partial<AgentRecord> = {}): AgentRecord {
  return {
    ip,
    seq,
    networkConfig: { allocate_subnet: true, mesos_bridge: true, docker_bridge: true },
    vtepIp: `198.15.0.${seq + 1}`,
    vtepMac: `70:b3:d5:0f:00:${(seq + 1).toString(16).padStart(2, '0')}`,
    overlays: { dcos: { subnet: `44.128.${seq}.0/24` } },
    status: { dcos: { status: 'STATUS_OK' } },
    containers: [],
    ...overrides,
  };
}

export const networkConfig = (vtepSubnet = '198.15.0.0/20'): NetworkConfig => ({
  vtep_subnet: vtepSubnet,
  vtep_mac_oui: '70:B3:D5:00:00:00',
  overlays: [{ name: 'dcos', subnet: '44.128.0.0/16', prefix: 24 }],
});

async function rejection(promise: Promise<unknown>): Promise<VxnetError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(VxnetError);
  return err as VxnetError;
}

function thrown(fn: () => unknown): VxnetError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(VxnetError);
  return err as VxnetError;
}

export function runStoreContract(name: string, makeStore: MakeStore): void {
  describe(`Store contract: ${name}`, () => {
    const opened: Store[] = [];
    const open = async (options?: StoreOptions): Promise<Store> => {
      const store = await makeStore(options);
      opened.push(store);
      return store;
    };
    afterEach(async () => {
      for (const store of opened.splice(0)) await store.close();
    });

    it('starts empty at revision 0', async () => {
      const store = await open();
      expect(await store.snapshot()).toEqual({ revision: 0, agents: [] });
    });

    it('snapshots committed agents in registration order, with the config', async () => {
      const store = await open();
      const config = networkConfig();
      const rev = await store.commit([
        { type: 'config', config },
        { type: 'put', record: agentRecord('10.10.0.119', 2) },
        { type: 'put', record: agentRecord('10.10.0.120', 0) },
        { type: 'put', record: agentRecord('10.10.0.118', 1) },
      ]);
      const snap = await store.snapshot();
      expect(snap.revision).toBe(rev);
      expect(snap.config).toEqual(config);
      expect(snap.agents.map((a) => a.ip)).toEqual(['10.10.0.120', '10.10.0.118', '10.10.0.119']);
      expect(snap.agents[2]).toEqual(agentRecord('10.10.0.119', 2));
    });

    it('gives every change its own revision, growing', async () => {
      const store = await open();
      const first = await store.commit([{ type: 'put', record: agentRecord('10.0.0.1', 0) }]);
      const second = await store.commit([
        { type: 'put', record: agentRecord('10.0.0.2', 1) },
        { type: 'put', record: agentRecord('10.0.0.3', 2) },
      ]);
      expect(first).toBeGreaterThan(0);
      expect(second).toBe(first + 2);
      expect((await store.snapshot()).revision).toBe(second);
    });

    it('replaces a record put again and removes a deleted one', async () => {
      const store = await open();
      await store.commit([
        { type: 'put', record: agentRecord('10.0.0.1', 0) },
        { type: 'put', record: agentRecord('10.0.0.2', 1) },
      ]);
      const failed = agentRecord('10.0.0.1', 0, { status: { dcos: { status: 'STATUS_FAILED', error: 'no bridge' } } });
      await store.commit([{ type: 'put', record: failed }]);
      await store.commit([{ type: 'delete', ip: '10.0.0.2' }]);
      const snap = await store.snapshot();
      expect(snap.agents).toEqual([failed]);
      const unknown = await store.commit([{ type: 'delete', ip: '10.9.9.9' }]);
      expect(unknown).toBe(snap.revision + 1);
    });

    it('replaces the config', async () => {
      const store = await open();
      await store.commit([{ type: 'config', config: networkConfig('198.15.0.0/20') }]);
      await store.commit([{ type: 'config', config: networkConfig('198.16.0.0/20') }]);
      expect((await store.snapshot()).config?.vtep_subnet).toBe('198.16.0.0/20');
    });

    it('keeps what was committed even if the caller mutates its objects later', async () => {
      const store = await open();
      const record = agentRecord('10.0.0.1', 0);
      const pending = store.commit([{ type: 'put', record }]);
      record.vtepIp = '198.15.0.99';
      await pending;
      const [stored] = (await store.snapshot()).agents;
      expect(stored?.vtepIp).toBe('198.15.0.1');
      stored!.vtepIp = 'changed';
      expect((await store.snapshot()).agents[0]?.vtepIp).toBe('198.15.0.1');
    });

    it('rejects a malformed change by field and writes nothing of that commit', async () => {
      const store = await open();
      const bad = { type: 'put', record: { ...agentRecord('10.0.0.2', 1), seq: 'x' } } as never;
      const err = await rejection(store.commit([{ type: 'put', record: agentRecord('10.0.0.1', 0) }, bad]));
      expect(err.code).toBe('BAD_REQUEST');
      expect(err.message).toContain('changes[1].record.seq is "x"');
      const typo = await rejection(store.commit([{ type: 'upsert' } as never]));
      expect(typo.message).toContain("changes[0].type is \"upsert\": must be 'put', 'delete' or 'config'");
      expect(await store.snapshot()).toEqual({ revision: 0, agents: [] });
    });

    it('replays changes after a revision, then delivers live ones in order', async () => {
      const store = await open();
      for (let i = 0; i < 5; i++) await store.commit([{ type: 'put', record: agentRecord(`10.0.0.${i}`, i) }]);
      const seen: StoredChange[] = [];
      const stop = store.watch(2, (c) => seen.push(c));
      expect(seen.map((c) => c.revision)).toEqual([3, 4, 5]);
      expect(seen[0]).toEqual({ type: 'put', record: agentRecord('10.0.0.2', 2), revision: 3 });
      await store.commit([
        { type: 'delete', ip: '10.0.0.0' },
        { type: 'config', config: networkConfig() },
      ]);
      expect(seen.slice(3)).toEqual([
        { type: 'delete', ip: '10.0.0.0', revision: 6 },
        { type: 'config', config: networkConfig(), revision: 7 },
      ]);
      stop();
      await store.commit([{ type: 'delete', ip: '10.0.0.1' }]);
      expect(seen).toHaveLength(5);
    });

    it('watching from the current revision delivers only new changes', async () => {
      const store = await open();
      const rev = await store.commit([{ type: 'put', record: agentRecord('10.0.0.1', 0) }]);
      const seen: number[] = [];
      store.watch(rev, (c) => seen.push(c.revision));
      expect(seen).toEqual([]);
      const next = await store.commit([{ type: 'put', record: agentRecord('10.0.0.2', 1) }]);
      expect(seen).toEqual([next]);
    });

    it('answers CONFLICT for a compacted or future revision, BAD_REQUEST for a bad one', async () => {
      const store = await open({ historyLimit: 3 });
      for (let i = 0; i < 6; i++) await store.commit([{ type: 'put', record: agentRecord(`10.0.0.${i}`, i) }]);
      const compacted = thrown(() => store.watch(2, () => {}));
      expect(compacted.code).toBe('CONFLICT');
      expect(compacted.message).toBe('revision 2 is compacted; oldest retained is 4: resynchronise from a snapshot');
      const seen: number[] = [];
      store.watch(3, (c) => seen.push(c.revision));
      expect(seen).toEqual([4, 5, 6]);
      const ahead = thrown(() => store.watch(7, () => {}));
      expect(ahead.code).toBe('CONFLICT');
      expect(ahead.message).toContain('revision 7 is ahead');
      expect(thrown(() => store.watch(-1, () => {})).code).toBe('BAD_REQUEST');
    });

    it('commits concurrent callers together, each with its own growing revision', async () => {
      const flushes: FlushInfo[] = [];
      const store = await open({ onFlush: (info) => flushes.push(info) });
      const base = await store.commit([{ type: 'config', config: networkConfig() }]);
      flushes.length = 0;
      const atRevision = new Map<number, string>();
      store.watch(base, (c) => {
        if (c.type === 'put') atRevision.set(c.revision, c.record.ip);
      });
      const ips = Array.from({ length: 64 }, (_, i) => `10.1.0.${i}`);
      const revisions = await Promise.all(ips.map((ip, i) => store.commit([{ type: 'put', record: agentRecord(ip, i) }])));
      expect(new Set(revisions).size).toBe(64);
      for (const [i, rev] of revisions.entries()) {
        expect(rev).toBeGreaterThan(base);
        expect(atRevision.get(rev)).toBe(ips[i]);
      }
      expect(flushes).toHaveLength(1);
      expect(flushes[0]).toMatchObject({ callers: 64, changes: 64, ok: true });
      const snap = await store.snapshot();
      expect(snap.agents).toHaveLength(64);
      expect(snap.revision).toBe(Math.max(...revisions));
    });

    it('batches commits made from separate callbacks of one event-loop turn', async () => {
      const flushes: FlushInfo[] = [];
      const store = await open({ onFlush: (info) => flushes.push(info) });
      const revisions = await Promise.all(
        Array.from(
          { length: 8 },
          (_, i) =>
            new Promise<number>((resolve, reject) => {
              setImmediate(() => store.commit([{ type: 'put', record: agentRecord(`10.2.0.${i}`, i) }]).then(resolve, reject));
            }),
        ),
      );
      expect(new Set(revisions).size).toBe(8);
      expect(flushes.map((f) => f.callers)).toEqual([8]);
    });

    it('stops a watcher that throws without failing the commit or other watchers', async () => {
      const store = await open();
      const good: number[] = [];
      let calls = 0;
      store.watch(0, () => {
        calls += 1;
        throw new Error('broken watcher');
      });
      store.watch(0, (c) => good.push(c.revision));
      const warned = new Promise((resolve) => process.once('warning', resolve));
      const first = await store.commit([{ type: 'put', record: agentRecord('10.0.0.1', 0) }]);
      const second = await store.commit([{ type: 'put', record: agentRecord('10.0.0.2', 1) }]);
      expect(good).toEqual([first, second]);
      expect(calls).toBe(1);
      expect(String(await warned)).toContain('broken watcher');
    });

    it('keeps allocation events with the changes of the same commit, and answers queries oldest first', async () => {
      const store = await open();
      // Recent times: the history keeps a year by default.
      const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000;
      const at = (m: number) => new Date(hour + m * 60_000).toISOString();
      await store.commit(
        [{ type: 'put', record: agentRecord('10.0.0.1', 0) }],
        [
          { at: at(0), kind: 'allocated', agent: '10.0.0.1', vtepIp: '198.15.0.1' },
          { at: at(0), kind: 'allocated', agent: '10.0.0.1', overlay: 'dcos', subnet: '44.128.0.0/24' },
        ],
      );
      await store.commit(
        [{ type: 'delete', ip: '10.0.0.1' }],
        [{ at: at(5), kind: 'freed', agent: '10.0.0.1', overlay: 'dcos', subnet: '44.128.0.0/24' }],
      );
      await store.commit(
        [{ type: 'put', record: agentRecord('10.0.0.2', 1, { overlays: { dcos: { subnet: '44.128.0.0/24', subnet6: 'fd00::/64' } } }) }],
        [{ at: at(9), kind: 'allocated', agent: '10.0.0.2', overlay: 'dcos', subnet: '44.128.0.0/24', subnet6: 'fd00::/64' }],
      );
      const all = await store.allocationHistory({ limit: 100 });
      expect(all.events.map((e) => `${e.kind} ${e.agent} ${e.subnet ?? e.vtepIp}`)).toEqual([
        'allocated 10.0.0.1 198.15.0.1',
        'allocated 10.0.0.1 44.128.0.0/24',
        'freed 10.0.0.1 44.128.0.0/24',
        'allocated 10.0.0.2 44.128.0.0/24',
      ]);
      expect(all.more).toBe(false);
      // Which host had 44.128.0.0/24, and when: the block itself, a block inside it, one containing it.
      for (const subnet of ['44.128.0.0/24', '44.128.0.7/32', '44.0.0.0/8', '44.128.0.9']) {
        const page = await store.allocationHistory({ subnet, limit: 100 });
        expect(
          page.events.map((e) => `${e.at} ${e.kind} ${e.agent}`),
          subnet,
        ).toEqual([`${at(0)} allocated 10.0.0.1`, `${at(5)} freed 10.0.0.1`, `${at(9)} allocated 10.0.0.2`]);
      }
      expect((await store.allocationHistory({ subnet: '44.129.0.0/24', limit: 100 })).events).toEqual([]);
      expect((await store.allocationHistory({ subnet: 'fd00::1', limit: 100 })).events.map((e) => e.agent)).toEqual(['10.0.0.2']);
      expect((await store.allocationHistory({ subnet: '198.15.0.0/20', limit: 100 })).events.map((e) => e.vtepIp)).toEqual(['198.15.0.1']);
      expect((await store.allocationHistory({ agent: '10.0.0.2', limit: 100 })).events).toHaveLength(1);
      expect((await store.allocationHistory({ since: at(5), limit: 100 })).events.map((e) => e.kind)).toEqual(['freed', 'allocated']);
      const newest = await store.allocationHistory({ limit: 2 });
      expect(newest.events.map((e) => e.at)).toEqual([at(5), at(9)]);
      expect(newest.more).toBe(true);
    });

    it('never trims allocation events with the change log, and refuses bad events and queries by field', async () => {
      const store = await open({ historyLimit: 3 });
      const now = new Date().toISOString();
      await store.commit(
        [{ type: 'put', record: agentRecord('10.0.0.1', 0) }],
        [{ at: now, kind: 'allocated', agent: '10.0.0.1', vtepIp: '198.15.0.1' }],
      );
      for (let i = 0; i < 10; i++) {
        await store.commit([
          { type: 'put', record: agentRecord('10.0.0.1', 0, { status: { dcos: { status: i % 2 ? 'STATUS_OK' : 'STATUS_CONFIGURING' } } }) },
        ]);
      }
      expect(thrown(() => store.watch(1, () => {})).code).toBe('CONFLICT');
      expect((await store.allocationHistory({ limit: 10 })).events).toEqual([
        { at: now, kind: 'allocated', agent: '10.0.0.1', vtepIp: '198.15.0.1' },
      ]);

      const before = (await store.snapshot()).revision;
      const bad = await rejection(
        store.commit([{ type: 'delete', ip: '10.0.0.1' }], [{ at: 'yesterday', kind: 'freed', agent: '10.0.0.1' } as never]),
      );
      expect(bad.message).toContain('history[0].at is "yesterday": must be an ISO-8601 time');
      const kind = await rejection(store.commit([], [{ at: now, kind: 'moved', agent: '10.0.0.1' } as never]));
      expect(kind.message).toContain('history[0].kind is "moved"');
      expect((await store.snapshot()).revision).toBe(before);
      expect((await store.allocationHistory({ limit: 10 })).events).toHaveLength(1);
      for (const [query, text] of [
        [{ limit: 0 }, 'limit is 0: must be a whole number from 1 to 10000'],
        [{ limit: 10, subnet: '44.128.0.0/33' }, 'subnet is "44.128.0.0/33": must be a CIDR or an IP address; pass e.g. 192.168.3.0/24'],
        [{ limit: 10, agent: 'host-1' }, 'agent is "host-1": must be an IP address'],
        [{ limit: 10, since: 'last week' }, 'since is "last week": must be an ISO-8601 time'],
      ] as const) {
        const err = await rejection(store.allocationHistory(query));
        expect(err.code).toBe('BAD_REQUEST');
        expect(err.message).toContain(text);
      }
    });

    it('keeps the allocation history within its own retention: count, bytes and age', async () => {
      let clock = Date.UTC(2024, 0, 1);
      const event = (i: number) => ({
        at: new Date(clock).toISOString(),
        kind: 'allocated' as const,
        agent: `10.0.1.${i}`,
        vtepIp: `198.15.0.${i}`,
      });
      const counted = await open({ allocationHistoryEvents: 3, wallClock: () => clock });
      for (let i = 0; i < 6; i++) await counted.commit([], [event(i)]);
      expect((await counted.allocationHistory({ limit: 100 })).events.map((e) => e.agent)).toEqual(['10.0.1.3', '10.0.1.4', '10.0.1.5']);

      const sized = await open({ allocationHistoryBytes: 2.5 * JSON.stringify(event(1)).length, wallClock: () => clock });
      for (let i = 1; i < 6; i++) await sized.commit([], [event(i)]);
      expect((await sized.allocationHistory({ limit: 100 })).events.map((e) => e.agent)).toEqual(['10.0.1.4', '10.0.1.5']);

      const aged = await open({ allocationHistoryDays: 30, wallClock: () => clock });
      await aged.commit([], [event(1)]);
      clock += 20 * 86_400_000;
      await aged.commit([], [event(2)]);
      clock += 20 * 86_400_000; // event 1 is now 40 days old, event 2 twenty
      await aged.commit([], [event(3)]);
      expect((await aged.allocationHistory({ limit: 100 })).events.map((e) => e.agent)).toEqual(['10.0.1.2', '10.0.1.3']);
    });

    it('writes queued commits before closing and refuses commits after', async () => {
      const store = await makeStore();
      const pending = store.commit([{ type: 'put', record: agentRecord('10.0.0.1', 0) }]);
      await store.close();
      expect(await pending).toBe(1);
      const err = await rejection(store.commit([{ type: 'delete', ip: '10.0.0.1' }]));
      expect(err.code).toBe('STORE_UNAVAILABLE');
      expect((await rejection(store.snapshot())).code).toBe('STORE_UNAVAILABLE');
      expect(thrown(() => store.watch(0, () => {})).code).toBe('STORE_UNAVAILABLE');
      await store.close();
    });
  });
}
