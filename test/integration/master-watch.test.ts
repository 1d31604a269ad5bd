// The watch stream of a real master: live events, replay on reconnect, resync when too old.
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

  it('starts with a resync and delivers a registration within milliseconds', async () => {
    await call(master.url, 'POST', '/overlay-master/agents', { ip: '10.0.0.1' });
    const watch = await openWatch(master.url);
    const [resync] = await watch.waitFor(1);
    expect(resync!.event).toBe('resync');
    expect(resync!.data.state.agents.map((a: { ip: string }) => a.ip)).toEqual(['10.0.0.1']);
    expect(resync!.data.revision).toBe(resync!.id);

    const sent = performance.now();
    const answer = await call(master.url, 'POST', '/overlay-master/agents', { ip: '10.0.0.2' });
    const [, put] = await watch.waitFor(2);
    expect(put!.event).toBe('put');
    expect(put!.data.agent).toEqual(answer.body);
    expect(put!.id).toBeGreaterThan(resync!.id);
    expect(put!.at - sent).toBeLessThan(250);
    lastId = put!.id;
    watch.close();
  });

  it('replays exactly what a reconnecting client missed, in order', async () => {
    await call(master.url, 'POST', '/overlay-master/agents', { ip: '10.0.0.3' });
    await call(master.url, 'PUT', '/overlay-master/agents/10.0.0.3/status', { overlays: [{ name: 'dcos-1', status: 'STATUS_OK' }] });
    await call(master.url, 'POST', '/overlay-master/agents/delete', { agents: ['10.0.0.1'] });
    const watch = await openWatch(master.url, lastId);
    const events = await watch.waitFor(3);
    expect(events.map((e) => [e.event, e.data.agent?.ip ?? e.data.ip])).toEqual([
      ['put', '10.0.0.3'],
      ['put', '10.0.0.3'],
      ['delete', '10.0.0.1'],
    ]);
    expect(events[1]!.data.agent.overlays[0].state.status).toBe('STATUS_OK');
    expect(events.map((e) => e.id)).toEqual([...events.map((e) => e.id)].sort((a, b) => a - b));
    await new Promise((ok) => setTimeout(ok, 200));
    expect(watch.events).toHaveLength(3);
    lastId = events[2]!.id;
    watch.close();
  });

  it('tells a client older than the history (here: lost in a restart) to resync', async () => {
    expect(await master.stop()).toBe(0);
    master = await startMaster({ data });
    const old = await openWatch(master.url, 1);
    const [first] = await old.waitFor(1);
    expect(first!.event).toBe('resync');
    expect(first!.data.state.agents.map((a: { ip: string }) => a.ip)).toEqual(['10.0.0.2', '10.0.0.3']);
    old.close();
    const current = await openWatch(master.url, lastId);
    await call(master.url, 'POST', '/overlay-master/agents', { ip: '10.0.0.4' });
    const [put] = await current.waitFor(1);
    expect(put).toMatchObject({ event: 'put', data: { agent: { ip: '10.0.0.4' } } });
    expect((await call(master.url, 'GET', '/metrics')).text).toMatch(/^vxnet_watch_streams 1$/m);
    current.close();
    const deadline = Date.now() + 3000;
    let open = '';
    while (Date.now() < deadline && !/^vxnet_watch_streams 0$/m.test(open)) open = (await call(master.url, 'GET', '/metrics')).text;
    expect(open).toMatch(/^vxnet_watch_streams 0$/m);
  });
});
