// A real master restarted on its SQLite store: it serves reads before it
// takes writes, answers its first /state from the answer it left at a clean
// stop when that is exactly the stored state (before it has read every row),
// and renders it anew otherwise (after a crash, or when the store moved on).
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { call, cleanup, startMaster, tempDir, writeConfig } from './fixtures/master/master-process.js';

describe('master: restart', () => {
  const dirs: string[] = [];
  afterAll(() => cleanup(dirs));

  it('answers /state as before a clean stop, from what it left, and never from a stale answer', async () => {
    const dir = await tempDir();
    dirs.push(dir);
    const config = await writeConfig(dir, 'net.json', {
      vtep_subnet: '198.16.0.0/16',
      vtep_mac_oui: '70:B3:D5:00:00:00',
      overlays: [{ name: 'a', subnet: '10.0.0.0/8', prefix: 24 }],
    });
    const data = join(dir, 'data');
    const cache = join(data, 'state-cache');
    const first = await startMaster({ config, data });
    for (let n = 0; n < 40; n++)
      expect((await call(first.url, 'POST', '/overlay-master/agents', { ip: `172.16.0.${n + 1}` })).status).toBe(200);
    const before = (await call(first.url, 'GET', '/overlay-master/state')).text;
    expect(await first.stop()).toBe(0);
    expect(existsSync(cache)).toBe(true);
    copyFileSync(cache, join(dir, 'old-cache'));

    // Clean restart: the same bytes; the cache is taken, so nothing is left to trust after a crash.
    const second = await startMaster({ config, data });
    expect(second.output()).toContain('answering GET /overlay-master/state on');
    expect(second.output()).toContain('serving reads on');
    expect(existsSync(cache)).toBe(false);
    expect((await call(second.url, 'GET', '/overlay-master/state')).text).toBe(before);
    expect(second.output()).not.toContain('unused');
    expect((await call(second.url, 'POST', '/overlay-master/agents', { ip: '172.16.1.1' })).status).toBe(200);
    await second.kill();
    expect(existsSync(cache)).toBe(false);

    // An answer from before the store moved on is left unused: the new agent is there.
    copyFileSync(join(dir, 'old-cache'), cache);
    const third = await startMaster({ config, data });
    expect(third.output()).toContain('state-cache unused');
    expect(third.output()).not.toContain('answering GET /overlay-master/state on');
    const after = (await call(third.url, 'GET', '/overlay-master/state')).body as { agents: { ip: string }[] };
    expect(after.agents.map((a) => a.ip)).toContain('172.16.1.1');
    expect(after.agents).toHaveLength(41);
    expect(existsSync(cache)).toBe(false);
    expect(await third.stop()).toBe(0);
  });
});
