// The HTTP fuzz of src/master/http/fuzz.test.ts, smaller, against a real
// master process: real sockets, Node's HTTP parser and the SQLite store.
import { request } from 'node:http';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AGENTS,
  contractBreach,
  FUZZ_CONFIG,
  type FuzzAnswer,
  type FuzzRequest,
  fuzzRequest,
  SEED_CONTAINERS,
  stateInconsistency,
} from './fixtures/master/http-fuzz.js';
import { call, cleanup, type MasterProcess, startMaster, tempDir, writeConfig } from './fixtures/master/master-process.js';

/** One request with the raw path as generated (fetch would normalise it). */
function send(base: string, req: FuzzRequest): Promise<FuzzAnswer> {
  const { hostname, port } = new URL(base);
  return new Promise((ok, fail) => {
    // An explicit length: Node sends a HEAD or GET body unframed otherwise, which reads as a second request.
    const headers = req.body === undefined ? req.headers : { ...req.headers, 'content-length': String(Buffer.byteLength(req.body)) };
    const r = request({ host: hostname, port, method: req.method, path: req.url, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => ok({ status: res.statusCode ?? 0, body }));
    });
    r.on('error', fail);
    r.end(req.body);
  });
}

describe('fuzzing a real master over HTTP', () => {
  let dir: string;
  let master: MasterProcess;

  beforeAll(async () => {
    dir = await tempDir();
    master = await startMaster({ config: await writeConfig(dir, 'config.json', FUZZ_CONFIG), data: join(dir, 'data') });
    for (const ip of AGENTS) expect((await call(master.url, 'POST', '/overlay-master/agents', { ip })).status).toBe(200);
    expect((await call(master.url, 'PUT', `/overlay-master/agents/${AGENTS[0]}/containers`, SEED_CONTAINERS)).status).toBe(200);
  });
  afterAll(() => cleanup([dir]));

  const state = async () => {
    const s = await call(master.url, 'GET', '/overlay-master/state');
    const c = await call(master.url, 'GET', '/overlay-master/containers');
    return { text: `${JSON.stringify(s.body)}\n${JSON.stringify(c.body)}`, state: s.body, containers: c.body };
  };

  it('keeps the contract for 300 arbitrary requests', async () => {
    await fc.assert(
      fc.asyncProperty(fuzzRequest, async (req) => {
        const before = await state();
        const answer = await send(master.url, req);
        const after = await state();
        const shown = `${req.method} ${req.url} ${JSON.stringify(req.headers)} ${req.body ?? ''}`;
        expect(contractBreach(req, answer, before.text, after.text), shown).toBeUndefined();
        expect(stateInconsistency(after.state, after.containers), shown).toBeUndefined();
      }),
      { numRuns: 300 },
    );
    expect(master.child.exitCode).toBeNull();
  }, 60_000);
});
