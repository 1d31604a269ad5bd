// The loop and peers.ts: every report an agent sends comes back to every
// agent as a `put` of its record. An echo that changes no allocation (only
// `state`) plans nothing; a changed allocation is planned and programmed.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeClock } from './fake/clock.js';
import { FakeHost } from './fake/host.js';
import { RecordingKernel } from './fake/kernel.js';
import { FakeMaster } from './fake/master.js';
import { agent, loopOptions, ME, settle as settleTurns, underlayDevice } from './fixtures.test-helpers.js';

const settle = () => settleTurns(5);
import { AgentLoop } from './loop.js';
import * as planner from './plan.js';

vi.mock('./plan.js', async (actual) => {
  const real = await actual<typeof import('./plan.js')>();
  return { ...real, plan: vi.fn(real.plan) };
});
const plans = vi.mocked(planner.plan);

const failed = (index: number) => agent(index, { state: { status: 'STATUS_FAILED', error: 'bridge m-dcos: exists' } });

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

function start() {
  const kernel = new RecordingKernel({ links: [underlayDevice()], neighbours: [], fdb: [], routes: [] });
  const master = new FakeMaster(() => ME);
  const loop = new AgentLoop(loopOptions(), { kernel, host: new FakeHost(), clock: new FakeClock(), master, log: () => {} });
  const abort = new AbortController();
  const done = loop.run(abort.signal);
  stops.push(async () => {
    abort.abort();
    await done;
  });
  return { kernel, master, loop };
}

describe('AgentLoop and report echoes', () => {
  it("plans nothing for a peer's or its own status echo, and programs a peer's changed allocation", async () => {
    const a = start();
    await settle();
    a.master.send({ type: 'resync', state: { agents: [ME, agent(2)] } });
    await settle();
    const [planned, batches] = [plans.mock.calls.length, a.kernel.batches.length];
    expect(planned).toBeGreaterThan(0);

    a.master.send({ type: 'put', agent: failed(2) });
    a.master.send({ type: 'put', agent: agent(1, { state: { status: 'STATUS_OK' } }) });
    a.master.send({ type: 'resync', state: { agents: [failed(1), agent(2)] } });
    await settle();
    expect(plans.mock.calls.length).toBe(planned);
    expect(a.kernel.batches.length).toBe(batches);

    // The peer's subnet moves: its old route goes, the new one comes, in one planned batch.
    a.master.send({ type: 'put', agent: agent(2, { subnet: '44.128.9.0/24' }) });
    await settle();
    expect(plans.mock.calls.length).toBe(planned + 1);
    expect(a.kernel.state.routes.map((r) => r.dst)).toEqual(['44.128.9.0/24']);
  });
});
