import { describe, expect, it } from 'vitest';
import { jsonDepth, parseJsonBody } from './json-body.js';

describe('jsonDepth', () => {
  it.each([
    ['a scalar', '"x"', 0],
    ['a flat object', '{"ip":"10.0.0.1"}', 1],
    ['an object in an array in an object', '{"a":[{"b":1}]}', 3],
    ['brackets inside strings', '{"a":"[[[{{{"}', 1],
    ['an escaped quote inside a string', '{"a":"\\"[[["}', 1],
  ])('%s', (_what, text, depth) => {
    expect(jsonDepth(text)).toBe(depth);
  });
});

describe('parseJsonBody', () => {
  it('refuses absurd nesting with a clear message instead of overflowing the stack later', () => {
    const deep = `{"agents":${'['.repeat(30_000)}${']'.repeat(30_000)}}`;
    expect(() => parseJsonBody(deep)).toThrow(
      'body nests arrays and objects 30001 levels deep, more than 32; send the flat JSON object the endpoint expects',
    );
  });

  it.each([
    ['a number too large for JSON', '1e999', 'body must be a JSON object, not a number too large for JSON (1e999)'],
    ['a number', '42', 'body must be a JSON object, not a number (42)'],
    ['null', 'null', 'body must be a JSON object, not null (null)'],
    ['an array', '["10.0.0.1"]', 'body must be a JSON object, not an array (["10.0.0.1"])'],
    ['a string', '"hi"', 'body must be a JSON object, not a string ("hi")'],
  ])('refuses %s, saying the body must be a JSON object', (_what, text, message) => {
    expect(() => parseJsonBody(text)).toThrow(message);
  });

  it('parses ordinary bodies', () => {
    expect(parseJsonBody('{"agents":["10.0.0.1"]}')).toEqual({ agents: ['10.0.0.1'] });
  });
});
