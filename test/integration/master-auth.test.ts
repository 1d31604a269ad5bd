// Agents speak only for themselves: per-agent credentials, the join and admin
// tokens, and the guards of a master without tokens, against real master processes.
import { createHash } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREDENTIAL_FILE, fileCredentialStore } from '../../src/agent/credential.js';
import { MasterClient } from '../../src/agent/master-client.js';
import { call, cleanup, type MasterProcess, runCli, startMasterProcess, tempDir } from './fixtures/master/master-process.js';

const JOIN = 'join-token-0123456789abcdef';
const ADMIN = 'admin-token-0123456789abcdef';
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const STATUS = { overlays: [{ name: 'dcos-1', status: 'STATUS_OK' }] };

/** A GET with a Host header of our choosing (fetch will not send one). */
function getWithHost(url: string, path: string, host: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(url + path, { headers: { host } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The first SSE event of a watch (the resync, or the first replayed change). */
async function firstWatchEvent(url: string, since: number): Promise<string> {
  const controller = new AbortController();
  const res = await fetch(`${url}/overlay-master/watch?since=${since}`, { signal: controller.signal });
  let text = '';
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    text += Buffer.from(chunk).toString();
    if (text.includes('\n\n')) break;
  }
  controller.abort();
  return text;
}

describe('master with join and admin tokens', () => {
  let dir: string;
  let master: MasterProcess;
  const issued: string[] = [];
  const register = async (ip: string, token: string) => {
    const r = await call(master.url, 'POST', '/overlay-master/agents', { ip }, bearer(token));
    if (r.status === 200) issued.push(r.body.credential);
    return r;
  };

  beforeAll(async () => {
    dir = await tempDir('vxnet-auth-');
    await writeFile(join(dir, 'join'), `${JOIN}\n`);
    await writeFile(join(dir, 'admin'), `${ADMIN}\n`);
    master = await startMasterProcess([
      'master',
      '--data',
      join(dir, 'data'),
      '--listen',
      '127.0.0.1:0',
      '--token-file',
      join(dir, 'join'),
      '--admin-token-file',
      join(dir, 'admin'),
    ]);
  });
  afterAll(async () => {
    await master.stop();
    await cleanup([dir]);
  });

  it('answers a registration in the DC/OS shape plus a credential; agent B cannot write for A or delete it', async () => {
    const a = await register('10.0.0.1', JOIN);
    expect(a.status).toBe(200);
    expect(Object.keys(a.body).sort()).toEqual(['credential', 'ip', 'overlays']);
    expect(a.body.credential).toMatch(/^[\w-]{43}$/);
    const b = await register('10.0.0.2', JOIN);
    const [credA, credB] = [a.body.credential as string, b.body.credential as string];

    const forA = (path: string, body: unknown, token: string) =>
      call(master.url, 'PUT', `/overlay-master/agents/10.0.0.1/${path}`, body, bearer(token));
    expect((await forA('status', STATUS, credB)).status).toBe(403);
    expect((await forA('containers', { containers: [] }, credB)).status).toBe(403);
    expect((await forA('status', STATUS, JOIN)).status).toBe(403);
    expect((await call(master.url, 'PUT', '/overlay-master/agents/10.0.0.1/status', STATUS)).status).toBe(401);
    expect((await forA('status', STATUS, credA)).status).toBe(200);
    expect((await forA('containers', { containers: [] }, credA)).status).toBe(200);

    const del = (headers: Record<string, string>) =>
      call(master.url, 'POST', '/overlay-master/agents/delete', { agents: ['10.0.0.1'] }, headers);
    const refused = await del(bearer(credB));
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toContain('admin token');
    expect((await del(bearer(JOIN))).status).toBe(403);
    expect((await del({})).status).toBe(401);
    const state = await call(master.url, 'GET', '/overlay-master/state');
    expect(state.body.agents.map((x: { ip: string }) => x.ip)).toEqual(['10.0.0.1', '10.0.0.2']);
  });

  it('does not let the join token take over a registered IP; its credential rotates it, the admin token resets it', async () => {
    const first = await register('10.0.0.3', JOIN);
    const old = first.body.credential as string;
    const takeover = await register('10.0.0.3', JOIN);
    expect(takeover.status).toBe(403);
    expect(takeover.body.error.message).toContain('holds a credential');
    // The refused takeover changed nothing: the credential still works.
    expect((await call(master.url, 'PUT', '/overlay-master/agents/10.0.0.3/status', STATUS, bearer(old))).status).toBe(200);

    const rotated = await register('10.0.0.3', old);
    expect(rotated.status).toBe(200);
    const current = rotated.body.credential as string;
    expect(current).not.toBe(old);
    expect((await call(master.url, 'PUT', '/overlay-master/agents/10.0.0.3/status', STATUS, bearer(old))).status).toBe(403);
    expect((await register('10.0.0.3', old)).status).toBe(403);
    expect((await call(master.url, 'PUT', '/overlay-master/agents/10.0.0.3/status', STATUS, bearer(current))).status).toBe(200);

    const reset = await register('10.0.0.3', ADMIN);
    expect(reset.status).toBe(200);
    expect((await call(master.url, 'PUT', '/overlay-master/agents/10.0.0.3/status', STATUS, bearer(current))).status).toBe(403);
    expect((await call(master.url, 'PUT', '/overlay-master/agents/10.0.0.3/status', STATUS, bearer(reset.body.credential))).status).toBe(
      200,
    );
  });

  it('deletes agents with the admin token', async () => {
    await register('10.0.0.9', JOIN);
    const r = await call(master.url, 'POST', '/overlay-master/agents/delete', { agents: ['10.0.0.9'] }, bearer(ADMIN));
    expect(r.status).toBe(200);
    expect((await call(master.url, 'GET', '/overlay-master/agents/10.0.0.9')).status).toBe(404);
  });

  it('lets the agent keep its credential in its state dir (0600) and re-register with it after a restart', async () => {
    const stateDir = join(dir, 'agent-state');
    const client = () => new MasterClient({ urls: [master.url], token: JOIN, credentials: fileCredentialStore(stateDir) });
    const signal = new AbortController().signal;
    const info = await client().register({ ip: '10.0.0.4' }, signal);
    expect(info).not.toHaveProperty('credential');
    const file = join(stateDir, CREDENTIAL_FILE);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const first = (await readFile(file, 'utf8')).trim();
    issued.push(first);
    // A restarted agent: a new client on the same state dir re-registers with it, which rotates it.
    const restarted = client();
    await restarted.register({ ip: '10.0.0.4' }, signal);
    const second = (await readFile(file, 'utf8')).trim();
    issued.push(second);
    expect(second).not.toBe(first);
    await restarted.putStatus('10.0.0.4', STATUS as never);
    expect((await call(master.url, 'PUT', '/overlay-master/agents/10.0.0.4/status', STATUS, bearer(first))).status).toBe(403);
  });

  it('never shows a credential or its hash in any read', async () => {
    expect(issued.length).toBeGreaterThan(5);
    const hashes = issued.map(sha256);
    // The store holds the hashes (so the search below looks for what is really there).
    const db = await readFile(join(dir, 'data', 'vxnet.db')).catch(() => Buffer.alloc(0));
    const wal = await readFile(join(dir, 'data', 'vxnet.db-wal')).catch(() => Buffer.alloc(0));
    const stored = Buffer.concat([db, wal]).toString('latin1');
    expect(hashes.some((h) => stored.includes(h))).toBe(true);

    const reads = await Promise.all(
      [
        '/overlay-master/state',
        '/overlay-master/agents/10.0.0.1',
        '/overlay-master/agents/10.0.0.3',
        '/overlay-master/containers',
        '/healthz',
        '/metrics',
        '/',
      ].map(async (path) => (await call(master.url, 'GET', path)).text),
    );
    reads.push(await firstWatchEvent(master.url, 0), await firstWatchEvent(master.url, 1));
    const all = reads.join('\n');
    expect(all).toContain('10.0.0.3');
    for (const secret of [...issued, ...hashes]) expect(all).not.toContain(secret);
    expect(all).not.toContain('"credential"');
  });
});

describe('master without tokens', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir('vxnet-open-');
  });
  afterAll(() => cleanup([dir]));

  it('answers loopback names and the listen address, and refuses other Host headers in the error shape', async () => {
    const master = await startMasterProcess([
      'master',
      '--data',
      join(dir, 'd1'),
      '--listen',
      '127.0.0.1:0',
      '--allowed-host',
      'vxnet.example',
    ]);
    const port = new URL(master.url).port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'LOCALHOST', `vxnet.example:${port}`]) {
      expect((await getWithHost(master.url, '/overlay-master/state', host)).status, host).toBe(200);
    }
    const refused = await getWithHost(master.url, '/overlay-master/state', `rebind.attacker.test:${port}`);
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('FORBIDDEN');
    expect(refused.body.error.message).toContain(`"rebind.attacker.test:${port}"`);
    expect(refused.body.error.message).toContain('--allowed-host rebind.attacker.test');
    expect(master.output()).not.toContain('WARNING');
    await master.stop();
  });

  it('warns at start-up when it listens beyond loopback, and accepts --allowed-host names there', async () => {
    const master = await startMasterProcess(['master', '--data', join(dir, 'd2'), '--listen', '0.0.0.0:0', '--allowed-host', '10.1.2.3']);
    expect(master.output()).toMatch(/WARNING: listening on 0\.0\.0\.0:0 with no token/);
    const port = new URL(master.url).port;
    const url = `http://127.0.0.1:${port}`;
    expect((await getWithHost(url, '/healthz', `10.1.2.3:${port}`)).status).toBe(200);
    expect((await getWithHost(url, '/healthz', `10.1.2.4:${port}`)).status).toBe(403);
    await master.stop();
  });

  it('does not check Host once a token is set', async () => {
    await writeFile(join(dir, 'join'), `${JOIN}\n`);
    const master = await startMasterProcess([
      'master',
      '--data',
      join(dir, 'd3'),
      '--listen',
      '127.0.0.1:0',
      '--token-file',
      join(dir, 'join'),
    ]);
    expect((await getWithHost(master.url, '/healthz', 'anything.test')).status).toBe(200);
    await master.stop();
  });

  it.each([
    ['--token-file', 'join-bin'],
    ['--admin-token-file', 'admin-bin'],
  ])('refuses a %s of raw non-ASCII bytes, naming the file and the fix', async (flag, name) => {
    const file = join(dir, name);
    await writeFile(file, Buffer.from([...Buffer.from('token-'), ...new Array(20).fill(0xe9)]));
    const r = await runCli(['master', '--data', join(dir, 'd4'), '--listen', '127.0.0.1:0', flag, file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${flag} ${file} must hold one token of 16 to 4096 printable ASCII characters`);
    expect(r.stderr).toContain('head -c 32 /dev/urandom | base64');
  });

  it('refuses the same token as join and admin token', async () => {
    await writeFile(join(dir, 'same'), `${JOIN}\n`);
    const r = await runCli([
      'master',
      '--data',
      join(dir, 'd5'),
      '--listen',
      '127.0.0.1:0',
      '--token-file',
      join(dir, 'same'),
      '--admin-token-file',
      join(dir, 'same'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('hold the same token');
  });
});
