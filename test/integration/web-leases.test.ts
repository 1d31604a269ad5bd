// The web page's lease tables in real headless Chromium against a real master
// with a short --agent-ttl: an agent registered over HTTP that never renews
// expires, and the open page lists it (from the watch stream, no reload);
// when it comes back, its old allocation shows as quarantined and the
// containers it reports on the old subnet as stranded.
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openChromium } from './fixtures/chromium.js';
import type { LeasesView } from '../../src/api/types.js';
import { call, cleanup, type MasterProcess, startMasterProcess, tempDir, writeConfig } from './fixtures/master/master-process.js';

const A = '198.18.0.1';
const B = '198.18.0.2';
/** Generous: expiry needs the TTL (3 s) plus a sweep, on a loaded machine. */
const POLL = { timeout: 30_000, interval: 200 };
const dirs: string[] = [];
const beats: ReturnType<typeof setInterval>[] = [];
let master: MasterProcess;
let browser: BrowserContext;
let page: Page;
let pageErrors: string[] = [];

/** Renews `ip`'s lease every 500 ms (a sixth of the TTL), as a live agent would. */
function keepAlive(ip: string, epoch: number): void {
  beats.push(setInterval(() => void call(master.url, 'POST', `/overlay-master/agents/${ip}/heartbeat`, { epoch }).catch(() => {}), 500));
}

beforeAll(async () => {
  const dir = await tempDir('vxnet-web-leases-');
  dirs.push(dir);
  const config = await writeConfig(dir, 'config.json', {
    vtep_subnet: '198.19.0.0/29',
    vtep_mac_oui: '70:B3:D5:00:00:00',
    overlays: [{ name: 'tiny', subnet: '10.1.0.0/22', prefix: 24 }],
  });
  master = await startMasterProcess([
    'master',
    '--data',
    join(dir, 'data'),
    '--listen',
    '127.0.0.1:0',
    '--config',
    config,
    '--agent-ttl',
    '3s',
    '--agent-quarantine',
    '10m',
  ]);
  const opened = await openChromium({ width: 1280, height: 900 });
  dirs.push(opened.profile);
  ({ browser, page } = opened);
  pageErrors = opened.pageErrors;
});

afterAll(async () => {
  for (const b of beats) clearInterval(b);
  await browser?.close();
  await master?.stop();
  await cleanup(dirs);
});

const rows = (table: string): Promise<string[]> =>
  page
    .locator(`#${table} tbody tr`)
    .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => (td as HTMLElement).innerText.trim()).join(' | ')));
const note = (id: string): Promise<string | null> =>
  page
    .locator(`#${id}:visible`)
    .textContent({ timeout: 1_000 })
    .catch(() => null);
const utc = (iso: string): string => iso.replace(/^(\S+)T(\d\d:\d\d:\d\d)(\.\d+)?Z$/, '$1 $2 UTC');
const leases = async (): Promise<LeasesView> => (await call<LeasesView>(master.url, 'GET', '/overlay-master/leases')).body;

describe('web page: expired agents, quarantined allocations and stranded containers', () => {
  it('lists an agent that stopped renewing once it expires, live, with its VTEP, subnets and quarantine end', async () => {
    await page.goto(`${master.url}/#agents`);
    await expect.poll(() => note('held-empty'), POLL).toBe('None: every agent that holds an allocation is renewing its lease.');
    await expect.poll(() => note('stranded-empty'), POLL).toBe('None: no container is left on an address its agent no longer holds.');

    const a = await call(master.url, 'POST', '/overlay-master/agents', { ip: A });
    const b = await call(master.url, 'POST', '/overlay-master/agents', { ip: B });
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.body).toMatchObject({ epoch: 1, ttl_seconds: 3 });
    keepAlive(B, b.body.epoch); // A never renews
    await expect.poll(async () => (await rows('agents')).length, POLL).toBe(2);

    // The page is not reloaded: the `delete` and `expired` events bring the change.
    await expect.poll(async () => (await rows('held')).length, POLL).toBe(1);
    const [held] = (await leases()).held;
    expect(held).toMatchObject({ ip: A, kind: 'expired', vtep_ip: '198.19.0.1', overlays: { tiny: { subnet: '10.1.0.0/24' } } });
    expect(await rows('held')).toEqual([
      `${A} | expired: the agent has not come back (epoch 1) | ${utc(held!.expired_at)} | ${utc(held!.until)} | 198.19.0.1 | tiny 10.1.0.0/24`,
    ]);
    expect(await page.locator(`#held tr[data-kind="expired"] .lease-expired`).count()).toBe(1);
    expect(await note('held-empty')).toBeNull();
    // It left the agents table, exactly as a deleted agent does.
    expect((await rows('agents')).map((r) => r.split(' | ')[0])).toEqual([B]);
  });

  it('shows its old allocation as quarantined when it comes back, and the containers it strands there', async () => {
    const back = await call(master.url, 'POST', '/overlay-master/agents', { ip: A });
    expect(back.status).toBe(200);
    expect(back.body.epoch).toBe(2);
    expect(back.body.overlays[0].subnet).toBe('10.1.2.0/24'); // 10.1.0.0/24 stays held
    keepAlive(A, 2);
    const stranded = [
      { id: '0123456789abcdef0123', name: 'web', network: 'tiny', ip: '10.1.0.5', interface: 'eth0' },
      { id: '<img src=x onerror="document.title=1">', network: 'tiny', ip: '10.1.0.6', interface: 'eth0' },
    ];
    expect((await call(master.url, 'PUT', `/overlay-master/agents/${A}/containers`, { containers: [], stranded })).status).toBe(200);

    await expect
      .poll(() => rows('stranded'), POLL)
      .toEqual([`${A} | web (0123456789ab) | tiny | 10.1.0.5`, `${A} | <img src=x onerror="document.title=1"> | tiny | 10.1.0.6`]);
    const [held] = (await leases()).held;
    expect(held).toMatchObject({ ip: A, kind: 'quarantined', epoch: 1 });
    expect(await rows('held')).toEqual([
      `${A} | came back with a fresh allocation; the old one is held (epoch 1) | ${utc(held!.expired_at)} | ${utc(held!.until)} | 198.19.0.1 | tiny 10.1.0.0/24`,
    ]);
    expect(await page.locator('#stranded img').count()).toBe(0);
    expect(await note('stranded-empty')).toBeNull();
    await page.screenshot({ path: '/tmp/vxnet-web-leases.png', fullPage: true });
    expect(await page.title()).not.toBe('1');
    expect(pageErrors).toEqual([]);
  });
});
