// Builds the master's HTTP server (fastify) around its role (the leader's
// service, or a standby's reads) and listens. One app per process: a standby
// that becomes the leader keeps its port and its watch streams.

import Fastify, { type FastifyInstance, LogController } from 'fastify';
import { bearerCheck } from './http/auth.js';
import { BODY_LIMIT, sendError, toErrorReply } from './http/error-map.js';
import { clientErrorHandler, frameworkErrors, trackRoutes, unmatchedHandler } from './http/fallback.js';
import { useJsonBodyParser } from './http/json-body.js';
import { registerRoutes } from './http/routes.js';
import { registerWebRoutes } from './http/web-routes.js';
import type { MasterMetrics } from './metrics.js';
import type { MasterRole } from './role.js';

export interface MasterServerOptions {
  role: MasterRole;
  metrics: MasterMetrics;
  token?: string;
  /** pino level; requests themselves are never logged one by one. */
  logLevel?: string;
}

const PING_MS = 15_000;
const MAX_PARAM_LENGTH = 64;

export function buildMasterApp(options: MasterServerOptions): FastifyInstance {
  const app = Fastify({
    bodyLimit: BODY_LIMIT,
    logger: { level: options.logLevel ?? 'warn' },
    logController: new LogController({ disableRequestLogging: true }),
    // Agent IPs in paths are short; bigger URLs are junk. `/state/` is `/state`.
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH, ignoreTrailingSlash: true },
    frameworkErrors: frameworkErrors(MAX_PARAM_LENGTH),
    clientErrorHandler,
  });
  const routes = trackRoutes(app);
  // Only JSON bodies are accepted: anything else is a 415, not a string body.
  app.removeContentTypeParser(['text/plain']);
  useJsonBodyParser(app);

  app.setErrorHandler((err, req, reply) => {
    const mapped = toErrorReply(err, req.headers['content-type']);
    if (mapped.internal) req.log.error({ err }, 'internal error');
    void sendError(reply, mapped);
  });
  app.setNotFoundHandler(unmatchedHandler(routes));

  registerRoutes(app, {
    role: options.role,
    metrics: options.metrics,
    ...(options.token !== undefined && { authorize: bearerCheck(options.token) }),
  });
  registerWebRoutes(app);

  const ping = setInterval(() => options.role.reads()?.streams.ping(), PING_MS);
  ping.unref();
  app.addHook('onClose', async () => clearInterval(ping));
  return app;
}

/** Listens and returns the base URL (the real port when 0 was asked). */
export async function listen(app: FastifyInstance, host: string, port: number): Promise<string> {
  await app.listen({ host, port });
  const address = app.server.address();
  const realPort = address && typeof address === 'object' ? address.port : port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return `http://${shownHost}:${realPort}`;
}
