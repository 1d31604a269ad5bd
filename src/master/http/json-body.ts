// JSON request bodies, parsed by us so a syntax error says where it is
// (fastify's own parser drops the position). Prototype keys are harmless
// here: JSON.parse makes them plain own keys and every schema is strict.

import type { FastifyInstance } from 'fastify';
import { VxnetError } from '../../errors.js';

/** No API body nests more than 3 levels; deeper ones would only exhaust the stack later. */
export const MAX_JSON_DEPTH = 32;

/** How deep arrays and objects nest in JSON text (brackets inside strings do not count). */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) max = Math.max(max, ++depth);
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/** What a non-object JSON value is, as messages name it. */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number' && !Number.isFinite(value)) return 'a number too large for JSON';
  return `a ${typeof value}`;
}

/**
 * Parses a request body into the JSON object every endpoint takes; throws
 * BAD_REQUEST with the parser's position, or for any other JSON value, and the fix.
 */
export function parseJsonBody(text: string): Record<string, unknown> {
  if (text.trim() === '') throw new VxnetError('BAD_REQUEST', 'body is empty but Content-Type is application/json; send a JSON object');
  const depth = jsonDepth(text);
  if (depth > MAX_JSON_DEPTH) {
    throw new VxnetError(
      'BAD_REQUEST',
      `body nests arrays and objects ${depth} levels deep, more than ${MAX_JSON_DEPTH}; send the flat JSON object the endpoint expects`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new VxnetError('BAD_REQUEST', `body is not valid JSON (${why}); send a JSON object`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    // Shown as sent: 1e999 parses to Infinity, which JSON.stringify would call null.
    const shown = text.trim().length > 40 ? `${text.trim().slice(0, 37)}...` : text.trim();
    throw new VxnetError(
      'BAD_REQUEST',
      `body must be a JSON object, not ${kindOf(value)} (${shown}); send the JSON object the endpoint expects (README.md, "Master HTTP API")`,
    );
  }
  return value as Record<string, unknown>;
}

/** Replaces fastify's JSON parser (same body limit, which the route options carry). */
export function useJsonBodyParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    // No route takes this method and path: the not-found handler answers 404 or 405, whatever the body.
    if (req.is404) {
      done(null, undefined);
      return;
    }
    try {
      const encoding = req.headers['content-encoding'];
      if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
        throw new VxnetError(
          'UNSUPPORTED_MEDIA_TYPE',
          `Content-Encoding ${JSON.stringify(encoding)} is not supported; send the JSON body uncompressed`,
        );
      }
      done(null, parseJsonBody(body as string));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
}
