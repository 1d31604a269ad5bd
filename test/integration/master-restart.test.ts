// A real master restarted on its SQLite store: it serves reads before it
// takes writes, answers its first /state from the answer it left at a clean
// stop when that is exactly the stored state (before it has read every row),
// keeps what still holds of one saved earlier (after a crash), and renders
// it anew otherwise.
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseStateCache } from '../../src/master/state-cache.js';
import { call, cleanup, runCli, startMaster, startMasterProcess, tempDir, writeConfig } from './fixtures/master/master-process.js';

describe('master: restart', () => {
  const dirs: string[] = [];
  afterAll(() => cleanup(dirs));

  /** A temp dir with a one-overlay config, and where the store and its saved /state go in it. */
  async function masterDir(): Promise<{ dir: string; config: string; data: string; cache: string }> {
    const dir = await tempDir();
    dirs.push(dir);
    const config = await writeConfig(dir, 'net.json', {
      vtep_subnet: '198.16.0.0/16',
      vtep_mac_oui: '70:B3:D5:00:00:00',
      overlays: [{ name: 'a', subnet: '10.0.0.0/8', prefix: 24 }],
    });
    const data = join(dir, 'data');
    return { dir, config, data, cache: join(data, 'state-cache') };
  }

  async function registerForty(url: string): Promise<void> {
    for (let n = 0; n < 40; n++) expect((await call(url, 'POST', '/overlay-master/agents', { ip: `172.16.0.${n + 1}` })).status).toBe(200);
  }

  it('answers /state as before a clean stop, from what it left, and never from a stale answer', async () => {
    const { dir, config, data, cache } = await masterDir();
    const first = await startMaster({ config, data });
    await registerForty(first.url);
    const before = (await call(first.url, 'GET', '/overlay-master/state')).text;
    expect(await first.stop()).toBe(0);
    expect(existsSync(cache)).toBe(true);
    copyFileSync(cache, join(dir, 'old-cache'));

    // Clean restart: the same bytes. The file stays the last saved state: with saving off, a crash leaves it as it was.
    const second = await startMasterProcess([
      'master',
      '--data',
      data,
      '--listen',
      '127.0.0.1:0',
      '--config',
      config,
      '--save-state-every',
      '0s',
    ]);
    expect(second.output()).toContain('answering GET /overlay-master/state on');
    expect(second.output()).toContain('serving reads on');
    expect(existsSync(cache)).toBe(true);
    expect((await call(second.url, 'GET', '/overlay-master/state')).text).toBe(before);
    expect(second.output()).not.toContain('unused');
    expect((await call(second.url, 'POST', '/overlay-master/agents', { ip: '172.16.1.1' })).status).toBe(200);
    await second.kill();
    expect(readFileSync(cache).equals(readFileSync(join(dir, 'old-cache')))).toBe(true);

    // That answer, from before the store moved on, is not served early; its agents unchanged since are kept, the new one rendered.
    const third = await startMaster({ config, data });
    expect(third.output()).toContain("took 40 of 41 agents' /state answers");
    expect(third.output()).not.toContain('answering GET /overlay-master/state on');
    const after = (await call(third.url, 'GET', '/overlay-master/state')).body as { agents: { ip: string }[] };
    expect(after.agents.map((a) => a.ip)).toContain('172.16.1.1');
    expect(after.agents).toHaveLength(41);
    expect(await third.stop()).toBe(0);
    expect(parseStateCache(readFileSync(cache))?.lengths).toHaveLength(41);
  });

  it('after a crash, keeps what it saved while running for every agent unchanged since', async () => {
    const { config, data, cache } = await masterDir();
    const argv = (every: string) => ['master', '--data', data, '--listen', '127.0.0.1:0', '--config', config, '--save-state-every', every];
    const first = await startMasterProcess(argv('1s'));
    await registerForty(first.url);
    const saved = Number((await fetch(`${first.url}/overlay-master/state`)).headers.get('x-vxnet-revision'));
    for (let t = 0; !(existsSync(cache) && parseStateCache(readFileSync(cache))?.revision === saved); t += 50) {
      if (t > 15_000) throw new Error(`no state saved at revision ${saved} within 15 s:\n${first.output()}`);
      await new Promise((ok) => setTimeout(ok, 50));
    }
    // Later saves fail (a directory is in the way of their temporary file), so what is saved stays at `saved`.
    mkdirSync(`${cache}.tmp`);
    expect(
      (await call(first.url, 'PUT', '/overlay-master/agents/172.16.0.1/status', { overlays: [{ name: 'a', status: 'STATUS_OK' }] })).status,
    ).toBe(200);
    expect((await call(first.url, 'POST', '/overlay-master/agents', { ip: '172.16.1.1' })).status).toBe(200);
    const before = (await call(first.url, 'GET', '/overlay-master/state')).text;
    for (let t = 0; !first.output().includes('could not save the state'); t += 50) {
      if (t > 15_000) throw new Error(`no failed save said within 15 s:\n${first.output()}`);
      await new Promise((ok) => setTimeout(ok, 50));
    }
    await first.kill();

    const second = await startMasterProcess(argv('0s'));
    // 172.16.0.1 changed and 172.16.1.1 is new since the save: the other 39 keep their saved bytes.
    expect(second.output()).toContain(`took 39 of 41 agents' /state answers from ${cache} (saved at revision ${saved};`);
    expect((await call(second.url, 'GET', '/overlay-master/state')).text).toBe(before);
    expect(await second.stop()).toBe(0);
  });

  it('refuses a save interval under a second, one that is no duration, and one with --etcd, naming the flag and the fix', async () => {
    const { data } = await masterDir();
    const short = await runCli(['master', '--data', data, '--listen', '127.0.0.1:0', '--save-state-every', '500ms']);
    expect(short.code).not.toBe(0);
    expect(short.stderr).toContain(
      '--save-state-every 500ms is shorter than 1s: each save writes the whole /state; give 1s or more, or 0s',
    );
    const bare = await runCli(['master', '--data', data, '--listen', '127.0.0.1:0', '--save-state-every', '5']);
    expect(bare.stderr).toContain('--save-state-every "5" is not a duration; give a number with a unit');
    const etcd = await runCli(['master', '--etcd', 'http://127.0.0.1:1', '--listen', '127.0.0.1:0', '--save-state-every', '1m']);
    expect(etcd.code).not.toBe(0);
    expect(etcd.stderr).toContain('--save-state-every goes with --data: masters on --etcd keep no saved state; leave it out');
  });
});
