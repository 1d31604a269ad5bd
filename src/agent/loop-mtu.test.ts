// The loop's MTU wiring (mtu.ts), on the fakes of loop.test.ts: `--mtu auto`
// programs the underlay's MTU minus 50, reports it to the master, and follows
// the master's `mtu` event at once on the VXLAN device, bridges and conflists.
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from './fake/clock.js';
import { FakeHost } from './fake/host.js';
import { RecordingKernel } from './fake/kernel.js';
import { FakeMaster } from './fake/master.js';
import { loopOptions, ME, settle as settleTurns, underlayDevice } from './fixtures.test-helpers.js';
import { AgentLoop } from './loop.js';
import type { Op } from './model.js';

const underlay = underlayDevice(9000);
const settle = () => settleTurns(5);

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

function start(mtu: number | 'auto') {
  const kernel = new RecordingKernel({ links: [underlay], neighbours: [], fdb: [], routes: [] });
  const host = new FakeHost();
  const master = new FakeMaster(() => ME);
  const clock = new FakeClock();
  const logs: string[] = [];
  const loop = new AgentLoop(loopOptions({ mtu }), { kernel, host, clock, master, log: (m) => logs.push(m) });
  const abort = new AbortController();
  const done = loop.run(abort.signal);
  stops.push(async () => {
    abort.abort();
    await done;
  });
  return { kernel, host, master, logs, loop, clock };
}

/** The MTU each link was last given, from the recorded ops. */
const mtus = (ops: Op[]): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const op of ops) {
    if (op.kind === 'link-add') out[op.link.name] = op.link.mtu;
    if (op.kind === 'link-set' && op.mtu !== undefined) out[op.name] = op.mtu;
  }
  return out;
};
const conflistMtu = (host: FakeHost): number | undefined => {
  const text = host.files.get('/cni/vxnet-dcos.conflist');
  return text === undefined ? undefined : (JSON.parse(text) as { plugins: { mtu: number }[] }).plugins[0]!.mtu;
};

describe('AgentLoop MTU', () => {
  it('auto: the underlay minus 50 from the first pass, reported to the master, then the cluster lowest at once', async () => {
    const a = start('auto');
    await settle();
    a.master.send({ type: 'resync', state: { agents: [ME] } });
    await settle();
    expect(mtus(a.kernel.ops())).toEqual({ vtep1024: 8950, 'm-dcos': 8950, 'd-dcos': 8950 });
    expect(conflistMtu(a.host)).toBe(8950);
    await settle();
    expect(a.master.statuses.at(-1)?.mtu).toBe(8950);
    expect(a.loop.state().mtu).toMatchObject({ container: 8950, vxlan: 8950, underlay: 8950, source: 'underlay' });

    a.master.send({ type: 'mtu', mtu: 1350, agent: '198.18.0.9', reported: 2 });
    await settle();
    expect(mtus(a.kernel.ops())).toEqual({ vtep1024: 1350, 'm-dcos': 1350, 'd-dcos': 1350 });
    expect(conflistMtu(a.host)).toBe(1350);
    expect(a.logs.some((l) => l.startsWith('container MTU 1350, VXLAN device 1350'))).toBe(true);
    // What this host reports stays what its own underlay carries.
    expect(a.master.statuses.at(-1)?.mtu).toBe(8950);
  });

  it('an explicit --mtu keeps the containers at it; a malformed mtu event is ignored', async () => {
    const a = start(1420);
    await settle();
    a.master.send({ type: 'resync', state: { agents: [ME] } });
    await settle();
    a.master.send({ type: 'mtu', mtu: 'small' });
    a.master.send({ type: 'mtu', mtu: 1350 });
    await settle();
    expect(mtus(a.kernel.ops())).toEqual({ vtep1024: 1350, 'm-dcos': 1420, 'd-dcos': 1420 });
    expect(conflistMtu(a.host)).toBe(1420);
  });

  it('auto: a changed underlay MTU is seen on the next tick, without waiting for the full re-read', async () => {
    const a = start('auto');
    await settle();
    a.master.send({ type: 'resync', state: { agents: [ME] } });
    await settle();
    expect(mtus(a.kernel.ops())).toEqual({ vtep1024: 8950, 'm-dcos': 8950, 'd-dcos': 8950 });
    // Someone lowers the underlay: `ip monitor` says nothing of links vxnet does not own.
    a.kernel.state.links = a.kernel.state.links.map((l) => (l.name === 'eth0' ? { ...l, mtu: 1500 } : l));
    a.host.linkMtus.set('eth0', 1500);
    a.clock.advance(1000);
    await settle();
    expect(mtus(a.kernel.ops())).toEqual({ vtep1024: 1450, 'm-dcos': 1450, 'd-dcos': 1450 });
    expect(conflistMtu(a.host)).toBe(1450);
  });
});
