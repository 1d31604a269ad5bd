// The history a master keeps for watchers is bounded by bytes, and so is its
// file: an agent that keeps reporting hundreds of containers (each report a
// ~40 KB record) must not grow vxnet.db without end. Watchers still resume
// from a retained revision, and get a resync for a trimmed one.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { call, cleanup, startMaster, tempDir, writeConfig } from './fixtures/master/master-process.js';
import { openWatch } from './fixtures/master/sse.js';

const MiB = 1024 * 1024;
const AGENT = '198.18.0.1';
const PUTS = 1200;
/**
 * The default history (16 MiB) + the WAL cut back to 4 MiB at each checkpoint
 * (up to 1,000 pages more between them) + up to 4 MiB of free pages kept +
 * the state. Without the bound, 1,200 reports keep ~48 MB.
 */
const CEILING = 30 * MiB;

const dirs: string[] = [];
afterAll(() => cleanup(dirs));

const onDisk = (data: string): number =>
  ['vxnet.db', 'vxnet.db-wal'].reduce((n, f) => n + (existsSync(join(data, f)) ? statSync(join(data, f)).size : 0), 0);

it('keeps vxnet.db bounded under alternating 440-container reports, and watchers resume', async () => {
  const dir = await tempDir('vxnet-history-');
  dirs.push(dir);
  const data = join(dir, 'data');
  const config = await writeConfig(dir, 'config.json', {
    vtep_subnet: '44.0.0.0/24',
    vtep_mac_oui: '70:B3:D5:00:00:00',
    overlays: [{ name: 'a', subnet: '10.0.0.0/16', prefix: 20 }],
  });
  let master = await startMaster({ config, data });
  const reg = await call(master.url, 'POST', '/overlay-master/agents', { ip: AGENT });
  expect(reg.status).toBe(200);
  const subnet: string = reg.body.overlays.find((o: { info: { name: string } }) => o.info.name === 'a').subnet;
  const [a, b, c] = subnet.split('/')[0]!.split('.').map(Number) as [number, number, number];
  // Addresses 2..441 of the agent's /20: the lower (CNI) half.
  const ipAt = (i: number) => `${a}.${b}.${c + ((i + 2) >> 8)}.${(i + 2) & 255}`;
  const report = (tag: string) => ({
    containers: Array.from({ length: 440 }, (_, i) => ({
      id: `${tag}${String(i).padStart(31, '0')}`,
      network: 'a',
      ip: ipAt(i),
      interface: 'eth0',
    })),
  });
  const reports = [report('a'), report('b')];
  expect(JSON.stringify(reports[0]).length).toBeGreaterThan(30_000);

  const first = Number((await call(master.url, 'GET', '/healthz')).body.revision);
  const live = await openWatch(master.url, first);
  let last = first;
  for (let i = 0; i < PUTS; i++) {
    const r = await call(master.url, 'PUT', `/overlay-master/agents/${AGENT}/containers`, reports[i % 2]);
    expect(r.status).toBe(200);
    if (i % 100 === 0) expect(onDisk(data)).toBeLessThan(CEILING);
  }
  last = Number((await call(master.url, 'GET', '/healthz')).body.revision);
  expect(last).toBeGreaterThanOrEqual(first + PUTS);
  expect(onDisk(data)).toBeLessThan(CEILING);

  // A watcher that kept reading saw every change, live.
  await live.waitFor(last - first, 60_000);
  expect(live.events.at(-1)!.id).toBe(last);
  live.close();

  const resume = async (url: string) => {
    // A recent revision is replayed change by change ...
    const recent = await openWatch(url, last - 3);
    const [event] = await recent.waitFor(1, 30_000);
    expect(event!.event).not.toBe('resync');
    expect(event!.id).toBe(last - 2);
    recent.close();
    // ... one long trimmed gets the whole state instead.
    const old = await openWatch(url, first);
    const [resync] = await old.waitFor(1, 30_000);
    expect(resync!.event).toBe('resync');
    expect(resync!.id).toBe(last);
    old.close();
  };
  await resume(master.url);

  // After a restart the retained history is still there, and the file still bounded.
  expect(await master.stop()).toBe(0);
  expect(onDisk(data)).toBeLessThan(CEILING);
  master = await startMaster({ config, data });
  await resume(master.url);
  expect(await master.stop()).toBe(0);
}, 300_000);
