import { constants } from 'node:buffer';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { NetworkConfig } from '../config/types.js';
import { MemoryStore } from '../store/memory/memory-store.js';
import { StateReplica } from './replica.js';
import { MasterService } from './service.js';
import { parseStateCache, saveStateCache, savedStateFits, takeStateCache } from './state-cache.js';
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

  it('gives a restarted replica the same answer, each agent viewed in it, and is removed once taken', async () => {
    const { store, replica } = await stored();
    const file = join(dir(), 'state-cache');
    await saveStateCache(file, replica.stateCache());
    const next = await StateReplica.start(store, config);
    const cache = await takeStateCache(file);
    expect(existsSync(file)).toBe(false);
    expect(next.adoptStateCache(cache!)).toBe(true);
    expect(next.stateBytes()).toBe(cache!.body);
    expect(next.stateJson()).toBe(replica.stateJson());
    expect(next.agentText('10.0.0.2')).toBe(replica.agentText('10.0.0.2'));
  });

  it('is refused when the store moved on, the config differs, or an agent does not match', async () => {
    const { store, replica } = await stored();
    const cache = replica.stateCache();

    const moved = await StateReplica.start(store, config);
    const svc = await MasterService.start(store, config, { storeArgs: '--data /d' }, moved);
    await svc.reportStatus('10.0.0.1', { overlays: [{ name: 'dcos', status: 'STATUS_OK' }] });
    expect(moved.adoptStateCache(cache)).toBe(false);
    await svc.close();

    // The rest against a cache of the store as it is now, so only what each case changes can refuse it.
    const now = (await StateReplica.start(store, config)).stateCache();
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
    const cache = replica.stateCache();
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

  it('reads nothing from a file that is not a whole cache, and removes it', async () => {
    const { replica } = await stored();
    const file = join(dir(), 'state-cache');
    await saveStateCache(file, replica.stateCache());
    const whole = readFileSync(file);
    expect(parseStateCache(whole)).toBeDefined();
    expect(parseStateCache(whole.subarray(0, whole.length - 1))).toBeUndefined();
    expect(parseStateCache(Buffer.concat([whole, Buffer.from('x')]))).toBeUndefined();
    expect(parseStateCache(Buffer.from('vxnet-state-cache/9\n'))).toBeUndefined();
    writeFileSync(file, whole.subarray(0, 40));
    expect(await takeStateCache(file)).toBeUndefined();
    expect(existsSync(file)).toBe(false);
    expect(await takeStateCache(file)).toBeUndefined();
  });

  it('takes a directory, or a file too large to hold, for no cache at all, so the master still starts', async () => {
    const file = join(dir(), 'state-cache');
    mkdirSync(file);
    expect(await takeStateCache(file)).toBeUndefined();
    expect(existsSync(file)).toBe(true); // not its to remove
    const huge = join(dir(), 'state-cache');
    writeFileSync(huge, '');
    truncateSync(huge, constants.MAX_LENGTH + 1); // sparse: no disk used
    expect(await takeStateCache(huge)).toBeUndefined();
  });
});
