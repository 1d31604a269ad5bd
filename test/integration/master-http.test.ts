// Bad input, token auth, health and metrics against a real master process.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, cleanup, type MasterProcess, startMaster, tempDir } from './fixtures/master/master-process.js';

const TOKEN = 'integration-token-0123456789abcdef';

describe('master HTTP: bad input and auth', () => {
  let dir: string;
  let master: MasterProcess;
  const auth = { authorization: `Bearer ${TOKEN}` };

  beforeAll(async () => {
    dir = await tempDir();
    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, `${TOKEN}\n`);
    master = await startMaster({ data: join(dir, 'data'), tokenFile });
  });
  afterAll(() => cleanup([dir]));

  it.each([
    ['malformed JSON', '{"ip": ', {}, 400, 'BAD_REQUEST', 'body is not valid JSON'],
    ['a bad IP', { ip: '10.0.0.300' }, {}, 400, 'BAD_REQUEST', 'ip: "10.0.0.300" is not an IPv4 address'],
    [
      'a wrong type',
      { ip: '10.0.0.1', network_config: { docker_bridge: 1 } },
      {},
      400,
      'BAD_REQUEST',
      'network_config.docker_bridge: 1 is invalid',
    ],
    ['a body over 64 KiB', { ip: '10.0.0.1', pad: 'x'.repeat(70_000) }, {}, 413, 'PAYLOAD_TOO_LARGE', 'larger than 65536 bytes'],
    [
      'a wrong content type',
      'ip=10.0.0.1',
      { 'content-type': 'application/x-www-form-urlencoded' },
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      'application/x-www-form-urlencoded',
    ],
    [
      'text/plain',
      '{"ip":"10.0.0.1"}',
      { 'content-type': 'text/plain' },
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      'send JSON with Content-Type: application/json',
    ],
  ])('answers %s with a JSON error and no stack', async (_what, body, headers, status, code, message) => {
    const r = await call(master.url, 'POST', '/overlay-master/agents', body, { ...auth, ...headers });
    expect(r.status).toBe(status);
    expect(r.body.error.code).toBe(code);
    expect(r.body.error.message).toContain(message);
    expect(r.text).not.toMatch(/\bat .+\.js:\d+/);
  });

  it('answers unknown agents, routes and bad path IPs with 404/400', async () => {
    expect((await call(master.url, 'GET', '/overlay-master/agents/10.9.9.9')).body.error.code).toBe('NOT_FOUND');
    expect((await call(master.url, 'GET', '/overlay-master/nothing')).status).toBe(404);
    const bad = await call(master.url, 'GET', '/overlay-master/agents/not-an-ip');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('"not-an-ip" is not an IPv4 address');
    const status = await call(master.url, 'PUT', '/overlay-master/agents/10.9.9.9/status', { overlays: [] }, auth);
    expect(status.status).toBe(404);
    const since = await call(master.url, 'GET', '/overlay-master/watch?since=abc');
    expect(since.status).toBe(400);
  });

  it('rejects a status report naming an unknown overlay', async () => {
    await call(master.url, 'POST', '/overlay-master/agents', { ip: '10.0.0.5' }, auth);
    const r = await call(
      master.url,
      'PUT',
      '/overlay-master/agents/10.0.0.5/status',
      { overlays: [{ name: 'dcos-9', status: 'STATUS_OK' }] },
      auth,
    );
    expect(r.status).toBe(400);
    expect(r.body.error.message).toBe('overlays[0].name: "dcos-9" is not a configured overlay; use one of: dcos-1, dcos-2');
  });

  it('needs a token for writes (401 without, 403 wrong) and keeps reads open', async () => {
    const none = await call(master.url, 'POST', '/overlay-master/agents', { ip: '10.0.0.1' });
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('UNAUTHORIZED');
    const wrong = await call(master.url, 'POST', '/overlay-master/agents/delete', { agents: [] }, { authorization: 'Bearer nope' });
    expect(wrong.status).toBe(403);
    expect((await call(master.url, 'PUT', '/overlay-master/agents/10.0.0.5/status', { overlays: [] })).status).toBe(401);
    expect((await call(master.url, 'PUT', '/overlay-master/agents/10.0.0.5/containers', { containers: [] })).status).toBe(401);
    expect((await call(master.url, 'GET', '/overlay-master/agents/10.0.0.1')).status).toBe(404);
    expect((await call(master.url, 'POST', '/overlay-master/agents', { ip: '10.0.0.1' }, auth)).status).toBe(200);
    expect((await call(master.url, 'GET', '/overlay-master/state')).status).toBe(200);
  });

  it('serves health and Prometheus metrics', async () => {
    const health = await call(master.url, 'GET', '/healthz');
    expect(health.body).toMatchObject({ status: 'ok', agents: 2 });
    const metrics = await call(master.url, 'GET', '/metrics');
    expect(metrics.text).toMatch(/^vxnet_agents 2$/m);
    expect(metrics.text).toMatch(/^vxnet_overlay_subnets_used\{overlay="dcos-1",family="ipv4"\} 2$/m);
    expect(metrics.text).toMatch(/^vxnet_overlay_subnets_free\{overlay="dcos-2",family="ipv4"\} 126$/m);
    expect(metrics.text).toMatch(/^vxnet_registration_seconds_count 2$/m);
    expect(metrics.text).toMatch(/^vxnet_store_commit_seconds_count \d+$/m);
  });
});
