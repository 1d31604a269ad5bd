// HTTP routes of the master: translate requests to MasterService calls (the
// leader's writes) and StateReplica reads (any master's) and answers back.
// Validation lives in ../requests.ts, status codes in error-map.ts.

import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { VxnetError } from '../../errors.js';
import { parseHistoryQuery } from '../history-query.js';
import type { MasterMetrics } from '../metrics.js';
import type { StateReplica } from '../replica.js';
import { agentIp, parseContainers, parseDelete, parseRegister, parseSince, parseStatus } from '../requests.js';
import { parseHeartbeat } from '../lease-requests.js';
import { parseReloadRequest, reloadAnswer } from '../reload-request.js';
import type { MasterRole } from '../role.js';
import type { MasterService } from '../service.js';
import type { WatchClient, WatcherKind } from '../watch-streams.js';
import type { MasterAuth } from './auth.js';

type IpParams = { Params: { ip: string } };

export interface RouteDeps {
  role: MasterRole;
  metrics: MasterMetrics;
  /** Who a request speaks for, and what that allows (./auth.ts). */
  auth: MasterAuth;
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
  const { role, metrics, auth } = deps;
  // Writes that show no credential at all are refused before the body is even parsed;
  // whether it speaks for that agent is checked under the agent's lock (../access.ts).
  const write = { onRequest: async (req: FastifyRequest) => auth.requireSomething(auth.callerOf(req)) };
  const admin = { onRequest: async (req: FastifyRequest) => auth.requireAdmin(auth.callerOf(req)) };
  const pathIp = (req: FastifyRequest<IpParams>): string => agentIp(req.params.ip, 'ip (in the path)');
  const leader = (): MasterService => role.service() ?? throwError(role.notLeader());
  /** The state to read from: the leader's for agents, this master's for people and tools. */
  const reads = (req: FastifyRequest): StateReplica => {
    if (req.headers[AGENT_HEADER] !== undefined && !role.service()) throw role.notLeader();
    return role.reads() ?? throwError(role.notLeader());
  };

  app.post('/overlay-master/agents', write, async (req, reply) => {
    try {
      return reply.type(JSON_TYPE).send(await leader().register(parseRegister(req.body), auth.registration(auth.callerOf(req))));
    } catch (e) {
      if (e instanceof VxnetError && e.code === 'POOL_EXHAUSTED') metrics.exhausted.inc();
      throw e;
    }
  });

  // The state as bytes, rebuilt only after a change (the replica keeps them): a GET writes them as they are.
  app.get('/overlay-master/state', async (req, reply) => {
    // A starting sole master answers people and tools from the state it saved, checked against the store (../state-cache.ts).
    const saved = role.reads() === undefined && req.headers[AGENT_HEADER] === undefined ? role.savedState?.() : undefined;
    if (saved) return reply.header(REVISION_HEADER, String(saved.revision)).type(JSON_TYPE).send(saved.body);
    const from = reads(req);
    const body = from.stateBody();
    reply.header(REVISION_HEADER, String(from.revision)).type(JSON_TYPE);
    // In chunks (../state-body.ts): each written in turn, with the length known, so not chunked encoding.
    return body.chunks.length === 1
      ? reply.send(body.chunks[0])
      : reply.header('content-length', body.size).send(Readable.from(body.chunks, { objectMode: false }));
  });

  app.get<IpParams>('/overlay-master/agents/:ip', async (req, reply) => {
    const from = reads(req);
    const ip = pathIp(req);
    const info = from.agentText(ip);
    if (info === undefined) throw new VxnetError('NOT_FOUND', `agent ${ip} is not registered; GET /overlay-master/state lists the agents`);
    return reply.header(REVISION_HEADER, String(from.revision)).type(JSON_TYPE).send(info);
  });

  app.put<IpParams>('/overlay-master/agents/:ip/status', write, async (req, reply) =>
    reply.type(JSON_TYPE).send(await leader().reportStatus(pathIp(req), parseStatus(req.body), auth.agentWrite(auth.callerOf(req)))),
  );

  app.put<IpParams>('/overlay-master/agents/:ip/containers', write, async (req, reply) =>
    reply
      .type(JSON_TYPE)
      .send(await leader().reportContainers(pathIp(req), parseContainers(req.body), auth.agentWrite(auth.callerOf(req)))),
  );

  app.post('/overlay-master/agents/delete', admin, async (req, reply) =>
    reply.type(JSON_TYPE).send(await leader().deleteAgents(parseDelete(req.body))),
  );

  // Re-reads the leader's --config and applies it, all or nothing (../reload.ts); a standby answers NOT_LEADER.
  app.post('/overlay-master/network/reload', admin, async (req) => {
    const service = leader();
    return reloadAnswer(await service.reloadConfigFile(parseReloadRequest(req.query, req.body)));
  });

  // Agent leases (../leases.ts): a renewal with the agent's credential, and what is held for agents that are gone.
  app.post<IpParams>('/overlay-master/agents/:ip/heartbeat', write, async (req, reply) =>
    reply.type(JSON_TYPE).send(await leader().heartbeat(pathIp(req), parseHeartbeat(req.body), auth.agentWrite(auth.callerOf(req)))),
  );

  app.get('/overlay-master/leases', async (req, reply) => {
    const from = reads(req);
    return reply.header(REVISION_HEADER, String(from.revision)).send(from.leases());
  });

  app.get('/overlay-master/ipam', async (req, reply) => {
    const from = reads(req);
    return reply.header(REVISION_HEADER, String(from.revision)).send(from.ipam());
  });

  // Allocation history and utilisation (vxnet's additions): reads, so any master answers from the store.
  app.get('/overlay-master/history', async (req, reply) => {
    const query = parseHistoryQuery(req.query as Record<string, unknown>, Date.now());
    const from = reads(req);
    return reply.header(REVISION_HEADER, String(from.revision)).send(await from.allocationHistory(query));
  });

  app.get('/overlay-master/utilisation', async (req, reply) => {
    const from = reads(req);
    return reply.header(REVISION_HEADER, String(from.revision)).send(from.utilisation());
  });

  // The lowest MTU the agents report (vxnet's addition; src/master/mtu.ts).
  app.get('/overlay-master/mtu', async (req, reply) => {
    const from = reads(req);
    return reply.header(REVISION_HEADER, String(from.revision)).send(from.mtu());
  });

  app.get('/overlay-master/containers', async (req, reply) => {
    const from = reads(req);
    return reply.header(REVISION_HEADER, String(from.revision)).send(from.containers());
  });

  app.get<{ Querystring: { since?: string } }>('/overlay-master/watch', async (req, reply) => {
    const since = parseSince(req.query.since);
    const from = reads(req);
    // HEAD learns what a GET would get, without becoming a watcher.
    if (req.method === 'HEAD') return reply.headers(sseHeaders(from)).send();
    const kind: WatcherKind = req.headers[AGENT_HEADER] !== undefined ? 'agent' : 'other';
    from.streams.admit(kind, from.agentCount);
    openWatch(from, reply, since, kind);
  });

  app.get('/healthz', async (_req, reply) => {
    const from = role.reads();
    if (from) void reply.header(REVISION_HEADER, String(from.revision));
    const service = role.service();
    // Reads still work, but a master whose writes all fail is not healthy: 503 so a load balancer or monitor sees it.
    const trouble = service?.storeTrouble;
    if (service && trouble !== undefined)
      return reply.code(503).send({ status: 'degraded', reason: trouble, agents: service.agentCount, revision: service.revision });
    if (service) return { status: 'ok', agents: service.agentCount, revision: service.revision };
    if (role.starting && from) return reply.code(503).send({ status: 'starting', agents: from.agentCount, revision: from.revision });
    // A standby still opening the store serves no read yet: not ready for a load balancer.
    if (!from) return reply.code(503).send({ status: 'starting', leader: role.leader() ?? null });
    return { status: 'standby', leader: role.leader() ?? null, agents: from.agentCount, revision: from.revision };
  });

  app.get('/metrics', async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
}

function throwError(e: Error): never {
  throw e;
}

const sseHeaders = (reads: StateReplica): Record<string, string> => ({
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  [REVISION_HEADER]: String(reads.revision),
});

/** Takes the socket over from fastify and hands it to the watch streams as an SSE stream. */
function openWatch(reads: StateReplica, reply: FastifyReply, since: number | undefined, kind: WatcherKind): void {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, sseHeaders(reads));
  res.flushHeaders();
  const client: WatchClient = {
    write: (chunk) => res.write(chunk),
    get pendingBytes() {
      return res.writableLength;
    },
    close: () => res.end(),
    // Not end(): that would keep the socket, and every byte queued on it, until the client reads.
    destroy: () => res.destroy(),
  };
  const unsubscribe = reads.subscribe(client, since, kind);
  res.on('close', unsubscribe);
}
