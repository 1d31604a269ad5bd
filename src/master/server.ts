// Builds the master's HTTP server (fastify) around its role (the leader's
// service, or a standby's reads) and listens. One app per process: a standby
// that becomes the leader keeps its port and its watch streams.

import Fastify, { type FastifyInstance, type FastifyServerOptions, LogController } from 'fastify';
import { MasterAuth } from './http/auth.js';
import { BODY_LIMIT, sendError, toErrorReply } from './http/error-map.js';
import { clientErrorHandler, frameworkErrors, trackRoutes, unmatchedHandler } from './http/fallback.js';
import { hostGuard } from './http/host-guard.js';
import { useJsonBodyParser } from './http/json-body.js';
import { registerRoutes } from './http/routes.js';
import { registerWebRoutes } from './http/web-routes.js';
import type { MasterMetrics } from './metrics.js';
import type { MasterRole } from './role.js';
import { DEFAULT_HTTP_LIMITS, type HttpLimits } from './limits.js';

/** Tokens, TLS and the Host check of an open master (src/cli/master.ts reads the files). */
export interface MasterSecurity {
  /** --token-file: registers agents (it cannot take over an IP that holds a credential). */
  joinToken?: string;
  /** --admin-token-file: deletes agents, resets an IP's credential. */
  adminToken?: string;
  /** PEM: serve HTTPS; with `clientCa`, a verified client certificate speaks for the agent IPs in its IP SANs. */
  tls?: { cert: Buffer; key: Buffer; clientCa?: Buffer };
  /** Host names an open master answers to besides loopback names and the listen address. */
  allowedHosts?: string[];
}

export interface MasterServerOptions {
  role: MasterRole;
  metrics: MasterMetrics;
  security?: MasterSecurity;
  /** The --listen host, which an open master's Host check accepts. */
  listenHost?: string;
  /** pino level; requests themselves are never logged one by one. */
  logLevel?: string;
  limits?: HttpLimits;
}

const PING_MS = 15_000;
const MAX_PARAM_LENGTH = 64;
/** Headers-only slowloris gets its 408 after this, or after the request timeout if that is shorter. */
const HEADERS_TIMEOUT_MS = 60_000;

/** Node looks for timed-out requests every so often: a tenth of the timeout keeps the cut within 10 % of it. */
const checkingInterval = (timeoutMs: number): number => Math.min(5_000, Math.max(100, Math.floor(timeoutMs / 10)));

export function buildMasterApp(options: MasterServerOptions): FastifyInstance {
  const security = options.security ?? {};
  const tls = security.tls;
  const https = tls && {
    https: {
      cert: tls.cert,
      key: tls.key,
      // Asked for, not required: agents with a credential and tools without a certificate connect too.
      ...(tls.clientCa && { ca: tls.clientCa, requestCert: true, rejectUnauthorized: false }),
    },
  };
  const limits = options.limits ?? DEFAULT_HTTP_LIMITS;
  const headersTimeout = Math.min(HEADERS_TIMEOUT_MS, limits.requestTimeoutMs);
  const timing = { headersTimeout, requestTimeout: limits.requestTimeoutMs, connectionsCheckingInterval: checkingInterval(headersTimeout) };
  const app = Fastify({
    // fastify sets requestTimeout on the server it made; the other two only Node's createServer takes.
    ...(https ? { https: { ...https.https, ...timing } } : { http: timing }),
    requestTimeout: limits.requestTimeoutMs,
    bodyLimit: BODY_LIMIT,
    logger: { level: options.logLevel ?? 'warn' },
    logController: new LogController({ disableRequestLogging: true }),
    // Agent IPs in paths are short; bigger URLs are junk. `/state/` is `/state`.
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH, ignoreTrailingSlash: true },
    frameworkErrors: frameworkErrors(MAX_PARAM_LENGTH),
    clientErrorHandler,
  } as FastifyServerOptions) as FastifyInstance;
  app.server.maxConnections = limits.maxConnections;
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

  const auth = new MasterAuth({
    ...(security.joinToken !== undefined && { joinToken: security.joinToken }),
    ...(security.adminToken !== undefined && { adminToken: security.adminToken }),
    clientCerts: tls?.clientCa !== undefined,
  });
  if (auth.open) {
    const check = hostGuard(options.listenHost ?? '127.0.0.1', security.allowedHosts ?? []);
    app.addHook('onRequest', async (req) => check(req.headers.host));
  }
  registerRoutes(app, { role: options.role, metrics: options.metrics, auth });
  registerWebRoutes(app);

  const ping = setInterval(() => options.role.reads()?.streams.ping(), PING_MS);
  ping.unref();
  app.addHook('onClose', async () => clearInterval(ping));
  return app;
}

/** Listens and returns the base URL (the real port when 0 was asked). */
export async function listen(app: FastifyInstance, host: string, port: number, secure = false): Promise<string> {
  await app.listen({ host, port });
  const address = app.server.address();
  const realPort = address && typeof address === 'object' ? address.port : port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return `${secure ? 'https' : 'http'}://${shownHost}:${realPort}`;
}
