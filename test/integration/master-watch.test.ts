// The watch stream of a real master: live events, replay on reconnect (also
// across a restart, from the store's history), resync when unknown.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, cleanup, type MasterProcess, startMaster, tempDir } from './fixtures/master/master-process.js';
import { openWatch } from './fixtures/master/sse.js';

describe('master: watch', () => {
  let dir: string;
  let data: string;
  let master: MasterProcess;

  beforeAll(async () => {
    dir = await tempDir();
    data = join(dir, 'data');
    master = await startMaster({ data });
  });
  afterAll(() => cleanup([dir]));

  let lastId = 0;

  // Speed figures live in the benches; here every wait is for an event, with a generous ceiling.
  const CEILING = 30_000;

  it('starts with a resync, then delivers a registration as the answer says', async () => {
    await call(master.url, 'POST', '/overlay-master/agents', { ip: '10.0.0.1' });
    const watch = await openWatch(master.url);
    const [resync] = await watch.waitFor(1, CEILING);
    expect(resync!.event).toBe('resync');
    expect(resync!.data.state.agents.map((a: { ip: string }) => a.ip)).toEqual(['10.0.0.1']);
    expect(resync!.data.revision).toBe(resync!.id);

    const answer = await call(master.url, 'POST', '/overlay-master/agents', { ip: '10.0.0.2' });
    const [, put] = await watch.waitFor(2, CEILING);
    expect(put!.event).toBe('put');
    expect(put!.data.agent).toEqual(answer.body);
    expect(put!.id).toBeGreaterThan(resync!.id);
    // Every read says which revision it reflects.
    const state = await fetch(`${master.url}/overlay-master/state`);
    expect(Number(state.headers.get('x-vxnet-revision'))).toBe(put!.id);
    lastId = put!.id;
    watch.close();
  });

  it('replays exactly what a reconnecting client missed, in order', async () => {
    await call(master.url, 'POST', '/overlay-master/agents', { ip: '10.0.0.3' });
    await call(master.url, 'PUT', '/overlay-master/agents/10.0.0.3/status', { overlays: [{ name: 'dcos-1', status: 'STATUS_OK' }] });
    await call(master.url, 'POST', '/overlay-master/agents/delete', { agents: ['10.0.0.1'] });
    const watch = await openWatch(master.url, lastId);
    const events = await watch.waitFor(3, CEILING);
    expect(events.map((e) => [e.event, e.data.agent?.ip ?? e.data.ip])).toEqual([
      ['put', '10.0.0.3'],
      ['put', '10.0.0.3'],
      ['delete', '10.0.0.1'],
    ]);
    expect(events[1]!.data.agent.overlays[0].state.status).toBe('STATUS_OK');
    expect(events.map((e) => e.id)).toEqual([...events.map((e) => e.id)].sort((a, b) => a - b));
    // Nothing else was replayed: the next event is the next change.
    await call(master.url, 'POST', '/overlay-master/agents', { ip: '10.0.0.5' });
    const next = (await watch.waitFor(4, CEILING))[3]!;
    expect([next.event, next.data.agent.ip, next.id]).toEqual(['put', '10.0.0.5', events[2]!.id + 1]);
    lastId = next.id;
    watch.close();
  });

  it('resumes a client across a restart with only the changes it missed, from the store', async () => {
    expect(await master.stop()).toBe(0);
    master = await startMaster({ data });
    await call(master.url, 'POST', '/overlay-master/agents', { ip: '10.0.0.4' });
    const resumed = await openWatch(master.url, lastId);
    const [missed] = await resumed.waitFor(1, CEILING);
    expect(missed).toMatchObject({ event: 'put', id: lastId + 1, data: { agent: { ip: '10.0.0.4' } } });
    expect((await call(master.url, 'GET', '/metrics')).text).toMatch(/^vxnet_watch_streams 1$/m);
    resumed.close();
    let open = '';
    const deadline = Date.now() + CEILING;
    while (Date.now() < deadline && !/^vxnet_watch_streams 0$/m.test(open)) open = (await call(master.url, 'GET', '/metrics')).text;
    expect(open).toMatch(/^vxnet_watch_streams 0$/m);
  });

  it('tells a client whose revision the store never reached to resync', async () => {
    const ahead = await openWatch(master.url, 1_000_000);
    const [first] = await ahead.waitFor(1, CEILING);
    expect(first!.event).toBe('resync');
    expect(first!.data.state.agents.map((a: { ip: string }) => a.ip)).toEqual(['10.0.0.2', '10.0.0.3', '10.0.0.5', '10.0.0.4']);
    ahead.close();
  });
});
