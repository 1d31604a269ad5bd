import { describe, expect, it } from 'vitest';
import type { AgentInfo, MasterState } from '../api/types.js';
import type { NetworkConfig } from '../config/types.js';
import { VxnetError } from '../errors.js';
import { MemoryStore } from '../store/memory/memory-store.js';
import type { Store } from '../store/store.js';
import { describeChange } from './reload.js';
import { MasterService } from './service.js';
import { frameRecorder } from './watch-recorder.test-helpers.js';

const a = { name: 'a', subnet: '44.128.0.0/23', prefix: 24 };
const b = { name: 'b', subnet: '44.129.0.0/16', prefix: 24 };
const c = { name: 'c', subnet: '44.130.0.0/16', prefix: 24 };
const config: NetworkConfig = { vtep_subnet: '198.15.0.0/29', vtep_mac_oui: '70:B3:D5:00:00:00', overlays: [a, b] };
const with_ = (...overlays: NetworkConfig['overlays']): NetworkConfig => ({ ...config, overlays });
const all = { allocate_subnet: true, mesos_bridge: true, docker_bridge: true };
const reg = (ip: string) => ({ ip, networkConfig: all });
const start = (store: Store, cfg = config) => MasterService.start(store, cfg, { storeArgs: '--data /d' });
const subnets = (svc: MasterService, ip: string): Record<string, string | undefined> => {
  const info = JSON.parse(svc.reads.agentText(ip)!) as AgentInfo;
  return Object.fromEntries(info.overlays.map((o) => [o.info.name, o.subnet]));
};

async function cluster(): Promise<{ store: MemoryStore; svc: MasterService }> {
  const store = new MemoryStore();
  const svc = await start(store);
  for (const ip of ['10.0.0.1', '10.0.0.2']) await svc.register(reg(ip));
  return { store, svc };
}

describe('MasterService.reload', () => {
  it('adds an overlay: every agent gets a subnet in it, durably, in one commit with the config', async () => {
    const { store, svc } = await cluster();
    const before = (await store.snapshot()).revision;
    const out = await svc.reload(with_(a, b, c), { force: false });
    expect(out).toMatchObject({ added: ['c'], removed: [], agents: 2, revision: before + 3 });
    expect(subnets(svc, '10.0.0.2')).toEqual({ a: '44.128.1.0/24', b: '44.129.1.0/24', c: '44.130.1.0/24' });
    const snap = await store.snapshot();
    expect(snap.config?.overlays.map((o) => o.name)).toEqual(['a', 'b', 'c']);
    expect(snap.agents.map((r) => r.overlays.c?.subnet)).toEqual(['44.130.0.0/24', '44.130.1.0/24']);
    // A new agent is checked against the new config.
    await svc.register(reg('10.0.0.3'));
    expect(subnets(svc, '10.0.0.3').c).toBe('44.130.2.0/24');
  });

  it('disables an overlay keeping its allocations (listed with enabled: false), and re-enabling gives the same subnets', async () => {
    const { svc } = await cluster();
    const out = await svc.reload(with_(a, { ...b, enabled: false }), { force: false });
    expect(out).toMatchObject({ disabled: ['b'], enabled: [] });
    const info = JSON.parse(svc.reads.agentText('10.0.0.2')!) as AgentInfo;
    expect(info.overlays.map((o) => [o.info.name, o.info.enabled ?? true, o.subnet])).toEqual([
      ['a', true, '44.128.1.0/24'],
      ['b', false, '44.129.1.0/24'],
    ]);
    // Nobody else gets the disabled overlay's blocks meanwhile.
    await svc.register(reg('10.0.0.3'));
    expect(subnets(svc, '10.0.0.3').b).toBeUndefined();
    expect(await svc.reload(config, { force: false })).toMatchObject({ enabled: ['b'] });
    expect(subnets(svc, '10.0.0.2').b).toBe('44.129.1.0/24');
    expect(subnets(svc, '10.0.0.3').b).toBe('44.129.2.0/24');
  });

  it('deletes an overlay: its allocations are freed in the same commit as the config', async () => {
    const { store, svc } = await cluster();
    const out = await svc.reload(with_(a), { force: false });
    expect(out.removed).toEqual([{ name: 'b', agents: 2, containers: [] }]);
    const snap = await store.snapshot();
    expect(snap.agents.map((r) => Object.keys(r.overlays))).toEqual([['a'], ['a']]);
    expect(snap.config?.overlays.map((o) => o.name)).toEqual(['a']);
    // Added again, its blocks are free: lowest first.
    await svc.reload(with_(a, b), { force: false });
    expect(subnets(svc, '10.0.0.1').b).toBe('44.129.0.0/24');
  });

  it('refuses to delete an overlay with containers attached, listing them and changing nothing; --force deletes', async () => {
    const { store, svc } = await cluster();
    await svc.reportContainers('10.0.0.2', {
      containers: [{ id: 'feed', name: 'web', network: 'b', ip: '44.129.1.2', interface: 'eth0', runtime: 'docker' }],
    });
    const before = await store.snapshot();
    const err = (await svc.reload(with_(a, c), { force: false }).catch((e: unknown) => e)) as VxnetError;
    expect(err).toBeInstanceOf(VxnetError);
    expect(err.code).toBe('RECONCILE_REFUSED');
    expect(err.message).toContain('web (feed) 44.129.1.2 on agent 10.0.0.2');
    expect(err.details).toMatchObject({
      refusals: [{ field: 'overlays', containers: [{ agent: '10.0.0.2', id: 'feed', ip: '44.129.1.2' }] }],
    });
    // All or nothing: the added overlay c was not applied either.
    expect(await store.snapshot()).toEqual(before);
    expect(subnets(svc, '10.0.0.1').c).toBeUndefined();

    const forced = await svc.reload(with_(a, c), { force: true });
    expect(forced.removed[0]).toMatchObject({ name: 'b', containers: [{ id: 'feed' }] });
    expect(describeChange(forced)).toContain('deleted b (freed its subnets on 2 agent(s); forced: 1 container(s)');
    const after = await store.snapshot();
    expect(after.agents[1]!.containers).toEqual([]);
    expect(Object.keys(after.agents[1]!.overlays)).toEqual(['a', 'c']);
  });

  it.each([
    ['a subnet in use', with_({ ...a, subnet: '44.140.0.0/23' }, b), 'overlays[0].subnet'],
    ['a prefix in use', with_(a, { ...b, prefix: 25 }), 'overlays[1].prefix'],
    ['vtep_subnet', { ...config, vtep_subnet: '198.16.0.0/29' }, 'vtep_subnet'],
    ['the OUI', { ...config, vtep_mac_oui: '70:B3:D6:00:00:00' }, 'vtep_mac_oui'],
  ])('refuses a change of %s as at start, changing nothing', async (_what, next, field) => {
    const { store, svc } = await cluster();
    const before = await store.snapshot();
    const err = (await svc.reload(next, { force: true }).catch((e: unknown) => e)) as VxnetError;
    expect(err.code).toBe('RECONCILE_REFUSED');
    expect(err.details).toMatchObject({ refusals: [{ field }] });
    expect(await store.snapshot()).toEqual(before);
    const atStart = await start(store, next).catch((e: unknown) => e);
    expect((atStart as VxnetError).message).toBe(err.message);
  });

  it('sends watchers a resync carrying the new config', async () => {
    const { svc } = await cluster();
    const { frames, client } = frameRecorder();
    svc.reads.subscribe(client, svc.revision);
    await svc.reload(with_(a, b, c), { force: false });
    const resync = frames.map(String).find((f) => f.includes('event: resync'));
    expect(resync).toBeDefined();
    const state = (JSON.parse(/data: (.*)/.exec(resync!)![1]!) as { state: MasterState }).state;
    expect(state.network.overlays.map((o) => o.name)).toEqual(['a', 'b', 'c']);
    expect(state.agents[0]!.overlays.map((o) => o.subnet)).toEqual(['44.128.0.0/24', '44.129.0.0/24', '44.130.0.0/24']);
  });

  it('waits for requests in flight and holds later ones until it is done', async () => {
    const { svc } = await cluster();
    const order: string[] = [];
    await Promise.all([
      svc.register(reg('10.0.0.3')).then(() => order.push('register before')),
      svc.reload(with_(a, b, c), { force: false }).then(() => order.push('reload')),
      svc.register(reg('10.0.0.4')).then(() => order.push('register after')),
    ]);
    expect(order).toEqual(['register before', 'reload', 'register after']);
    expect(subnets(svc, '10.0.0.3').c).toBe('44.130.2.0/24');
    expect(subnets(svc, '10.0.0.4').c).toBe('44.130.3.0/24');
  });

  it('turns masquerade off and on for an overlay: named in the summary, echoed to its agents, subnets kept', async () => {
    const { svc } = await cluster();
    const off = await svc.reload(with_(a, { ...b, masquerade: false }), { force: false });
    expect(off).toMatchObject({ masqueradeOff: ['b'], masqueradeOn: [], added: [], disabled: [] });
    expect(describeChange(off)).toContain('masquerade off for b (its traffic leaves with container addresses)');
    const info = JSON.parse(svc.reads.agentText('10.0.0.2')!) as AgentInfo;
    expect(info.overlays.map((o) => [o.info.name, o.info.masquerade, o.subnet])).toEqual([
      ['a', undefined, '44.128.1.0/24'],
      ['b', false, '44.129.1.0/24'],
    ]);
    const on = await svc.reload(config, { force: false });
    expect(on).toMatchObject({ masqueradeOn: ['b'], masqueradeOff: [] });
    expect(describeChange(on)).toContain('masquerade on for b');
  });

  it('answers "nothing changed" for the same config and commits nothing', async () => {
    const { store, svc } = await cluster();
    const before = (await store.snapshot()).revision;
    const out = await svc.reload(config, { force: false });
    expect(out.revision).toBe(before);
    expect(describeChange(out)).toBe('nothing changed');
  });
});

describe('start applies the rules of a reload without force', () => {
  it('deletes a removed overlay without containers, durably', async () => {
    const { store } = await cluster();
    const svc = await start(store, with_(a));
    expect(subnets(svc, '10.0.0.1')).toEqual({ a: '44.128.0.0/24' });
    expect((await store.snapshot()).agents.map((r) => Object.keys(r.overlays))).toEqual([['a'], ['a']]);
  });
});
