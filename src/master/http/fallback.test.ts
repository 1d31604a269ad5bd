import { gzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_NETWORK_CONFIG } from '../../config/types.js';
import { MemoryStore } from '../../store/memory/memory-store.js';
import { createMetrics } from '../metrics.js';
import { buildMasterApp } from '../server.js';
import { soleMaster } from '../role.js';
import { MasterService } from '../service.js';
import { allowedMethods, clientErrorResponse, routeRegex } from './fallback.js';

describe('routeRegex and allowedMethods', () => {
  const routes = [
    { pattern: routeRegex('/overlay-master/agents/:ip'), methods: new Set(['GET']) },
    { pattern: routeRegex('/overlay-master/agents'), methods: new Set(['POST']) },
    { pattern: routeRegex('/overlay-master/agents/:ip/status'), methods: new Set(['PUT']) },
  ];

  it.each([
    ['a parameter path', '/overlay-master/agents/10.0.0.1', ['GET', 'HEAD', 'OPTIONS']],
    ['a literal path', '/overlay-master/agents', ['OPTIONS', 'POST']],
    ['a trailing slash', '/overlay-master/agents/', ['OPTIONS', 'POST']],
    ['a nested parameter path', '/overlay-master/agents/10.0.0.1/status', ['OPTIONS', 'PUT']],
    ['an unknown path', '/overlay-master/agentsx', []],
    ['a parameter that would span segments', '/overlay-master/agents/a/b', []],
    ['a parameter holding an encoded slash', '/overlay-master/agents/delete%2F', []],
    ['a parameter holding a lowercase encoded slash', '/overlay-master/agents/a%2fb', []],
  ])('%s', (_what, path, expected) => {
    expect(allowedMethods(routes, path)).toEqual(expected);
  });

  it('treats dots in route literals as dots, not wildcards', () => {
    expect(routeRegex('/a.b').test('/axb')).toBe(false);
    expect(routeRegex('/static/*').test('/static/js/app.js')).toBe(true);
  });
});

describe('the master app answers requests no route takes', () => {
  let app: FastifyInstance;

  beforeAll(async () => {
    const service = await MasterService.start(new MemoryStore(), DEFAULT_NETWORK_CONFIG, { storeArgs: '--data /d' });
    app = buildMasterApp({ role: soleMaster(service), metrics: createMetrics(() => service), logLevel: 'silent' });
    await app.ready();
  });
  afterAll(() => app.close());

  it('answers a wrong method on a known path with 405, Allow and the methods to use', async () => {
    const r = await app.inject({ method: 'POST', url: '/overlay-master/state' });
    expect(r.statusCode).toBe(405);
    expect(r.headers.allow).toBe('GET, HEAD, OPTIONS');
    expect(r.json()).toEqual({
      error: { code: 'METHOD_NOT_ALLOWED', message: 'POST is not allowed on /overlay-master/state; use GET or HEAD' },
    });
    const del = await app.inject({ method: 'DELETE', url: '/overlay-master/agents/10.0.0.1' });
    expect(del.statusCode).toBe(405);
    expect(del.json().error.message).toContain('use GET or HEAD');
  });

  it('answers OPTIONS with 204 and the allowed methods', async () => {
    const r = await app.inject({ method: 'OPTIONS', url: '/overlay-master/agents' });
    expect(r.statusCode).toBe(204);
    expect(r.headers.allow).toBe('OPTIONS, POST');
  });

  it('answers POST …/agents/delete%2F with 404: no resource is there, so no other method is suggested', async () => {
    const r = await app.inject({
      method: 'POST',
      url: '/overlay-master/agents/delete%2F',
      headers: { 'content-type': 'application/json' },
      payload: '{"agents":[]}',
    });
    expect(r.statusCode).toBe(404);
    expect(r.headers.allow).toBeUndefined();
    expect(r.json().error.code).toBe('NOT_FOUND');
  });

  it.each([
    ['a syntax error', '{'],
    ['a number too large for JSON', '1e999'],
  ])('answers a wrong method with %s as its body with 405, not 400', async (_what, payload) => {
    for (const [method, url] of [
      ['DELETE', '/overlay-master/state'],
      ['PATCH', '/overlay-master/agents'],
      ['PUT', '/overlay-master/agents/delete'],
    ] as const) {
      const r = await app.inject({ method, url, headers: { 'content-type': 'application/json' }, payload });
      expect(r.statusCode, `${method} ${url}`).toBe(405);
      expect(r.json().error.code).toBe('METHOD_NOT_ALLOWED');
    }
  });

  it('keeps 404 for unknown paths', async () => {
    const r = await app.inject({ method: 'POST', url: '/overlay-master/nothing' });
    expect(r.statusCode).toBe(404);
    expect(r.json().error.code).toBe('NOT_FOUND');
  });

  it('serves paths with a trailing slash like those without', async () => {
    const r = await app.inject({ method: 'GET', url: '/overlay-master/state/' });
    expect(r.statusCode).toBe(200);
    expect(r.json().network.vtep_subnet).toBe(DEFAULT_NETWORK_CONFIG.vtep_subnet);
  });

  it('answers a path value over the length limit with a 400 in the API shape', async () => {
    const r = await app.inject({ method: 'GET', url: `/overlay-master/agents/${'a'.repeat(100)}` });
    expect(r.statusCode).toBe(400);
    expect(r.json().error.code).toBe('BAD_REQUEST');
    expect(r.json().error.message).toContain('longer than 64 characters');
  });

  it('answers bad percent-encoding with a 400 in the API shape', async () => {
    const r = await app.inject({ method: 'GET', url: '/overlay-master/agents/%zz' });
    expect(r.statusCode).toBe(400);
    expect(r.json().error.code).toBe('BAD_REQUEST');
    expect(r.json().error.message).toContain('bad %-encoding');
  });
});

describe('the master app parses JSON bodies', () => {
  let app: FastifyInstance;

  beforeAll(async () => {
    const service = await MasterService.start(new MemoryStore(), DEFAULT_NETWORK_CONFIG, { storeArgs: '--data /d' });
    app = buildMasterApp({ role: soleMaster(service), metrics: createMetrics(() => service), logLevel: 'silent' });
    await app.ready();
  });
  afterAll(() => app.close());

  const post = (payload: string) =>
    app.inject({ method: 'POST', url: '/overlay-master/agents', headers: { 'content-type': 'application/json' }, payload });

  it('says where a syntax error is', async () => {
    const r = await post('{"ip": "10.0.0.1",}');
    expect(r.statusCode).toBe(400);
    expect(r.json().error.message).toMatch(/^body is not valid JSON \(.*position 18.*\); send a JSON object$/);
  });

  it('names a __proto__ key as an unknown field instead of calling the body invalid JSON', async () => {
    const r = await post('{"ip": "10.0.0.1", "__proto__": {"x": 1}}');
    expect(r.statusCode).toBe(400);
    expect(r.json().error.message).toContain("Unrecognized key(s) in object: '__proto__'");
  });

  it('answers 1e999 with 400 saying the body must be a JSON object', async () => {
    const r = await post('1e999');
    expect(r.statusCode).toBe(400);
    expect(r.json().error.message).toMatch(/^body must be a JSON object, not a number too large for JSON \(1e999\)/);
  });

  it('explains an empty body', async () => {
    const r = await post('');
    expect(r.statusCode).toBe(400);
    expect(r.json().error.message).toBe('body is empty but Content-Type is application/json; send a JSON object');
  });

  it('still parses good bodies and enforces the 64 KiB limit', async () => {
    expect((await post('{"ip": "10.0.0.1"}')).statusCode).toBe(200);
    const big = await post(JSON.stringify({ ip: '10.0.0.2', pad: 'x'.repeat(70_000) }));
    expect(big.statusCode).toBe(413);
    expect(big.json().error.code).toBe('PAYLOAD_TOO_LARGE');
  });
});

describe('the master app and absurd bodies', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    const service = await MasterService.start(new MemoryStore(), DEFAULT_NETWORK_CONFIG, { storeArgs: '--data /d' });
    app = buildMasterApp({ role: soleMaster(service), metrics: createMetrics(() => service), logLevel: 'silent' });
    await app.ready();
  });
  afterAll(() => app.close());

  it.each([
    ['a deeply nested body', `${'['.repeat(30_000)}${']'.repeat(30_000)}`],
    ['a deeply nested field', `{"ip":${'['.repeat(30_000)}${']'.repeat(30_000)}}`],
  ])('answers %s with 400, not 500', async (_what, payload) => {
    const r = await app.inject({ method: 'POST', url: '/overlay-master/agents', headers: { 'content-type': 'application/json' }, payload });
    expect(r.statusCode).toBe(400);
    expect(r.json().error.code).toBe('BAD_REQUEST');
  });
});

describe('bodies the master cannot read', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    const service = await MasterService.start(new MemoryStore(), DEFAULT_NETWORK_CONFIG, { storeArgs: '--data /d' });
    app = buildMasterApp({ role: soleMaster(service), metrics: createMetrics(() => service), logLevel: 'silent' });
    await app.ready();
  });
  afterAll(() => app.close());

  it('answers a compressed body with 415 naming the encoding', async () => {
    const r = await app.inject({
      method: 'POST',
      url: '/overlay-master/agents',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      payload: gzipSync('{"ip":"10.0.0.1"}'),
    });
    expect(r.statusCode).toBe(415);
    expect(r.json().error).toEqual({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      message: 'Content-Encoding "gzip" is not supported; send the JSON body uncompressed',
    });
  });
});

describe('clientErrorResponse', () => {
  it('answers header overflow with 431 in the API shape and a correct length', () => {
    const raw = clientErrorResponse('HPE_HEADER_OVERFLOW');
    const [head, body] = raw.split('\r\n\r\n') as [string, string];
    expect(head).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    expect(head).toContain(`Content-Length: ${Buffer.byteLength(body)}`);
    expect(JSON.parse(body).error.code).toBe('HEADERS_TOO_LARGE');
  });

  it('answers other parser errors with 400', () => {
    expect(clientErrorResponse('HPE_INVALID_METHOD')).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*"code":"BAD_REQUEST"/);
  });
});
