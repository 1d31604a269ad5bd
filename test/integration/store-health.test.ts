// /healthz must not say "ok" while every write fails: a full disk (here the
// store's size cap, which fails writes with SQLITE_FULL as a full disk does)
// turns it to 503 "degraded" with the reason.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { DEFAULT_NETWORK_CONFIG } from '../../src/config/types.js';
import { createMetrics } from '../../src/master/metrics.js';
import { soleMaster } from '../../src/master/role.js';
import { buildMasterApp } from '../../src/master/server.js';
import { MasterService } from '../../src/master/service.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'vxnet-health-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('reports degraded while store writes fail', async () => {
  const store = await SqliteStore.open(dir, { maxDatabaseBytes: 96 * 1024 });
  const service = await MasterService.start(store, DEFAULT_NETWORK_CONFIG, { storeArgs: `--data ${dir}` });
  const app = buildMasterApp({ role: soleMaster(service), metrics: createMetrics(() => service), logLevel: 'silent' });
  try {
    const health = async () => {
      const r = await app.inject({ method: 'GET', url: '/healthz' });
      return { status: r.statusCode, body: r.json() as { status: string; reason?: string } };
    };
    expect(await health()).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect((await app.inject({ method: 'POST', url: '/overlay-master/agents', payload: { ip: '198.18.0.1' } })).statusCode).toBe(200);
    // Fill the file until writes fail, as on a full disk.
    let failed = 0;
    for (let i = 2; i < 250 && failed === 0; i++) {
      const r = await app.inject({ method: 'POST', url: '/overlay-master/agents', payload: { ip: `198.18.0.${i}` } });
      if (r.statusCode === 503) failed = i;
      else expect(r.statusCode).toBe(200);
    }
    expect(failed).toBeGreaterThan(0);
    const degraded = await health();
    expect(degraded.status).toBe(503);
    expect(degraded.body.status).toBe('degraded');
    expect(degraded.body.reason).toContain(join(dir, 'vxnet.db'));
    // Reads still work meanwhile (the unit test of SqliteStore.writeTrouble covers the way back to ok).
    expect((await app.inject({ method: 'GET', url: '/overlay-master/state' })).statusCode).toBe(200);
  } finally {
    await service.close();
    await app.close();
    await store.close();
  }
});
