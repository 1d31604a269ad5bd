// The web page's utilisation table in real headless Chromium against a real
// master: agents and containers reported over HTTP, then what a user sees,
// and that it follows a registration live.
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openChromium } from './fixtures/chromium.js';
import { call, cleanup, type MasterProcess, startMaster, tempDir, writeConfig } from './fixtures/master/master-process.js';

const dirs: string[] = [];
let master: MasterProcess;
let browser: BrowserContext;
let page: Page;
let pageErrors: string[] = [];

beforeAll(async () => {
  const dir = await tempDir('vxnet-web-use-');
  dirs.push(dir);
  const config = await writeConfig(dir, 'config.json', {
    vtep_subnet: '198.19.0.0/29',
    vtep_mac_oui: '70:B3:D5:00:00:00',
    overlays: [{ name: 'tiny', subnet: '10.1.0.0/22', prefix: 24 }],
  });
  master = await startMaster({ data: join(dir, 'data'), config });
  const opened = await openChromium();
  dirs.push(opened.profile);
  ({ browser, page } = opened);
  pageErrors = opened.pageErrors;
});

afterAll(async () => {
  await browser?.close();
  await cleanup(dirs);
});

const rows = (): Promise<string[]> =>
  page
    .locator('#utilisation tbody tr')
    .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => (td as HTMLElement).innerText.trim()).join(' | ')));

describe('web page: utilisation', () => {
  it('shows agent subnets, VTEP and container addresses used and free, and follows changes live', async () => {
    for (const ip of ['198.18.0.1', '198.18.0.2', '198.18.0.3'])
      expect((await call(master.url, 'POST', '/overlay-master/agents', { ip })).status).toBe(200);
    const containers = [{ id: 'a', network: 'tiny', ip: '10.1.0.2', interface: 'eth0' }];
    expect((await call(master.url, 'PUT', '/overlay-master/agents/198.18.0.1/containers', { containers })).status).toBe(200);
    await page.goto(`${master.url}/#networks`);
    await expect
      .poll(rows, { timeout: 15_000 })
      .toEqual([
        'VTEP | IPv4 | 198.19.0.0/29 | 3 / 6 used (50%), 3 free | —',
        'tiny | IPv4 | 10.1.0.0/22 /24 | 3 / 4 used (75%), 1 free | 1 / 750 used (0.1%), 749 free',
      ]);
    // A fourth agent fills the overlay: the row follows the watch and turns to the "full" style.
    expect((await call(master.url, 'POST', '/overlay-master/agents', { ip: '198.18.0.4' })).status).toBe(200);
    await expect
      .poll(async () => (await rows())[1], { timeout: 15_000 })
      .toBe('tiny | IPv4 | 10.1.0.0/22 /24 | 4 / 4 used (100%), 0 free | 1 / 1000 used (0.1%), 999 free');
    expect(await page.locator('#utilisation tr[data-pool="tiny"] .use-full').count()).toBe(1);
    // Per agent, on the Agents view: each agent's subnet and its container addresses.
    await page.goto(`${master.url}/#agents`);
    const agentRows = () =>
      page
        .locator('#agent-utilisation tbody tr')
        .evaluateAll((trs) =>
          trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => (td as HTMLElement).innerText.trim()).join(' | ')),
        );
    await expect
      .poll(async () => (await agentRows()).slice(0, 2), { timeout: 15_000 })
      .toEqual([
        '198.18.0.1 | tiny | 10.1.0.0/24 | 1 / 250 used (0.4%), 249 free',
        '198.18.0.2 | tiny | 10.1.1.0/24 | 0 / 250 used (0%), 250 free',
      ]);
    await page.screenshot({ path: '/tmp/vxnet-web-utilisation.png', fullPage: true });
    expect(pageErrors).toEqual([]);
  });
});
