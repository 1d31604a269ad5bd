// The one place that turns errors into HTTP answers, for every route, the
// fallback and the standby alike. Bad input always becomes a 4xx with
// {"error":{"code","message"}}; only our own bugs become a 500, and even then
// without a stack trace.

import type { FastifyReply } from 'fastify';
import type { ErrorBody } from '../../api/types.js';
import { type ErrorCode, isVxnetError } from '../../errors.js';
import { WATCH_RETRY_AFTER_S } from '../watch-streams.js';

export const BODY_LIMIT = 64 * 1024;

const STATUS_BY_CODE: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  CONFIG_INVALID: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  STALE_EPOCH: 409,
  RECONCILE_REFUSED: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  PRECONDITION: 412,
  POOL_EXHAUSTED: 503,
  STORE_UNAVAILABLE: 503,
  NOT_LEADER: 503,
  TOO_MANY_WATCHERS: 503,
  KERNEL: 500,
  CNI: 500,
};

export interface ErrorReply {
  status: number;
  /** Extra headers, e.g. Retry-After on a 503 that a retry can fix. */
  headers?: Record<string, string>;
  body: ErrorBody;
  /** True when the error is ours (a bug), to be logged. */
  internal: boolean;
}

const reply = (status: number, code: string, message: string, details?: unknown): ErrorReply => ({
  status,
  body: { error: { code, message, ...(details !== undefined && { details }) } },
  internal: status >= 500 && code === 'INTERNAL',
});

/** Messages for the framework's own 4xx errors (body parsing), in our words. */
function frameworkMessage(
  status: number,
  fwCode: string | undefined,
  message: string,
  contentType: string | undefined,
): [ErrorCode, string] {
  if (status === 413) return ['PAYLOAD_TOO_LARGE', `request body is larger than ${BODY_LIMIT} bytes; send at most 64 KiB`];
  if (status === 415) {
    return [
      'UNSUPPORTED_MEDIA_TYPE',
      `Content-Type ${JSON.stringify(contentType ?? '')} is not supported; send JSON with Content-Type: application/json`,
    ];
  }
  if (fwCode === 'FST_ERR_CTP_EMPTY_JSON_BODY')
    return ['BAD_REQUEST', 'body is empty but Content-Type is application/json; send a JSON object'];
  if (status === 404) return ['NOT_FOUND', message];
  return ['BAD_REQUEST', `body is not valid JSON (${message}); send a JSON object`];
}

/** Maps any thrown value to the answer; `contentType` of the request improves 415 messages. */
export function toErrorReply(err: unknown, contentType?: string): ErrorReply {
  if (isVxnetError(err)) {
    const status = STATUS_BY_CODE[err.code];
    const passing = err.code === 'STORE_UNAVAILABLE' || err.code === 'NOT_LEADER';
    const full = err.code === 'TOO_MANY_WATCHERS';
    return {
      ...reply(status, err.code, err.message),
      ...((passing || full) && { headers: { 'retry-after': full ? String(WATCH_RETRY_AFTER_S) : '1' } }),
      internal: status >= 500 && err.code !== 'POOL_EXHAUSTED' && !passing && !full,
    };
  }
  const e = err as { statusCode?: unknown; code?: unknown; message?: unknown } | undefined;
  const status = typeof e?.statusCode === 'number' ? e.statusCode : undefined;
  if (status !== undefined && status >= 400 && status < 500) {
    const [code, message] = frameworkMessage(
      status,
      typeof e?.code === 'string' ? e.code : undefined,
      String(e?.message ?? ''),
      contentType,
    );
    return reply(status, code, message);
  }
  return reply(500, 'INTERNAL', 'internal error in the master; see its log');
}

/** Sends a mapped error. */
export function sendError(res: FastifyReply, mapped: ErrorReply): FastifyReply {
  if (mapped.headers) void res.headers(mapped.headers);
  return res.status(mapped.status).send(mapped.body);
}
