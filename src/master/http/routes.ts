// HTTP routes of the master: translate requests to MasterService calls (the
// leader's writes) and StateReplica reads (any master's) and answers back.
// Validation lives in ../requests.ts, status codes in error-map.ts.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { VxnetError } from '../../errors.js';
import type { MasterMetrics } from '../metrics.js';
import type { StateReplica } from '../replica.js';
import { agentIp, parseContainers, parseDelete, parseRegister, parseSince, parseStatus } from '../requests.js';
import type { MasterRole } from '../role.js';
import type { MasterService } from '../service.js';
import type { WatchClient } from '../watch-streams.js';

type IpParams = { Params: { ip: string } };

export interface RouteDeps {
  role: MasterRole;
  metrics: MasterMetrics;
  /** Throws UNAUTHORIZED/FORBIDDEN; absent when no token is configured. */
  authorize?: (authorization: string | undefined) => void;
}

const JSON_TYPE = 'application/json; charset=utf-8';
/** Every read answer names the store revision it reflects. */
export const REVISION_HEADER = 'x-vxnet-revision';
/**
 * Agents send this header (src/agent/master-client.ts): they use the leader
 * for everything, reads included, so a lagging standby never makes one re-register.
 */
export const AGENT_HEADER = 'x-vxnet-agent';

export function registerRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { role, metrics } = deps;
  // Writes check the token before the body is even parsed.
  const write = deps.authorize ? { onRequest: async (req: FastifyRequest) => deps.authorize!(req.headers.authorization) } : {};
  const pathIp = (req: FastifyRequest<IpParams>): string => agentIp(req.params.ip, 'ip (in the path)');
  const leader = (): MasterService => role.service() ?? throwError(role.notLeader());
  /** The state to read from: the leader's for agents, this master's for people and tools. */
  const reads = (req: FastifyRequest): StateReplica => {
    if (req.headers[AGENT_HEADER] !== undefined && !role.service()) throw role.notLeader();
    return role.reads() ?? throwError(role.notLeader());
  };

  app.post('/overlay-master/agents', write, async (req, reply) => {
    try {
      return reply.type(JSON_TYPE).send(await leader().register(parseRegister(req.body)));
    } catch (e) {
      if (e instanceof VxnetError && e.code === 'POOL_EXHAUSTED') metrics.exhausted.inc();
      throw e;
    }
  });

  // The state as bytes, rebuilt only after a change: a GET is then one socket write.
  let stateCache: { from: StateReplica; revision: number; body: Buffer } | undefined;
  app.get('/overlay-master/state', async (req, reply) => {
    const from = reads(req);
    if (stateCache?.from !== from || stateCache.revision !== from.revision)
      stateCache = { from, revision: from.revision, body: encode(from.statePieces()) };
    return reply.header(REVISION_HEADER, String(stateCache.revision)).type(JSON_TYPE).send(stateCache.body);
  });

  app.get<IpParams>('/overlay-master/agents/:ip', async (req, reply) => {
    const from = reads(req);
    const ip = pathIp(req);
    const info = from.agentText(ip);
    if (info === undefined) throw new VxnetError('NOT_FOUND', `agent ${ip} is not registered; GET /overlay-master/state lists the agents`);
    return reply.header(REVISION_HEADER, String(from.revision)).type(JSON_TYPE).send(info);
  });

  app.put<IpParams>('/overlay-master/agents/:ip/status', write, async (req, reply) =>
    reply.type(JSON_TYPE).send(await leader().reportStatus(pathIp(req), parseStatus(req.body))),
  );

  app.put<IpParams>('/overlay-master/agents/:ip/containers', write, async (req, reply) =>
    reply.type(JSON_TYPE).send(await leader().reportContainers(pathIp(req), parseContainers(req.body))),
  );

  app.post('/overlay-master/agents/delete', write, async (req, reply) =>
    reply.type(JSON_TYPE).send(await leader().deleteAgents(parseDelete(req.body))),
  );

  app.get('/overlay-master/containers', async (req, reply) => {
    const from = reads(req);
    return reply.header(REVISION_HEADER, String(from.revision)).send(from.containers());
  });

  app.get<{ Querystring: { since?: string } }>('/overlay-master/watch', async (req, reply) => {
    const since = parseSince(req.query.since);
    openWatch(reads(req), reply, since);
  });

  app.get('/healthz', async (_req, reply) => {
    const from = role.reads();
    if (from) void reply.header(REVISION_HEADER, String(from.revision));
    const service = role.service();
    if (service) return { status: 'ok', agents: service.agentCount, revision: service.revision };
    return { status: 'standby', leader: role.leader() ?? null, ...(from && { agents: from.agentCount, revision: from.revision }) };
  });

  app.get('/metrics', async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
}

function throwError(e: Error): never {
  throw e;
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

/** Takes the socket over from fastify and hands it to the watch streams as an SSE stream. */
function openWatch(reads: StateReplica, reply: FastifyReply, since: number | undefined): void {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    [REVISION_HEADER]: String(reads.revision),
  });
  res.flushHeaders();
  const client: WatchClient = {
    write: (frame) => res.write(frame),
    get pendingBytes() {
      return res.writableLength;
    },
    close: () => res.end(),
  };
  const unsubscribe = reads.subscribe(client, since);
  res.on('close', unsubscribe);
}
