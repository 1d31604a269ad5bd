// JSON request bodies, parsed by us so a syntax error says where it is
// (fastify's own parser drops the position). Prototype keys are harmless
// here: JSON.parse makes them plain own keys and every schema is strict.

import type { FastifyInstance } from 'fastify';
import { VxnetError } from '../../errors.js';

/** Parses a request body; throws BAD_REQUEST with the parser's position and the fix. */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') throw new VxnetError('BAD_REQUEST', 'body is empty but Content-Type is application/json; send a JSON object');
  try {
    return JSON.parse(text);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new VxnetError('BAD_REQUEST', `body is not valid JSON (${why}); send a JSON object`);
  }
}

/** Replaces fastify's JSON parser (same body limit, which the route options carry). */
export function useJsonBodyParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
}
