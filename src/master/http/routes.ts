// HTTP routes of the master: translate requests to MasterService calls and
// answers back. Validation lives in ../requests.ts, status codes in error-map.ts.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { MasterMetrics } from '../metrics.js';
import { agentIp, parseContainers, parseDelete, parseRegister, parseSince, parseStatus } from '../requests.js';
import type { MasterService } from '../service.js';
import { VxnetError } from '../../errors.js';
import type { WatchClient } from '../watch-hub.js';

type IpParams = { Params: { ip: string } };

export interface RouteDeps {
  service: MasterService;
  metrics: MasterMetrics;
  /** Throws UNAUTHORIZED/FORBIDDEN; absent when no token is configured. */
  authorize?: (authorization: string | undefined) => void;
}

const JSON_TYPE = 'application/json; charset=utf-8';

export function registerRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { service, metrics } = deps;
  // Writes check the token before the body is even parsed.
  const write = deps.authorize
    ? { onRequest: async (req: FastifyRequest) => deps.authorize!(req.headers.authorization) }
    : {};
  const pathIp = (req: FastifyRequest<IpParams>): string => agentIp(req.params.ip, 'ip (in the path)');

  app.post('/overlay-master/agents', write, async (req, reply) => {
    try {
      return reply.type(JSON_TYPE).send(await service.register(parseRegister(req.body)));
    } catch (e) {
      if (e instanceof VxnetError && e.code === 'POOL_EXHAUSTED') metrics.exhausted.inc();
      throw e;
    }
  });

  // The state as bytes, rebuilt only after a change: a GET is then one socket write.
  let stateCache: { revision: number; body: Buffer } | undefined;
  app.get('/overlay-master/state', async (_req, reply) => {
    if (stateCache?.revision !== service.revision) stateCache = { revision: service.revision, body: encode(service.statePieces()) };
    return reply.type(JSON_TYPE).send(stateCache.body);
  });

  app.get<IpParams>('/overlay-master/agents/:ip', async (req, reply) => {
    const ip = pathIp(req);
    const info = service.agentText(ip);
    if (info === undefined) throw new VxnetError('NOT_FOUND', `agent ${ip} is not registered; GET /overlay-master/state lists the agents`);
    return reply.type(JSON_TYPE).send(info);
  });

  app.put<IpParams>('/overlay-master/agents/:ip/status', write, async (req, reply) =>
    reply.type(JSON_TYPE).send(await service.reportStatus(pathIp(req), parseStatus(req.body))),
  );

  app.put<IpParams>('/overlay-master/agents/:ip/containers', write, async (req, reply) =>
    reply.type(JSON_TYPE).send(await service.reportContainers(pathIp(req), parseContainers(req.body))),
  );

  app.post('/overlay-master/agents/delete', write, async (req, reply) =>
    reply.type(JSON_TYPE).send(await service.deleteAgents(parseDelete(req.body))),
  );

  app.get('/overlay-master/containers', async () => service.containers());

  app.get<{ Querystring: { since?: string } }>('/overlay-master/watch', async (req, reply) => {
    const since = parseSince(req.query.since);
    openWatch(service, reply, since);
  });

  app.get('/healthz', async () => ({ status: 'ok', agents: service.agentCount, revision: service.revision }));

  app.get('/metrics', async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
}

/** UTF-8 of the joined pieces, written straight into one buffer (no multi-MB temporary strings). */
function encode(pieces: string[]): Buffer {
  let total = 0;
  for (const p of pieces) total += Buffer.byteLength(p);
  const body = Buffer.allocUnsafe(total);
  let offset = 0;
  for (const p of pieces) offset += body.write(p, offset);
  return body;
}

/** Takes the socket over from fastify and hands it to the watch hub as an SSE stream. */
function openWatch(service: MasterService, reply: FastifyReply, since: number | undefined): void {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  res.flushHeaders();
  const client: WatchClient = {
    write: (frame) => res.write(frame),
    get pendingBytes() {
      return res.writableLength;
    },
    close: () => res.end(),
  };
  const unsubscribe = service.hub.subscribe(client, since);
  res.on('close', unsubscribe);
}
