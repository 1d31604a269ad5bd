import { describe, expect, it } from 'vitest';
import { VxnetError } from '../../errors.js';
import { toErrorReply } from './error-map.js';

describe('toErrorReply', () => {
  it.each([
    ['BAD_REQUEST', 400],
    ['NOT_FOUND', 404],
    ['POOL_EXHAUSTED', 503],
    ['STORE_UNAVAILABLE', 503],
    ['UNAUTHORIZED', 401],
    ['FORBIDDEN', 403],
  ] as const)('maps %s to %i with its message', (code, status) => {
    const r = toErrorReply(new VxnetError(code, 'why and fix'));
    expect(r).toMatchObject({ status, body: { error: { code, message: 'why and fix' } }, internal: false });
  });

  it('tells a client when to retry what another master or a moment can fix', () => {
    expect(toErrorReply(new VxnetError('NOT_LEADER', 'x')).headers).toEqual({ 'retry-after': '1' });
    expect(toErrorReply(new VxnetError('STORE_UNAVAILABLE', 'x')).headers).toEqual({ 'retry-after': '1' });
    expect(toErrorReply(new VxnetError('BAD_REQUEST', 'x')).headers).toBeUndefined();
    expect(toErrorReply(new VxnetError('TOO_MANY_WATCHERS', 'x'))).toMatchObject({
      status: 503,
      headers: { 'retry-after': '5' },
      internal: false,
    });
  });

  it('answers PRECONDITION (e.g. the web page not built) with 412, and a wrong method with 405', () => {
    expect(toErrorReply(new VxnetError('PRECONDITION', 'x')).status).toBe(412);
    expect(toErrorReply(new VxnetError('METHOD_NOT_ALLOWED', 'x')).status).toBe(405);
  });

  it('maps framework body errors to our codes and words', () => {
    expect(toErrorReply({ statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE', message: 'x' }).body.error.code).toBe('PAYLOAD_TOO_LARGE');
    const media = toErrorReply({ statusCode: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', message: 'x' }, 'text/csv');
    expect(media.body.error).toEqual({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      message: 'Content-Type "text/csv" is not supported; send JSON with Content-Type: application/json',
    });
    expect(toErrorReply({ statusCode: 400, message: 'Unexpected token' }).body.error.message).toBe(
      'body is not valid JSON (Unexpected token); send a JSON object',
    );
  });

  it('hides our own bugs behind a 500 without details and flags them for the log', () => {
    const r = toErrorReply(new TypeError('secret internals at foo.js:1'));
    expect(r).toEqual({
      status: 500,
      body: { error: { code: 'INTERNAL', message: 'internal error in the master; see its log' } },
      internal: true,
    });
  });
});
