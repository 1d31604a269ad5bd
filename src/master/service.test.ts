import { describe, expect, it } from 'vitest';
import type { AgentInfo } from '../api/types.js';
import type { NetworkConfig } from '../config/types.js';
import { VxnetError } from '../errors.js';
import { MemoryStore } from '../store/memory/memory-store.js';
import type { Change, Store } from '../store/store.js';
import { MasterService } from './service.js';
import type { AgentRecord } from '../store/store.js';
import { frameRecorder } from './watch-recorder.test-helpers.js';

const config: NetworkConfig = {
  vtep_subnet: '198.15.0.0/29',
  vtep_mac_oui: '70:B3:D5:00:00:00',
  overlays: [
    { name: 'a', subnet: '44.128.0.0/23', prefix: 24 },
    { name: 'b', subnet: '44.129.0.0/16', prefix: 24 },
  ],
};
const all = { allocate_subnet: true, mesos_bridge: true, docker_bridge: true };
const reg = (ip: string) => ({ ip, networkConfig: all });
const parsed = (json: Promise<string>) => json.then((t) => JSON.parse(t) as AgentInfo);
const agentOf = (svc: MasterService, ip: string): AgentInfo | undefined => {
  const text = svc.reads.agentText(ip);
  return text === undefined ? undefined : (JSON.parse(text) as AgentInfo);
};
const recorder = () => {
  const { frames, client } = frameRecorder();
  return { frames, client, events: () => frames.map((f) => /event: (\w+)/.exec(f)![1]) };
};

/** A real MemoryStore whose disk can be made to fail. */
class FlakyStore extends MemoryStore {
  failing = false;
  override async commit(changes: Change[]): Promise<number> {
    if (this.failing) throw new Error('disk full');
    return super.commit(changes);
  }
}

const start = (store: Store, c = config) => MasterService.start(store, c, { storeArgs: '--data /d' });

describe('MasterService', () => {
  it('answers the same IP with the same allocation, and concurrent duplicates allocate once', async () => {
    const svc = await start(new MemoryStore());
    const answers = await Promise.all([
      parsed(svc.register(reg('10.0.0.1'))),
      parsed(svc.register(reg('10.0.0.1'))),
      parsed(svc.register(reg('10.0.0.2'))),
    ]);
    expect(answers[0]).toEqual(answers[1]);
    expect(answers[0]!.overlays.map((o) => o.subnet)).toEqual(['44.128.0.0/24', '44.129.0.0/24']);
    expect(answers[2]!.overlays.map((o) => o.subnet)).toEqual(['44.128.1.0/24', '44.129.1.0/24']);
    expect(svc.agentCount).toBe(2);
  });

  it('marks only the full overlay failed and refuses when no VTEP is left', async () => {
    const svc = await start(new MemoryStore());
    for (const n of [1, 2]) await parsed(svc.register(reg(`10.0.0.${n}`)));
    const third = await parsed(svc.register(reg('10.0.0.3')));
    expect(third.overlays[0]!.state.status).toBe('STATUS_FAILED');
    expect(third.overlays[0]!.state.error).toContain(
      'no free /24 left in overlay a (IPv4 44.128.0.0/23: 2 of 2 held by agents); delete agents',
    );
    expect(third.overlays[1]!.subnet).toBe('44.129.2.0/24');
    for (const n of [4, 5, 6]) await parsed(svc.register(reg(`10.0.0.${n}`)));
    await expect(svc.register(reg('10.0.0.7'))).rejects.toMatchObject({ code: 'POOL_EXHAUSTED' });
  });

  it('recovers every allocation from the store and keeps registration order', async () => {
    const store = new MemoryStore();
    const first = await start(store);
    const a = await parsed(first.register(reg('10.0.0.9')));
    await first.register(reg('10.0.0.3'));
    const second = await start(store);
    expect(second.reads.state().agents.map((x) => x.ip)).toEqual(['10.0.0.9', '10.0.0.3']);
    expect(await parsed(second.register(reg('10.0.0.9')))).toEqual(a);
    expect((await parsed(second.register(reg('10.0.0.4')))).overlays[1]!.subnet).toBe('44.129.2.0/24');
  });

  it('gives existing agents an overlay added across a restart', async () => {
    const store = new MemoryStore();
    await (await start(store, { ...config, overlays: [config.overlays[0]!] })).register(reg('10.0.0.1'));
    const svc = await start(store);
    expect(agentOf(svc, '10.0.0.1')!.overlays.map((o) => o.subnet)).toEqual(['44.128.0.0/24', '44.129.0.0/24']);
  });

  it('gives existing agents an overlay enabled across a restart, and keeps a disabled one reserved', async () => {
    const store = new MemoryStore();
    const disabled = { ...config, overlays: [config.overlays[0]!, { ...config.overlays[1]!, enabled: false }] };
    await (await start(store, disabled)).register(reg('10.0.0.1'));
    const svc = await start(store);
    expect(agentOf(svc, '10.0.0.1')!.overlays.map((o) => o.subnet)).toEqual(['44.128.0.0/24', '44.129.0.0/24']);
    // Back to disabled: the agent keeps its subnet, nobody else gets it.
    const again = await start(store, disabled);
    expect(agentOf(again, '10.0.0.1')!.overlays.map((o) => o.subnet)).toEqual(['44.128.0.0/24', '44.129.0.0/24']);
  });

  it('refuses to start over a store that contradicts the config', async () => {
    const store = new MemoryStore();
    const first = await start(store);
    await first.register(reg('10.0.0.1'));
    await first.reportContainers('10.0.0.1', { containers: [{ id: 'c1', network: 'b', ip: '44.129.0.2', interface: 'eth0' }] });
    const err = await start(store, { ...config, overlays: [config.overlays[0]!] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VxnetError);
    expect((err as VxnetError).code).toBe('RECONCILE_REFUSED');
    expect((err as VxnetError).message).toContain('overlay b is not in the config but 1 container(s) are still attached to it');
  });

  it('rolls the allocation back when the commit fails', async () => {
    const store = new FlakyStore();
    const svc = await start(store);
    store.failing = true;
    await expect(svc.register(reg('10.0.0.1'))).rejects.toMatchObject({
      code: 'STORE_UNAVAILABLE',
      message: expect.stringContaining('disk full'),
    });
    store.failing = false;
    expect(agentOf(svc, '10.0.0.1')).toBeUndefined();
    expect((await parsed(svc.register(reg('10.0.0.2')))).overlays[0]!.subnet).toBe('44.128.0.0/24');
  });

  it('holds one copy of each committed record, shared with its replica', async () => {
    const svc = await start(new MemoryStore());
    await svc.register(reg('10.0.0.1'));
    await svc.reportStatus('10.0.0.1', { overlays: [{ name: 'a', status: 'STATUS_OK' }] });
    const own = (svc as unknown as { records: Map<string, AgentRecord> }).records.get('10.0.0.1');
    expect(own).toBeDefined();
    expect(own).toBe(svc.reads.storedRecord('10.0.0.1', svc.revision));
    expect(own!.status.a).toEqual({ status: 'STATUS_OK' });
    await svc.close();
  });

  it('walks every agent for /containers, /ipam and /leases once per revision, and again after a change', async () => {
    const svc = await start(new MemoryStore());
    await svc.register(reg('10.0.0.1'));
    const containers = svc.reads.containers();
    const [ipam, leases] = [svc.reads.ipam(), svc.reads.leases()];
    expect([svc.reads.containers(), svc.reads.ipam(), svc.reads.leases()]).toEqual([containers, ipam, leases]);
    expect(svc.reads.containers()).toBe(containers);
    await svc.reportContainers('10.0.0.1', { containers: [{ id: 'c1', network: 'a', ip: '44.128.0.2', interface: 'eth0' }] });
    expect(svc.reads.containers()).not.toBe(containers);
    expect(svc.reads.containers().containers.map((c) => c.id)).toEqual(['c1']);
    await svc.close();
  });

  it('frees deleted agents so a re-registration gets identical values', async () => {
    const svc = await start(new MemoryStore());
    const before = await parsed(svc.register(reg('10.0.0.1')));
    await parsed(svc.register(reg('10.0.0.2')));
    const state = JSON.parse(await svc.deleteAgents(['10.0.0.1', '10.0.0.77'])) as { agents: AgentInfo[] };
    expect(state.agents.map((a) => a.ip)).toEqual(['10.0.0.2']);
    expect(await parsed(svc.register(reg('10.0.0.1')))).toEqual(before);
  });

  it('records status and containers, rejecting unknown overlays and agents', async () => {
    const svc = await start(new MemoryStore());
    await parsed(svc.register(reg('10.0.0.1')));
    const info = await parsed(svc.reportStatus('10.0.0.1', { overlays: [{ name: 'a', status: 'STATUS_OK' }] }));
    expect(info.overlays.map((o) => o.state.status)).toEqual(['STATUS_OK', 'STATUS_CONFIGURING']);
    await expect(svc.reportStatus('10.0.0.1', { overlays: [{ name: 'zz', status: 'STATUS_OK' }] })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    await expect(svc.reportStatus('10.0.0.5', { overlays: [] })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await svc.reportContainers('10.0.0.1', { containers: [{ id: 'c1', network: 'a', ip: '44.128.0.2', interface: 'eth0' }] });
    expect(svc.reads.containers().containers).toEqual([{ agent: '10.0.0.1', id: 'c1', network: 'a', ip: '44.128.0.2', interface: 'eth0' }]);
    expect(JSON.parse(svc.reads.stateJson())).toEqual(svc.reads.state());
    expect(svc.reads.state().agents[0]).toEqual(agentOf(svc, '10.0.0.1'));
  });

  it('publishes every change to watchers in revision order', async () => {
    const svc = await start(new MemoryStore());
    const { frames, client } = frameRecorder();
    svc.reads.subscribe(client, undefined);
    await Promise.all(['10.0.0.1', '10.0.0.2', '10.0.0.3'].map((ip) => svc.register(reg(ip))));
    await svc.deleteAgents(['10.0.0.2']);
    // Pool threshold events (live only, no id) come too on this small config: not changes, so not counted here.
    const changes = frames.filter((f) => !String(f).startsWith('event: pool'));
    const ids = changes.map((f) => Number(/^id: (\d+)/.exec(f)![1]));
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    expect(changes.map((f) => /event: (\w+)/.exec(f)![1])).toEqual(['resync', 'put', 'put', 'put', 'delete']);
    expect(svc.revision).toBe(ids.at(-1));
  });

  it('resumes a watcher on a restarted master with only the changes it missed, from the store', async () => {
    const store = new MemoryStore();
    const first = await start(store);
    await first.register(reg('10.0.0.1'));
    const seen = first.revision;
    await first.close();
    // The master restarts on the same store; meanwhile nothing, then two changes.
    const second = await start(store);
    await second.register(reg('10.0.0.2'));
    await second.reportStatus('10.0.0.1', { overlays: [{ name: 'a', status: 'STATUS_OK' }] });
    const resumed = recorder();
    second.reads.subscribe(resumed.client, seen);
    expect(resumed.events()).toEqual(['put', 'put']);
    expect(resumed.frames.map((f) => Number(/^id: (\d+)/.exec(f)![1]))).toEqual([seen + 1, seen + 2]);
    // A revision the store no longer holds, or one it never reached, gets the whole state.
    const ahead = recorder();
    second.reads.subscribe(ahead.client, second.revision + 5);
    expect(ahead.events()).toEqual(['resync']);
  });

  it('resyncs a watcher whose revision the store has compacted', async () => {
    const store = new MemoryStore({ historyLimit: 2 });
    const svc = await start(store);
    for (const ip of ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4']) await svc.register(reg(ip));
    const old = recorder();
    svc.reads.subscribe(old.client, 1);
    expect(old.events()).toEqual(['resync']);
    const recent = recorder();
    svc.reads.subscribe(recent.client, svc.revision - 1);
    expect(recent.events()).toEqual(['put']);
  });
});
