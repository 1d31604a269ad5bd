// Answers for requests no route takes: 405 (with Allow) for a known path and
// the wrong method, OPTIONS with the allowed methods, 404 otherwise, and the
// router's own URL errors, all in the API's {"error":{code,message}} shape.

import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { VxnetError } from '../../errors.js';
import { sendError, toErrorReply } from './error-map.js';

interface RoutePattern {
  pattern: RegExp;
  methods: Set<string>;
}

/**
 * `/a/:ip/b` or `/static/*` as an anchored regex over the raw path. A path
 * value holding an encoded slash (`delete%2F`) matches no parameter: it names
 * no resource, so the answer is 404, not a 405 that suggests another method.
 */
export function routeRegex(url: string): RegExp {
  const body = url
    .split('/')
    .map((part) =>
      part.startsWith(':')
        ? '(?:(?!%2[fF])[^/])+'
        : part === '*'
          ? '.*'
          : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\\\*/g, '.*'),
    )
    .join('/');
  return new RegExp(`^${body}/?$`);
}

/** The methods some route allows on `path` (HEAD wherever GET is), sorted. */
export function allowedMethods(routes: readonly RoutePattern[], path: string): string[] {
  const allowed = new Set<string>();
  for (const r of routes) if (r.pattern.test(path)) for (const m of r.methods) allowed.add(m);
  if (allowed.has('GET')) allowed.add('HEAD');
  if (allowed.size > 0) allowed.add('OPTIONS');
  return [...allowed].sort();
}

/** Collects the routes as they are added; call before any route is registered. */
export function trackRoutes(app: FastifyInstance): RoutePattern[] {
  const routes: RoutePattern[] = [];
  app.addHook('onRoute', (route) => {
    const methods = (Array.isArray(route.method) ? route.method : [route.method]).map((m) => String(m).toUpperCase());
    routes.push({ pattern: routeRegex(route.url), methods: new Set(methods) });
  });
  return routes;
}

const pathOf = (req: FastifyRequest): string => req.url.split('?')[0] ?? req.url;

/** The not-found handler: OPTIONS and 405 for known paths, 404 for the rest. */
export function unmatchedHandler(routes: readonly RoutePattern[]) {
  return (req: FastifyRequest, reply: FastifyReply): void => {
    const path = pathOf(req);
    const allowed = allowedMethods(routes, path);
    if (allowed.length === 0) {
      void sendError(
        reply,
        toErrorReply(new VxnetError('NOT_FOUND', `no route ${req.method} ${path}; the API lives under /overlay-master/`)),
      );
      return;
    }
    void reply.header('allow', allowed.join(', '));
    if (req.method === 'OPTIONS') {
      void reply.status(204).send();
      return;
    }
    const message = `${req.method} is not allowed on ${path}; use ${allowed.filter((m) => m !== 'OPTIONS').join(' or ')}`;
    void sendError(reply, toErrorReply(new VxnetError('METHOD_NOT_ALLOWED', message)));
  };
}

/** The router's URL errors (bad percent-encoding, a path value over the length limit). */
export function frameworkErrors(maxParamLength: number) {
  return (err: FastifyError, req: FastifyRequest, reply: FastifyReply): void => {
    const path = pathOf(req);
    const message =
      err.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? `a path value in ${JSON.stringify(path.slice(0, 120))} is longer than ${maxParamLength} characters; put an agent's IPv4 address there, e.g. /overlay-master/agents/10.0.0.1`
        : err.code === 'FST_ERR_BAD_URL'
          ? `the path ${JSON.stringify(path.slice(0, 120))} is not a valid URL (bad %-encoding); percent-encode it correctly or send the plain address`
          : `the request cannot be routed (${err.message}); check the method and path`;
    void sendError(reply, toErrorReply(new VxnetError('BAD_REQUEST', message)));
  };
}

/** A raw answer to a request Node's HTTP parser refused (huge headers, garbage), in the API's shape. */
export function clientErrorResponse(code: string | undefined): string {
  const [status, reason, errorCode, message] =
    code === 'HPE_HEADER_OVERFLOW'
      ? [
          431,
          'Request Header Fields Too Large',
          'HEADERS_TOO_LARGE',
          'the request headers are larger than the server accepts (16 KiB); send fewer or shorter headers',
        ]
      : code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'TIMEOUT', 'the request was not received in time; send it again']
        : [400, 'Bad Request', 'BAD_REQUEST', 'the request is not valid HTTP/1.1; check the client'];
  const body = JSON.stringify({ error: { code: errorCode, message } });
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`;
}

/** fastify's clientErrorHandler: answers what it can, then drops the connection. */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  if (socket.writable) socket.write(clientErrorResponse(err.code));
  socket.destroy();
}
