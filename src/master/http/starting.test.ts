// A sole master from its start: reads are answered from the store before the
// stored allocations are reserved; writes are refused with a retryable 503
// until the service leads.
import { afterEach, describe, expect, it } from 'vitest';
import { canonicalize } from '../../config/canonical.js';
import { DEFAULT_NETWORK_CONFIG } from '../../config/types.js';
import { MemoryStore } from '../../store/memory/memory-store.js';
import { createMetrics } from '../metrics.js';
import { StateReplica } from '../replica.js';
import { ElectedRole, SoleMasterRole } from '../role.js';
import { buildMasterApp } from '../server.js';
import { MasterService, allocatorFor, allocatorInSlices } from '../service.js';

const register = (ip: string) => ({
  method: 'POST' as const,
  url: '/overlay-master/agents',
  payload: { ip, network_config: { allocate_subnet: true, mesos_bridge: true, docker_bridge: true } },
});

describe('a sole master while it starts', () => {
  const closing: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const close of closing.splice(0)) await close();
  });

  it('answers /state from the store, refuses writes with a retryable 503 that says why, then takes them once it leads', async () => {
    const store = new MemoryStore();
    const first = await MasterService.start(store, DEFAULT_NETWORK_CONFIG, { storeArgs: '--data /d' });
    await first.register({ ip: '10.0.0.1', networkConfig: { allocate_subnet: true, mesos_bridge: true, docker_bridge: true } });
    const before = first.reads.stateJson();
    await first.close();

    const snap = await store.snapshot();
    const reads = await StateReplica.start(store, DEFAULT_NETWORK_CONFIG, {}, snap);
    const role = new SoleMasterRole(reads);
    const app = buildMasterApp({ role, metrics: createMetrics(() => role.service()), logLevel: 'silent' });
    closing.push(() => app.close());
    await app.ready();

    const state = await app.inject({ method: 'GET', url: '/overlay-master/state' });
    expect(state.statusCode).toBe(200);
    expect(state.json()).toEqual(JSON.parse(before));
    const refused = await app.inject(register('10.0.0.2'));
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.json().error).toMatchObject({ code: 'NOT_LEADER', message: expect.stringContaining('is starting') });
    const health = await app.inject({ method: 'GET', url: '/healthz' });
    expect([health.statusCode, health.json().status]).toEqual([503, 'starting']);

    const service = await MasterService.start(store, DEFAULT_NETWORK_CONFIG, { storeArgs: '--data /d' }, reads, snap);
    closing.unshift(() => service.close());
    role.lead(service);
    expect(service.reads).toBe(reads);
    expect((await app.inject(register('10.0.0.2'))).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/healthz' })).json().status).toBe('ok');
    expect((await app.inject({ method: 'GET', url: '/overlay-master/state' })).json().agents).toHaveLength(2);
  });
});

describe('a sole master before it has read its store', () => {
  it('answers GET /state from the state it saved, to people and tools only, and everything else 503 starting', async () => {
    const store = new MemoryStore();
    const first = await MasterService.start(store, DEFAULT_NETWORK_CONFIG, { storeArgs: '--data /d' });
    await first.register({ ip: '10.0.0.1', networkConfig: { allocate_subnet: true, mesos_bridge: true, docker_bridge: true } });
    const saved = { revision: first.revision, agents: 1, body: first.reads.stateBody().joined() };
    await first.close();

    const role = new SoleMasterRole();
    role.serveSaved(saved);
    const app = buildMasterApp({ role, metrics: createMetrics(() => role.service()), logLevel: 'silent' });
    await app.ready();
    try {
      const state = await app.inject({ method: 'GET', url: '/overlay-master/state' });
      expect([state.statusCode, state.headers['x-vxnet-revision'], state.body]).toEqual([
        200,
        String(saved.revision),
        saved.body.toString(),
      ]);
      // Agents read from the leader only: the saved answer is not one.
      const agent = await app.inject({ method: 'GET', url: '/overlay-master/state', headers: { 'x-vxnet-agent': '10.0.0.1' } });
      expect(agent.statusCode).toBe(503);
      const other = await app.inject({ method: 'GET', url: '/overlay-master/agents/10.0.0.1' });
      expect([other.statusCode, other.json().error.message]).toEqual([503, expect.stringContaining('reads the stored state of 1 agents')]);
      const health = await app.inject({ method: 'GET', url: '/healthz' });
      expect([health.statusCode, health.json().status]).toEqual([503, 'starting']);

      const reads = await StateReplica.start(store, DEFAULT_NETWORK_CONFIG, {});
      role.readFrom(reads);
      expect(role.savedState()).toBeUndefined();
      expect((await app.inject({ method: 'GET', url: '/overlay-master/agents/10.0.0.1' })).statusCode).toBe(200);
      reads.close();
    } finally {
      await app.close();
    }
  });
});

describe('a standby on a shared store', () => {
  it('answers /healthz 503 starting until it serves reads, then 200 standby naming the leader', async () => {
    const store = new MemoryStore();
    const role = new ElectedRole({ self: 'http://b:5050', leader: () => 'http://a:5050', trouble: () => undefined });
    const app = buildMasterApp({ role, metrics: createMetrics(() => role.service()), logLevel: 'silent' });
    await app.ready();
    try {
      const opening = await app.inject({ method: 'GET', url: '/healthz' });
      expect([opening.statusCode, opening.json()]).toEqual([503, { status: 'starting', leader: 'http://a:5050' }]);
      expect((await app.inject({ method: 'GET', url: '/overlay-master/state' })).statusCode).toBe(503);

      const reads = await StateReplica.start(store, DEFAULT_NETWORK_CONFIG, {});
      role.standBy(reads);
      const ready = await app.inject({ method: 'GET', url: '/healthz' });
      expect([ready.statusCode, ready.json()]).toEqual([
        200,
        { status: 'standby', leader: 'http://a:5050', agents: 0, revision: reads.revision },
      ]);
      expect((await app.inject({ method: 'GET', url: '/overlay-master/state' })).statusCode).toBe(200);
      reads.close();
    } finally {
      await app.close();
    }
  });
});

describe('allocatorInSlices', () => {
  const config = canonicalize({
    vtep_subnet: '198.18.0.0/16',
    vtep_mac_oui: '70:B3:D5:00:00:00',
    overlays: [{ name: 'a', subnet: '10.0.0.0/8', prefix: 24 }],
  });

  it('holds what allocatorFor holds, and lets other work run between its slices', async () => {
    const store = new MemoryStore();
    const svc = await MasterService.start(store, config.network, { storeArgs: '--data /d' });
    const all = { allocate_subnet: true, mesos_bridge: true, docker_bridge: true };
    for (let i = 0; i < 12_000; i += 1_000)
      await Promise.all(
        Array.from({ length: 1_000 }, (_, j) => svc.register({ ip: `172.16.${(i + j) >> 8}.${(i + j) & 255}`, networkConfig: all })),
      );
    await svc.close();
    const { agents } = await store.snapshot();

    let turns = 0;
    const ticking = setInterval(() => turns++, 0);
    const sliced = await allocatorInSlices(config, agents);
    clearInterval(ticking);
    const whole = allocatorFor(config, agents);
    expect(sliced.usage()).toEqual(whole.usage());
    for (const r of agents) expect(sliced.leaseOf(r.ip)).toEqual(whole.leaseOf(r.ip));
    expect(turns).toBeGreaterThan(0);
  });

  it('refuses a store where two agents hold one block, as allocatorFor does', async () => {
    const store = new MemoryStore();
    const svc = await MasterService.start(store, config.network, { storeArgs: '--data /d' });
    const all = { allocate_subnet: true, mesos_bridge: true, docker_bridge: true };
    await svc.register({ ip: '172.16.0.1', networkConfig: all });
    await svc.register({ ip: '172.16.0.2', networkConfig: all });
    await svc.close();
    const [a, b] = (await store.snapshot()).agents;
    const twice = [a!, { ...b!, overlays: a!.overlays }];
    expect(() => allocatorFor(config, twice)).toThrow('agent 172.16.0.1 holds too');
    await expect(allocatorInSlices(config, twice)).rejects.toThrow('agent 172.16.0.1 holds too');
  });
});
