// The loop's rules, on fakes: a recording kernel built on the planner's ops,
// an in-memory host, a fake master and a clock that moves only when told.
import { whatChanged } from './linux/monitor.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentInfo } from '../api/types.js';
import { FakeClock } from './fake/clock.js';
import { FakeHost } from './fake/host.js';
import { RecordingKernel } from './fake/kernel.js';
import { FakeMaster } from './fake/master.js';
import { agent, loopOptions, ME, settle as settleTurns, underlayDevice } from './fixtures.test-helpers.js';
import { AgentLoop, type AgentOptions } from './loop.js';
import type { Op } from './model.js';
import type { KernelTable } from './ports.js';
import type { DockerNetworkSpec } from './docker/networks.js';
import type { DockerPort } from './docker/sync.js';

const TICK = 1000;
/** The full re-read's period in these tests: five ticks. */
const RESYNC = 5 * TICK;
const options: AgentOptions = loopOptions({ tickMs: TICK, resyncMs: RESYNC });
const underlay = underlayDevice();
const settle = () => settleTurns(3);

const routeTo = (peer: AgentInfo): string => peer.overlays[0]!.subnet!;
const isRouteTo =
  (peer: AgentInfo) =>
  (op: Op): boolean =>
    op.kind === 'route-replace' && op.dst === routeTo(peer);

const running: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of running.splice(0)) await stop();
});

/** An engine with no networks that records what it is asked to create. */
function fakeDocker() {
  const created: DockerNetworkSpec[] = [];
  let onEvent: () => void = () => {};
  const engine: DockerPort = {
    endpoint: { kind: 'unix', path: '/run/docker.sock', url: 'unix:///run/docker.sock' },
    version: async () => '24.0.0',
    networks: async () => [],
    createNetwork: async (spec) => {
      created.push(spec);
    },
    removeNetwork: async () => {},
    followEvents: async (callback) => {
      onEvent = callback;
    },
  };
  return { engine, created, event: () => onEvent() };
}

function startAgent(overrides: Partial<AgentOptions> = {}, docker?: DockerPort) {
  const clock = new FakeClock();
  const kernel = new RecordingKernel({ links: [underlay], neighbours: [], fdb: [], routes: [] });
  const host = new FakeHost();
  const master = new FakeMaster(() => ME);
  const logs: string[] = [];
  let monitorWake: (changed: (KernelTable | 'links')[], line?: string) => void = () => {};
  const loop = new AgentLoop(
    { ...options, ...overrides },
    {
      kernel,
      host,
      clock,
      master,
      log: (m) => logs.push(m),
      monitor: (onChange) => {
        monitorWake = onChange;
      },
      ...(docker && { docker }),
    },
  );
  const abort = new AbortController();
  const done = loop.run(abort.signal);
  running.push(async () => {
    abort.abort();
    await done;
  });
  return {
    clock,
    kernel,
    host,
    master,
    logs,
    loop,
    /** `ip monitor` saw these change (default: a link of vxnet's). */
    monitorWake: (changed: (KernelTable | 'links')[] = ['links']) => monitorWake(changed),
    /** `ip monitor` printed this line (what the real monitor hands on: whatChanged's tables and the line). */
    monitorLine: (line: string) => monitorWake(whatChanged(line), line),
    /** Moves time on tick by tick, letting each pass finish. */
    async ticks(n: number): Promise<void> {
      for (let i = 0; i < n; i++) {
        clock.advance(TICK);
        await settle();
      }
    },
    async resync(agents: AgentInfo[]): Promise<void> {
      master.send({ type: 'resync', state: { agents } });
      await settle();
    },
    async send(event: Record<string, unknown> & { type: string }): Promise<void> {
      master.send(event);
      await settle();
    },
  };
}

describe('AgentLoop', () => {
  it('registers, then changes nothing until the first resync, however many ticks pass', async () => {
    const a = startAgent();
    await settle();
    expect(a.master.registrations).toEqual([{ ip: ME.ip, network_config: options.networkConfig }]);
    await a.ticks(5);
    expect(a.kernel.observations).toBe(0);
    expect(a.kernel.batches).toEqual([]);
    expect(a.host.calls).toEqual([]);

    await a.resync([ME, agent(2)]);
    expect(a.kernel.observations).toBe(1);
    const ops = a.kernel.ops();
    const added = ops.flatMap((op) => (op.kind === 'link-add' ? [op.link.name] : []));
    expect(added).toEqual(['vtep1024', 'm-dcos', 'd-dcos']);
    expect(ops.some(isRouteTo(agent(2)))).toBe(true);
    // The rest of the host in the same full pass: NAT, forwarding, the conflist, the bridges' neighbour retry.
    expect(a.host.nft.tables).toEqual(new Set(['ip']));
    expect(a.host.sysctls.get('/proc/sys/net/ipv4/ip_forward')).toBe('1');
    expect([...a.host.files.keys()]).toEqual(['/cni/vxnet-dcos.conflist']);
    expect(a.host.sysctls.get('/proc/sys/net/ipv4/neigh/m-dcos/retrans_time_ms')).toBe('10');
    expect(a.loop.state().overlays.map((o) => o.state)).toEqual([{ status: 'STATUS_OK' }]);
  });

  it('registers again when the master deletes this agent, and reports its status afresh', async () => {
    const a = startAgent();
    await settle();
    await a.resync([ME]);
    await settle();
    expect(a.master.statuses).toHaveLength(1);

    await a.send({ type: 'delete', ip: ME.ip });
    expect(a.master.registrations).toHaveLength(2);
    await a.send({ type: 'put', agent: ME }); // as the master announces a registration
    await a.ticks(1);
    // The master forgot what it was told: the unchanged status is sent again.
    expect(a.master.statuses).toHaveLength(2);

    // Another agent's delete is not about us.
    await a.send({ type: 'delete', ip: agent(2).ip });
    expect(a.master.registrations).toHaveLength(2);
  });

  it('plans a watch event against its belief of the kernel, and re-reads the whole kernel every --resync-ms', async () => {
    const a = startAgent();
    await settle();
    await a.resync([ME, agent(2)]);
    expect(a.kernel.observations).toBe(1);

    // A peer joins: one batch for its entries, no read of the kernel.
    await a.send({ type: 'put', agent: agent(3) });
    expect(a.kernel.observations).toBe(1);
    expect(a.kernel.batches.at(-1)!.map((op) => op.kind)).toEqual(['fdb-replace', 'neigh-replace', 'route-replace']);

    // Someone deletes a route behind the agent's back: a watch event still trusts the belief...
    a.kernel.state.routes = a.kernel.state.routes.filter((r) => r.dst !== routeTo(agent(2)));
    await a.send({ type: 'put', agent: agent(4) });
    expect(a.kernel.observations).toBe(1);
    expect(a.kernel.batches.at(-1)!.some(isRouteTo(agent(2)))).toBe(false);
    // ...and so do the ticks in between (no monitor told of it); the next full re-read repairs it.
    await a.ticks(RESYNC / TICK - 1);
    expect(a.kernel.observations).toBe(1);
    await a.ticks(1);
    expect(a.kernel.observations).toBe(2);
    expect(a.kernel.batches.at(-1)).toEqual([{ kind: 'route-replace', dst: routeTo(agent(2)), via: '198.15.0.2', scope: 'dcos' }]);
  });

  it('when ip monitor names a table, re-reads only that table and puts back what was deleted', async () => {
    const a = startAgent();
    await settle();
    await a.resync([ME, agent(2), agent(3)]);
    a.kernel.state.routes = a.kernel.state.routes.filter((r) => r.dst !== routeTo(agent(3)));
    a.kernel.state.fdb = a.kernel.state.fdb.filter((f) => f.dst !== agent(2).ip);
    a.monitorWake(['routes']);
    a.monitorWake(['neighbours', 'fdb']);
    await settle();
    // Both events in one pass: two tables re-read, no full read, one batch.
    expect(a.kernel.observations).toBe(1);
    expect(a.kernel.reads).toEqual([['fdb', 'neighbours', 'routes']]);
    expect(a.kernel.batches.at(-1)!.map((op) => op.kind)).toEqual(['fdb-replace', 'route-replace']);
    expect(a.kernel.state.routes.map((r) => r.dst).sort()).toEqual([routeTo(agent(2)), routeTo(agent(3))].sort());
    // A link of vxnet's changed: everything is read again.
    a.monitorWake(['links']);
    await settle();
    expect(a.kernel.observations).toBe(2);
  });

  it('reads nothing again for its own deletions on ip monitor, but does for one of an entry it still wants', async () => {
    const a = startAgent();
    await settle();
    await a.resync([ME, agent(2), agent(3)]);
    const gone = agent(3);
    const peer = (info: AgentInfo) => info.overlays[0]!.backend.vxlan;
    await a.send({ type: 'delete', ip: gone.ip });
    expect(
      a.kernel.batches
        .at(-1)!
        .map((op) => op.kind)
        .sort(),
    ).toEqual(['fdb-del', 'neigh-del', 'route-del']);
    const reads = a.kernel.reads.length;
    const observations = a.kernel.observations;
    a.monitorLine(`Deleted ${routeTo(gone)} via ${peer(gone).vtep_ip.split('/')[0]} dev vtep1024 proto 177 onlink `);
    a.monitorLine(`Deleted ${peer(gone).vtep_ip.split('/')[0]} dev vtep1024 lladdr ${peer(gone).vtep_mac} PERMANENT `);
    a.monitorLine(`Deleted ${gone.ip} dev vtep1024 lladdr ${peer(gone).vtep_mac} NOARP PERMANENT `);
    await settle();
    expect([a.kernel.reads.length, a.kernel.observations]).toEqual([reads, observations]);
    // Someone else deletes a live peer's route: that is drift, re-read and repaired.
    a.kernel.state.routes = a.kernel.state.routes.filter((r) => r.dst !== routeTo(agent(2)));
    a.monitorLine(`Deleted ${routeTo(agent(2))} via ${peer(agent(2)).vtep_ip.split('/')[0]} dev vtep1024 proto 177 onlink `);
    await settle();
    expect(a.kernel.reads.at(-1)).toEqual(['routes']);
    expect(a.kernel.state.routes.map((r) => r.dst)).toContain(routeTo(agent(2)));
  });

  it('an idle tick re-checks the host files but reads no kernel table and runs no tool; those wait for --resync-ms', async () => {
    const a = startAgent();
    await settle();
    await a.resync([ME, agent(2)]);
    const toolChecks = a.host.toolChecks;
    a.host.files.delete('/cni/vxnet-dcos.conflist');
    a.host.sysctls.set('/proc/sys/net/ipv4/ip_forward', '0');
    a.host.nft.tables.clear();
    await a.ticks(1);
    expect([...a.host.files.keys()]).toEqual(['/cni/vxnet-dcos.conflist']);
    expect(a.host.sysctls.get('/proc/sys/net/ipv4/ip_forward')).toBe('1');
    expect(a.kernel.observations + a.kernel.reads.length).toBe(1);
    expect(a.host.toolChecks).toBe(toolChecks);
    expect(a.host.nft.tables).toEqual(new Set());
    await a.ticks(RESYNC / TICK - 1);
    expect(a.kernel.observations).toBe(2);
    expect(a.host.nft.tables).toEqual(new Set(['ip']));
    // An idle agent between full passes: no kernel reads, no batches, no tool checks.
    const before = { reads: a.kernel.observations + a.kernel.reads.length, batches: a.kernel.batches.length, tools: a.host.toolChecks };
    await a.ticks(RESYNC / TICK - 1);
    expect({ reads: a.kernel.observations + a.kernel.reads.length, batches: a.kernel.batches.length, tools: a.host.toolChecks }).toEqual(
      before,
    );
  });

  it('re-reads the kernel when the monitor wakes it, and after a failed batch', async () => {
    const a = startAgent();
    await settle();
    await a.resync([ME]);
    expect(a.kernel.observations).toBe(1);
    a.monitorWake();
    await settle();
    expect(a.kernel.observations).toBe(2);

    a.kernel.refuse = (op) => (isRouteTo(agent(2))(op) ? 'Network is unreachable' : undefined);
    await a.send({ type: 'put', agent: agent(2) });
    // The event pass failed: a full pass follows at once, without waiting for the tick, and records the error.
    expect(a.kernel.observations).toBe(3);
    expect(a.loop.state().overlays[0]!.state).toEqual({ status: 'STATUS_FAILED', error: 'route-replace: Network is unreachable' });
  });

  it('does not spin after failures: the next attempt waits for the tick', async () => {
    const a = startAgent();
    await settle();
    a.kernel.observeError = new Error('ip: not found');
    await a.resync([ME]);
    expect(a.kernel.observations).toBe(1);
    expect(a.logs).toContain('pass failed: Error: ip: not found');
    await settle();
    await settle();
    expect(a.kernel.observations).toBe(1);
    await a.ticks(1);
    expect(a.kernel.observations).toBe(2);

    // A batch that keeps failing: the event pass and one full pass, then quiet until the tick.
    a.kernel.observeError = undefined;
    await a.ticks(1);
    a.kernel.refuse = (op) => (isRouteTo(agent(2))(op) ? 'Network is unreachable' : undefined);
    const before = a.kernel.observations;
    await a.send({ type: 'put', agent: agent(2) });
    await settle();
    await settle();
    expect(a.kernel.observations).toBe(before + 1);
    expect(a.kernel.ops().filter(isRouteTo(agent(2)))).toHaveLength(2);
  });

  it('reports an overlay FAILED after --max-attempts, then retries it with a capped back-off until it heals', async () => {
    const a = startAgent();
    await settle();
    const tries: number[] = [];
    const start = a.clock.now();
    let broken = true;
    a.kernel.refuse = (op) => {
      if (op.kind !== 'link-add' || op.link.name !== 'm-dcos') return undefined;
      tries.push((a.clock.now() - start) / 1000);
      return broken ? 'RTNETLINK answers: No buffer space available' : undefined;
    };
    await a.resync([ME, agent(2)]);
    await a.ticks(3);
    expect(tries).toEqual([0, 1, 2, 3]);
    const failed = { status: 'STATUS_FAILED', error: 'link-add: RTNETLINK answers: No buffer space available' };
    expect(a.loop.state().overlays[0]!.state).toEqual(failed);
    expect(a.logs).toContain('overlay dcos failed 4 passes in a row; next attempt in 2 s');

    // Resting: 2, 4, 8, 16, 32 ticks between attempts, then at most a minute; FAILED all along.
    await a.ticks(122);
    expect(tries).toEqual([0, 1, 2, 3, 5, 9, 17, 33, 65, 125]);
    expect(a.loop.state().overlays[0]!.state).toEqual(failed);
    expect(a.master.statuses.at(-1)!.overlays).toEqual([{ name: 'dcos', ...failed }]);
    // A peer's route in the resting overlay waits too; the shared VTEP entries do not.
    await a.send({ type: 'put', agent: agent(3) });
    expect(a.kernel.batches.at(-1)!.map((op) => op.kind)).toEqual(['fdb-replace', 'neigh-replace']);

    // The cause goes away: the next attempt (a minute later) heals the overlay, with no restart.
    broken = false;
    await a.ticks(60);
    expect(tries.at(-1)).toBe(185);
    expect(a.loop.state().overlays[0]!.state).toEqual({ status: 'STATUS_OK' });
    expect(a.master.statuses.at(-1)!.overlays).toEqual([{ name: 'dcos', status: 'STATUS_OK' }]);
    expect(a.kernel.state.routes.map((r) => r.dst)).toContain(routeTo(agent(3)));
  });

  it('tries a resting overlay at once when its allocation changes', async () => {
    const a = startAgent();
    await settle();
    let tries = 0;
    a.kernel.refuse = (op) => {
      if (op.kind !== 'link-add' || op.link.name !== 'm-dcos') return undefined;
      tries++;
      return 'boom';
    };
    await a.resync([ME]);
    await a.ticks(4);
    expect(tries).toBe(4); // resting since the fourth
    const moved = agent(1, { mesos_bridge: { name: 'm-dcos', ip: '44.128.0.0/26' } });
    await a.send({ type: 'put', agent: moved });
    expect(tries).toBe(5);
    expect(a.loop.state().overlays[0]!.state).toEqual({ status: 'STATUS_FAILED', error: 'link-add: boom' });
  });

  it('ignores watch event types it does not know, even when they name an agent', async () => {
    const a = startAgent();
    await settle();
    await a.resync([ME, agent(2)]);
    const batches = a.kernel.batches.length;
    await a.send({ type: 'agent-status', ip: agent(2).ip });
    await a.send({ type: 'agent-status', ip: ME.ip });
    await a.ticks(1);
    expect(a.master.registrations).toHaveLength(1);
    expect(a.kernel.batches).toHaveLength(batches);
    expect(a.kernel.state.routes.map((r) => r.dst)).toEqual([routeTo(agent(2))]);
  });

  it("makes an overlay's Docker network only once its d- bridge is in place, and a Docker event wakes a full pass", async () => {
    const docker = fakeDocker();
    const a = startAgent({}, docker.engine);
    await settle();
    let bridgeFails = true;
    a.kernel.refuse = (op) => (op.kind === 'link-add' && op.link.name === 'd-dcos' && bridgeFails ? 'File exists' : undefined);
    await a.resync([ME]);
    expect(docker.created).toEqual([]);
    expect(a.loop.state().overlays[0]!.state).toEqual({ status: 'STATUS_FAILED', error: 'link-add: File exists' });

    bridgeFails = false;
    const observations = a.kernel.observations;
    docker.event();
    await settle();
    expect(a.kernel.observations).toBe(observations + 1);
    expect(docker.created.map((spec) => [spec.name, spec.bridge])).toEqual([['dcos', 'd-dcos']]);
    expect(a.loop.state()).toMatchObject({
      overlays: [{ state: { status: 'STATUS_OK' } }],
      engines: { docker: { status: 'ok', version: '24.0.0' } },
    });
  });

  it("drops a disabled overlay's data plane but keeps its host-local data; removes the data of a deleted one", async () => {
    const a = startAgent();
    await settle();
    a.host.ipam = [
      { network: 'dcos', name: '44.128.0.2', content: 'c1\neth0' },
      { network: 'gone', name: '44.140.0.2', content: 'c2\neth0' },
    ];
    const network = { overlays: [{ name: 'dcos', subnet: '44.128.0.0/16', prefix: 24, enabled: false }] };
    const off = agent(1, { info: { ...ME.overlays[0]!.info, enabled: false } });
    await a.send({
      type: 'resync',
      revision: 2,
      state: { network, agents: [off, agent(2, { info: { ...ME.overlays[0]!.info, enabled: false } })] },
    });
    await a.ticks(1);
    const added = a.kernel.ops().flatMap((op) => (op.kind === 'link-add' ? [op.link.name] : []));
    expect(added).toEqual(['vtep1024']);
    expect(a.kernel.ops().some(isRouteTo(agent(2)))).toBe(false);
    expect([...a.host.files.keys()].filter((f) => f.endsWith('.conflist'))).toEqual([]);
    expect(a.host.nft.tables).toEqual(new Set());
    // The disabled overlay keeps its reservations; the deleted one's are gone.
    expect(a.host.ipam.map((f) => f.network)).toEqual(['dcos']);
    expect(a.host.calls).toContain('rm ipam gone');
  });
});
