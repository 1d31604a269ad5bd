// What an operator runs into: odd requests and odd command lines, answered
// with clear errors by a real master process, never a 500, hang or stray file.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, cleanup, type MasterProcess, runCli, startMaster, tempDir } from './fixtures/master/master-process.js';

describe('master: odd requests', () => {
  let dir: string;
  let master: MasterProcess;

  beforeAll(async () => {
    dir = await tempDir();
    master = await startMaster({ data: join(dir, 'data') });
  });
  afterAll(() => cleanup([dir]));

  it('deletes thousands of agents in one request (the lock once overflowed the stack: 500)', async () => {
    for (const ip of ['10.7.0.1', '10.7.15.100'])
      expect((await call(master.url, 'POST', '/overlay-master/agents', { ip })).status).toBe(200);
    const agents = Array.from({ length: 4000 }, (_, i) => `10.7.${i >> 8}.${i & 255}`);
    const r = await call(master.url, 'POST', '/overlay-master/agents/delete', { agents });
    expect(r.status).toBe(200);
    expect(r.body.agents).toEqual([]);
    // The master still takes those keys afterwards.
    expect((await call(master.url, 'POST', '/overlay-master/agents', { ip: '10.7.0.1' })).status).toBe(200);
  });

  it('answers a wrong method on a known path with 405 and Allow', async () => {
    const res = await fetch(`${master.url}/overlay-master/containers`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('METHOD_NOT_ALLOWED');
  });

  it("answers oversized headers with 431 in the API shape, not the framework's", async () => {
    const res = await fetch(`${master.url}/overlay-master/state`, { headers: { 'x-junk': 'a'.repeat(20_000) } });
    expect(res.status).toBe(431);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('HEADERS_TOO_LARGE');
  });
});

describe('master: odd command lines', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir();
  });
  afterAll(() => cleanup([dir]));

  it('refuses --data naming a file, saying so', async () => {
    const file = join(dir, 'plain');
    await writeFile(file, 'x');
    const r = await runCli(['master', '--data', file, '--listen', '127.0.0.1:0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `cannot use ${file} as the store directory (it is a file, not a directory): pass --data a writable directory`,
    );
  });

  it('refuses --data where no directory can be made, instead of hanging', async () => {
    const r = await runCli(['master', '--data', '/proc/vxnet-test-no-dir/data', '--listen', '127.0.0.1:0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('mkdir /proc/vxnet-test-no-dir: ENOENT');
  }, 10_000);

  it('refuses an unknown --log-level, listing the choices', async () => {
    const r = await runCli(['master', '--data', join(dir, 'd1'), '--log-level', 'loud']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("argument 'loud' is invalid. Allowed choices are fatal, error, warn, info, debug, trace, silent");
  });

  it('network delete on a directory without a store says so and creates nothing', async () => {
    const missing = join(dir, 'typo');
    const r = await runCli(['network', 'delete', 'dcos-1', '--data', missing]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${missing} holds no vxnet store (no vxnet.db); pass the --data directory the master uses`);
    expect(existsSync(missing)).toBe(false);
  });
});
