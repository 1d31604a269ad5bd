// Property test of the whole HTTP surface on fastify's inject (the same app,
// routes, parsers and error map as a running master, without sockets): no
// request gets a 5xx other than the documented 503s, every error is in the
// API's shape, a refused request changes nothing (state, containers,
// revision), and an accepted one leaves the state consistent (no subnet or
// container address twice, every container inside its agent's subnet). test/integration/master-fuzz.test.ts runs a smaller case on a
// real process.

import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AGENTS,
  contractBreach,
  FUZZ_CONFIG,
  fuzzRequest,
  SEED_CONTAINERS,
  stateInconsistency,
} from '../../../test/integration/fixtures/master/http-fuzz.js';
import { MemoryStore } from '../../store/memory/memory-store.js';
import { createMetrics } from '../metrics.js';
import { soleMaster } from '../role.js';
import { buildMasterApp } from '../server.js';
import { MasterService } from '../service.js';

describe('fuzzing the master HTTP surface (inject)', () => {
  let app: FastifyInstance;
  let service: MasterService;

  beforeAll(async () => {
    service = await MasterService.start(new MemoryStore(), FUZZ_CONFIG, { storeArgs: '--data /d' });
    const all = { allocate_subnet: true, mesos_bridge: true, docker_bridge: true };
    for (const ip of AGENTS) await service.register({ ip, networkConfig: all });
    await service.reportContainers(AGENTS[0]!, SEED_CONTAINERS);
    app = buildMasterApp({ role: soleMaster(service), metrics: createMetrics(() => service), logLevel: 'silent' });
    await app.ready();
  });
  afterAll(() => app.close());

  const state = (): string => `${service.reads.revision}\n${service.reads.stateJson()}\n${JSON.stringify(service.reads.containers())}`;

  it('answers every request without an undocumented 5xx, and refusals change nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fuzzRequest, async (req) => {
        const before = state();
        const r = await app.inject({
          method: req.method as 'GET',
          url: req.url,
          headers: req.headers,
          ...(req.body !== undefined && { payload: req.body }),
        });
        const breach = contractBreach(req, { status: r.statusCode, body: r.body }, before, state());
        const shown = `${req.method} ${req.url} ${JSON.stringify(req.headers)} ${req.body ?? ''}`;
        expect(breach, shown).toBeUndefined();
        expect(stateInconsistency(service.reads.state(), service.reads.containers()), shown).toBeUndefined();
      }),
      { numRuns: 3000 },
    );
  }, 60_000);
});
