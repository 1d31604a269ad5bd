import { constants } from 'node:buffer';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { NetworkConfig } from '../config/types.js';
import { MemoryStore } from '../store/memory/memory-store.js';
import { StateReplica } from './replica.js';
import { MasterService } from './service.js';
import { keepStateSaved, parseStateCache, type StateCache, saveStateCache, savedStateFits, loadStateCache } from './state-cache.js';
import type { Snapshot, StorePeek } from '../store/store.js';

const config: NetworkConfig = {
  vtep_subnet: '198.15.0.0/20',
  vtep_mac_oui: '70:B3:D5:00:00:00',
  overlays: [{ name: 'dcos', subnet: '44.128.0.0/16', prefix: 24 }],
};
const all = { allocate_subnet: true, mesos_bridge: true, docker_bridge: true };

/** A store with three agents, and a replica of it. */
async function stored(): Promise<{ store: MemoryStore; replica: StateReplica }> {
  const store = new MemoryStore();
  const svc = await MasterService.start(store, config, { storeArgs: '--data /d' });
  for (const ip of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) await svc.register({ ip, networkConfig: all });
  await svc.close();
  return { store, replica: await StateReplica.start(store, config) };
}

/** What SqliteStore.peek answers, from a snapshot of the memory store. */
function peekOf(snap: Snapshot): StorePeek {
  return { revision: snap.revision, config: snap.config, record: (ip) => snap.agents.find((a) => a.ip === ip) };
}

/** What a replica would save, as a start reads it back (one buffer). */
function cacheOf(replica: StateReplica): StateCache {
  const saved = replica.stateToSave();
  return { ...saved, body: saved.body.joined() };
}

/** Waits for `done`, up to 10 s (a loaded machine), checking every 10 ms. */
async function until(done: () => boolean): Promise<void> {
  for (let t = 0; !done(); t += 10) {
    if (t > 10_000) throw new Error('not within 10 s');
    await new Promise((ok) => setTimeout(ok, 10));
  }
}

describe('the state cache', () => {
  const dirs: string[] = [];
  const dir = () => {
    const d = mkdtempSync(join(tmpdir(), 'vxnet-state-cache-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('gives a restarted replica the same answer, each agent viewed in it; the file stays, a half-written save does not', async () => {
    const { store, replica } = await stored();
    const file = join(dir(), 'state-cache');
    await saveStateCache(file, replica.stateToSave());
    writeFileSync(`${file}.tmp`, 'cut short by a crash');
    const next = await StateReplica.start(store, config);
    const cache = await loadStateCache(file);
    expect(existsSync(file)).toBe(true);
    expect(existsSync(`${file}.tmp`)).toBe(false);
    expect(next.adoptStateCache(cache!)).toBe(true);
    expect(next.stateBody().chunks).toEqual([cache!.body]);
    expect(next.stateBody().chunks[0]).toBe(cache!.body);
    expect(next.stateJson()).toBe(replica.stateJson());
    expect(next.agentText('10.0.0.2')).toBe(replica.agentText('10.0.0.2'));
  });

  it('is refused when the store moved on, the config differs, or an agent does not match', async () => {
    const { store, replica } = await stored();
    const cache = cacheOf(replica);

    const moved = await StateReplica.start(store, config);
    const svc = await MasterService.start(store, config, { storeArgs: '--data /d' }, moved);
    await svc.reportStatus('10.0.0.1', { overlays: [{ name: 'dcos', status: 'STATUS_OK' }] });
    expect(moved.adoptStateCache(cache)).toBe(false);
    await svc.close();

    // The rest against a cache of the store as it is now, so only what each case changes can refuse it.
    const now = cacheOf(await StateReplica.start(store, config));
    const again = await StateReplica.start(store, config);
    const edited = { ...now, body: Buffer.from(now.body.toString().replace('"44.128.0.0/16"', '"44.129.0.0/16"')) };
    expect(again.adoptStateCache(edited)).toBe(false);
    // Same length, each agent's address still first: only rendering a sample again tells.
    const tampered = { ...now, body: Buffer.from(now.body.toString().replaceAll('"d-dcos"', '"x-dcos"')) };
    expect(tampered.body.length).toBe(now.body.length);
    expect(again.adoptStateCache(tampered)).toBe(false);
    expect(again.adoptStateCache({ ...now, lengths: now.lengths.slice(1) })).toBe(false);
    // Refusals adopted nothing: the answer is rendered from the store.
    expect(again.stateJson()).toBe(now.body.toString());
    expect(again.adoptStateCache(now)).toBe(true);
  });

  it('is checked against the store before its rows are read: revision, config, and a sample rendered again', async () => {
    const { store, replica } = await stored();
    const cache = cacheOf(replica);
    const snap = await store.snapshot();
    expect(savedStateFits(cache, peekOf(snap), config)).toBe(true);
    expect(savedStateFits(cache, { ...peekOf(snap), revision: snap.revision + 1 }, config)).toBe(false);
    // Another stored config renders another head.
    const other = { ...snap.config!, overlays: [{ name: 'dcos', subnet: '44.129.0.0/16', prefix: 24 }] };
    expect(savedStateFits(cache, { ...peekOf(snap), config: other }, config)).toBe(false);
    // A record that is not what the answer says (or is gone, or expired) refuses it: every agent is in the sample of three.
    const changed = snap.agents.map((a) => (a.ip === '10.0.0.2' ? { ...a, vtepMac: '70:b3:d5:00:00:99' } : a));
    expect(savedStateFits(cache, peekOf({ ...snap, agents: changed }), config)).toBe(false);
    expect(savedStateFits(cache, peekOf({ ...snap, agents: snap.agents.slice(1) }), config)).toBe(false);
    const expired = snap.agents.map((a) =>
      a.ip === '10.0.0.3' ? { ...a, expired: { at: '2026-01-01T00:00:00Z', until: '2026-01-01T01:00:00Z' } } : a,
    );
    expect(savedStateFits(cache, peekOf({ ...snap, agents: expired }), config)).toBe(false);
    // Bytes that do not begin with an agent's address are not an answer this vxnet wrote.
    const shifted = { ...cache, head: cache.head - 1 };
    expect(savedStateFits(shifted, peekOf(snap), config)).toBe(false);
  });

  it('after the store moved on, keeps the bytes of every agent no change touched and renders the rest', async () => {
    const { store, replica } = await stored();
    const earlier = cacheOf(replica);
    const svc = await MasterService.start(store, config, { storeArgs: '--data /d' }, await StateReplica.start(store, config));
    await svc.reportStatus('10.0.0.1', { overlays: [{ name: 'dcos', status: 'STATUS_OK' }] });
    await svc.deleteAgents(['10.0.0.2']);
    await svc.register({ ip: '10.0.0.4', networkConfig: all });
    await svc.close();

    const restarted = await StateReplica.start(store, config);
    expect(restarted.adoptStateCache(earlier)).toBe(false);
    // 10.0.0.3 alone is untouched; 10.0.0.1 changed and 10.0.0.4 is new.
    expect(restarted.reuseStateCache(earlier)).toBe(1);
    const fresh = await StateReplica.start(store, config);
    expect(restarted.stateJson()).toBe(fresh.stateJson());
    expect(restarted.agentText('10.0.0.3')).toBe(fresh.agentText('10.0.0.3'));
    expect(JSON.parse(restarted.stateJson()).agents[0].overlays[0].state.status).toBe('STATUS_OK');
  });

  it('keeps nothing of an earlier answer when the config changed since, its changes are no longer held, or it renders otherwise', async () => {
    const moveOn = async (store: MemoryStore, ip = '10.0.0.1') => {
      const svc = await MasterService.start(store, config, { storeArgs: '--data /d' }, await StateReplica.start(store, config));
      await svc.reportStatus(ip, { overlays: [{ name: 'dcos', status: 'STATUS_OK' }] });
      await svc.close();
    };
    // Another vxnet's rendering: the same addresses first, other bytes after them.
    const { store, replica } = await stored();
    const earlier = cacheOf(replica);
    await moveOn(store);
    const tampered = { ...earlier, body: Buffer.from(earlier.body.toString().replaceAll('"d-dcos"', '"x-dcos"')) };
    const restarted = await StateReplica.start(store, config);
    expect(restarted.reuseStateCache(tampered)).toBe(0);
    expect(restarted.reuseStateCache({ ...earlier, revision: restarted.revision })).toBe(0);
    expect(restarted.stateJson()).toBe((await StateReplica.start(store, config)).stateJson());

    // A store that keeps one change: the changes after the saved revision are gone.
    const short = new MemoryStore({ historyLimit: 1 });
    const svc = await MasterService.start(short, config, { storeArgs: '--data /d' });
    for (const ip of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) await svc.register({ ip, networkConfig: all });
    await svc.close();
    const old = cacheOf(await StateReplica.start(short, config));
    await moveOn(short, '10.0.0.1');
    await moveOn(short, '10.0.0.2');
    expect((await StateReplica.start(short, config)).reuseStateCache(old)).toBe(0);

    // A config committed since (the same text rendered again would not show it): nothing kept.
    const { store: reloaded, replica: before } = await stored();
    const saved = cacheOf(before);
    await reloaded.commit([{ type: 'config', config }]);
    expect((await StateReplica.start(reloaded, config)).reuseStateCache(saved)).toBe(0);
  });

  it('is saved while the state moves, once per change, and after a crash the next start finds it', async () => {
    const { store, replica } = await stored();
    const file = join(dir(), 'state-cache');
    const said: string[] = [];
    const saver = keepStateSaved(file, 20, replica, (m) => said.push(m));
    await until(() => existsSync(file));
    const first = parseStateCache(readFileSync(file))!;
    expect(first.revision).toBe(replica.revision);
    const svc = await MasterService.start(store, config, { storeArgs: '--data /d' }, replica);
    await svc.reportStatus('10.0.0.1', { overlays: [{ name: 'dcos', status: 'STATUS_OK' }] });
    await until(() => parseStateCache(readFileSync(file))!.revision === replica.revision);
    await saver.stop();
    await svc.close();
    expect(said).toEqual([]);
    const restarted = await StateReplica.start(store, config);
    expect(restarted.adoptStateCache((await loadStateCache(file))!)).toBe(true);
  });

  it('renders agents ahead of a save in slices, each a few dozen agents when time is up, and the answer is the same', async () => {
    const store = new MemoryStore();
    const svc = await MasterService.start(store, config, { storeArgs: '--data /d' });
    for (let i = 1; i <= 130; i++) await svc.register({ ip: `10.0.${i >> 8}.${i & 255}`, networkConfig: all });
    await svc.close();
    const replica = await StateReplica.start(store, config);
    let slices = 1;
    // A deadline already past: each slice renders 64 agents, then gives the loop back.
    while (!replica.renderAhead(0)) slices++;
    expect(slices).toBe(3);
    expect(replica.renderAhead(0)).toBe(true);
    expect(replica.stateJson()).toBe((await StateReplica.start(store, config)).stateJson());
  });

  it('says once why it cannot save, and saves once it can', async () => {
    const { replica } = await stored();
    const parent = join(dir(), 'gone');
    const file = join(parent, 'state-cache');
    const said: string[] = [];
    const saver = keepStateSaved(file, 10, replica, (m) => said.push(m));
    await until(() => said.length > 0);
    await new Promise((ok) => setTimeout(ok, 100));
    expect(said).toHaveLength(1);
    expect(said[0]).toContain(`could not save the state in ${file}`);
    mkdirSync(parent);
    await until(() => existsSync(file));
    await saver.stop();
  });

  it('reads nothing from a file that is not a whole cache, and removes it', async () => {
    const { replica } = await stored();
    const file = join(dir(), 'state-cache');
    await saveStateCache(file, replica.stateToSave());
    const whole = readFileSync(file);
    expect(parseStateCache(whole)).toBeDefined();
    expect(parseStateCache(whole.subarray(0, whole.length - 1))).toBeUndefined();
    expect(parseStateCache(Buffer.concat([whole, Buffer.from('x')]))).toBeUndefined();
    expect(parseStateCache(Buffer.from('vxnet-state-cache/9\n'))).toBeUndefined();
    writeFileSync(file, whole.subarray(0, 40));
    expect(await loadStateCache(file)).toBeUndefined();
    expect(existsSync(file)).toBe(false);
    expect(await loadStateCache(file)).toBeUndefined();
  });

  it('takes a directory, or a file too large to hold, for no cache at all, so the master still starts', async () => {
    const file = join(dir(), 'state-cache');
    mkdirSync(file);
    expect(await loadStateCache(file)).toBeUndefined();
    expect(existsSync(file)).toBe(true); // not its to remove
    const huge = join(dir(), 'state-cache');
    writeFileSync(huge, '');
    truncateSync(huge, constants.MAX_LENGTH + 1); // sparse: no disk used
    expect(await loadStateCache(huge)).toBeUndefined();
  });
});
