// The web page in real headless Chromium against a real master process:
// agents and containers are reported over HTTP exactly as agents do, then we
// assert what a user sees. Tests run in order and share one master.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openChromium } from './fixtures/chromium.js';
import { CLI, call, cleanup, startMaster, tempDir, writeConfig, type MasterProcess } from './fixtures/master/master-process.js';

const XSS_ID = '<img src=x onerror=alert(1)>';
const FAILED_ERROR = 'vtep1024: RTNETLINK answers: Operation not permitted';

const dirs: string[] = [];
let master: MasterProcess;
let browser: BrowserContext;
let page: Page;
let restarted: ChildProcess | undefined;
const dialogs: string[] = [];
let pageErrors: string[] = [];

const config = {
  vtep_subnet: '198.19.0.0/20',
  vtep_subnet6: 'fd00:15::/64',
  vtep_mac_oui: '70:B3:D5:00:00:00',
  overlays: [
    { name: 'dcos-1', subnet: '10.1.0.0/16', prefix: 24 },
    { name: 'dcos-2', subnet: '10.2.0.0/24', prefix: 26, subnet6: 'fd20::/60', prefix6: 64 },
    { name: 'v6only', subnet6: 'fd10::/48', prefix6: 64 },
  ],
};

async function ok(method: string, path: string, body: unknown): Promise<void> {
  const r = await call(master.url, method, path, body);
  expect(r.status, `${method} ${path}: ${r.text}`).toBe(200);
}
const register = (ip: string) => ok('POST', '/overlay-master/agents', { ip });
const report = (ip: string, containers: object[]) => ok('PUT', `/overlay-master/agents/${ip}/containers`, { containers });
const container = (id: string, ip: string, extra: object = {}) => ({ id, network: 'dcos-1', ip, interface: 'eth0', ...extra });

/** The visible text of each row of a table, cells joined by " | ". */
const rowsOf = (table: string): Promise<string[]> =>
  page
    .locator(`#${table} tbody tr`)
    .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => (td as HTMLElement).innerText.trim()).join(' | ')));

beforeAll(async () => {
  const dir = await tempDir('vxnet-web-');
  dirs.push(dir);
  master = await startMaster({ data: join(dir, 'data'), config: await writeConfig(dir, 'config.json', config) });
  const opened = await openChromium();
  dirs.push(opened.profile);
  ({ browser, page } = opened);
  pageErrors = opened.pageErrors;
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
});

afterAll(async () => {
  await browser?.close();
  if (restarted && restarted.exitCode === null) {
    const gone = new Promise((ok) => restarted!.once('exit', ok));
    restarted.kill('SIGTERM'); // by PID: the process this file started
    await gone;
  }
  await cleanup(dirs);
});

describe('web page', () => {
  it('serves the page with a strict policy; /ui redirects to it', async () => {
    const res = await fetch(`${master.url}/ui`, { redirect: 'manual' });
    expect([res.status, res.headers.get('location')]).toEqual([302, '/']);
    const html = await fetch(`${master.url}/`);
    expect(html.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(html.headers.get('content-security-policy')).not.toContain('unsafe-inline');
  });

  it('says what to do while no agent has registered', async () => {
    await page.goto(`${master.url}/`);
    await expect.poll(() => page.locator('#hint').innerText()).toContain('No agents have registered yet: start `vxnet agent --master');
    await page.goto(`${master.url}/#agents`);
    await expect.poll(() => page.locator('#view-agents p.empty').innerText()).toContain('No agents have registered yet');
  });

  it('lists networks with subnets, prefixes, agents, utilisation and containers, live', async () => {
    await page.goto(`${master.url}/#networks`);
    await register('198.18.0.1');
    await register('198.18.0.2');
    await register('198.18.0.3');
    await report('198.18.0.1', [container('web-a', '10.1.0.2'), container('v6-c', 'fd10::2', { network: 'v6only' })]);
    await report('198.18.0.2', [container('web-b', '10.1.1.2'), container(XSS_ID, '10.1.1.3')]);
    await expect
      .poll(() => rowsOf('networks'))
      .toEqual([
        'dcos-1 | 10.1.0.0/16 | — | /24 | 3 | IPv4 3 / 256 (1.2%) | 3',
        'dcos-2 | 10.2.0.0/24 | fd20::/60 | /26, /64 | 3 | IPv4 3 / 4 (75%)\nIPv6 3 / 16 (19%) | 0',
        'v6only | — | fd10::/48 | /64 | 3 | IPv6 3 / 65536 (<0.1%) | 1',
      ]);
    await expect.poll(() => page.locator('#hint').isHidden()).toBe(true);
  });

  it('filters networks by name or subnet', async () => {
    await page.fill('#filter-networks', 'fd10');
    expect((await rowsOf('networks')).map((r) => r.split(' | ')[0])).toEqual(['v6only']);
    await page.fill('#filter-networks', 'nothing-like-this');
    expect(await rowsOf('networks')).toEqual([]);
    expect(await page.locator('#view-networks p.empty').innerText()).toContain('No network matches “nothing-like-this”');
    await page.fill('#filter-networks', '');
    expect(await rowsOf('networks')).toHaveLength(3);
  });

  it('opens a network by click and by deep link, listing containers with IPs, interface and agent', async () => {
    await page.click('#networks a[href="#network/dcos-1"]');
    expect(new URL(page.url()).hash).toBe('#network/dcos-1');
    await page.goto(`${master.url}/#network/dcos-1`);
    await page.reload();
    await expect
      .poll(() => rowsOf('containers'))
      .toEqual([
        'web-a | cni | 10.1.0.2 | — | eth0 | 198.18.0.1',
        `${XSS_ID} | cni | 10.1.1.3 | — | eth0 | 198.18.0.2`,
        'web-b | cni | 10.1.1.2 | — | eth0 | 198.18.0.2',
      ]);
    expect(await page.locator('#h-network').innerText()).toBe('Network dcos-1');
    await page.evaluate(() => (location.hash = '#network/v6only'));
    await expect.poll(() => rowsOf('containers')).toEqual(['v6-c | cni | — | fd10::2 | eth0 | 198.18.0.1']);
    await page.evaluate(() => (location.hash = '#network/dcos-1'));
    expect(await page.locator('#network-summary').innerText()).toContain('3 / 256');
    expect(await rowsOf('network-agents')).toEqual([
      '198.18.0.1 | 10.1.0.0/24 | — | … CONFIGURING',
      '198.18.0.2 | 10.1.1.0/24 | — | … CONFIGURING',
      '198.18.0.3 | 10.1.2.0/24 | — | … CONFIGURING',
    ]);
  });

  it('shows a container id full of HTML as text, never as markup', async () => {
    expect(await page.locator('#containers').getByText(XSS_ID, { exact: true }).count()).toBe(1);
    expect(await page.locator('img').count()).toBe(0);
    expect(dialogs).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('filters containers by agent and by IP', async () => {
    await page.fill('#filter-containers', '198.18.0.2');
    expect((await rowsOf('containers')).map((r) => r.split(' | ')[0])).toEqual([XSS_ID, 'web-b']);
    await page.fill('#filter-containers', '10.1.0.');
    expect((await rowsOf('containers')).map((r) => r.split(' | ')[0])).toEqual(['web-a']);
    await page.fill('#filter-containers', '');
  });

  it('shows a container reported after the page loaded, pushed over the watch stream (no reload, no polling)', async () => {
    await report('198.18.0.3', [container('late-arrival', '10.1.2.2', { interface: 'net1' })]);
    await page.locator('#containers tbody tr', { hasText: 'late-arrival' }).waitFor({ timeout: 30_000 });
    expect(await rowsOf('containers')).toContain('late-arrival | cni | 10.1.2.2 | — | net1 | 198.18.0.3');
  });

  it('shows a Docker container by short id and name, with its runtime', async () => {
    const id = `${'0123456789ab'.repeat(5)}cdef`;
    await report('198.18.0.3', [
      container('late-arrival', '10.1.2.2', { interface: 'net1' }),
      container(id, '10.1.2.130', { interface: '', runtime: 'docker', name: 'api' }),
    ]);
    await page.locator('#containers tbody tr', { hasText: 'api' }).waitFor({ timeout: 30_000 });
    expect(await rowsOf('containers')).toContain('0123456789ab api | docker | 10.1.2.130 | — | — | 198.18.0.3');
  });

  it('shows agents with VTEP, per-overlay subnets and a FAILED overlay with its error', async () => {
    await ok('PUT', '/overlay-master/agents/198.18.0.2/status', {
      overlays: [
        { name: 'dcos-1', status: 'STATUS_OK' },
        { name: 'v6only', status: 'STATUS_FAILED', error: FAILED_ERROR },
      ],
    });
    await page.click('#tab-agents');
    await expect.poll(async () => (await rowsOf('agents'))[1]).toContain(`v6only fd10:0:0:1::/64 ✗ FAILED\nerror: ${FAILED_ERROR}`);
    const rows = await rowsOf('agents');
    expect(rows.map((r) => r.split(' | ').slice(0, 3).join(' | '))).toEqual([
      '198.18.0.1 | 198.19.0.1/20\nfd00:15::1/64 | 70:b3:d5:13:00:01',
      '198.18.0.2 | 198.19.0.2/20\nfd00:15::2/64 | 70:b3:d5:13:00:02',
      '198.18.0.3 | 198.19.0.3/20\nfd00:15::3/64 | 70:b3:d5:13:00:03',
    ]);
    expect(rows[1]).toContain('dcos-1 10.1.1.0/24 ✓ OK');
    await page.fill('#filter-agents', 'FAILED');
    expect((await rowsOf('agents')).map((r) => r.split(' | ')[0])).toEqual(['198.18.0.2']);
    await page.fill('#filter-agents', '');
  });

  it('reads well at phone width: no sideways scrolling, labelled cells', async () => {
    await page.setViewportSize({ width: 360, height: 740 });
    await page.goto(`${master.url}/#network/dcos-1`);
    await page.locator('#containers tbody tr').first().waitFor();
    // Neither the page nor a table's scroll box needs sideways scrolling.
    const overflow = await page.evaluate(() =>
      [document.documentElement, ...document.querySelectorAll('.scroll')]
        .filter((e) => e.scrollWidth > e.clientWidth)
        .map((e) => e.id || e.className),
    );
    expect(overflow).toEqual([]);
    expect(
      await page
        .locator('#containers tbody td')
        .first()
        .evaluate((td) => getComputedStyle(td, '::before').content),
    ).toBe('"Container: "');
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`${master.url}/#networks`);
    await expect.poll(() => rowsOf('networks')).toHaveLength(3);
    await page.screenshot({ path: '/tmp/vxnet-web.png', fullPage: true });
  });

  it('says when the connection to the master is lost, and catches up when it is back', async () => {
    expect(await page.locator('#connection').innerText()).toMatch(/^Live/);
    const { port } = new URL(master.url);
    await master.stop();
    await expect
      .poll(() => page.locator('#connection').innerText(), { timeout: 5_000 })
      .toContain('Connection to the master lost: reconnecting');
    expect(await page.locator('#connection').getAttribute('data-state')).toBe('lost');
    // The same data dir and port, as after a master restart.
    restarted = spawn(
      process.execPath,
      [CLI, 'master', '--data', join(dirs[0]!, 'data'), '--config', join(dirs[0]!, 'config.json'), '--listen', `127.0.0.1:${port}`],
      {
        stdio: 'ignore',
      },
    );
    await expect
      .poll(
        () =>
          fetch(`${master.url}/healthz`).then(
            (r) => r.ok,
            () => false,
          ),
        { timeout: 10_000 },
      )
      .toBe(true);
    await report('198.18.0.1', [container('after-restart', '10.1.0.9')]);
    await expect.poll(() => page.locator('#connection').getAttribute('data-state'), { timeout: 10_000 }).toBe('live');
    await page.evaluate(() => (location.hash = '#network/dcos-1')); // no reload: what the stream brought
    await expect.poll(() => rowsOf('containers')).toContain('after-restart | cni | 10.1.0.9 | — | eth0 | 198.18.0.1');
  });
});
