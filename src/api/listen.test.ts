import { describe, expect, it } from 'vitest';
import { parseListen } from './listen.js';

describe('parseListen', () => {
  it.each([
    ['127.0.0.1:5050', { host: '127.0.0.1', port: 5050 }],
    ['[::1]:0', { host: '::1', port: 0 }],
    [':5050', { host: '0.0.0.0', port: 5050 }],
    ['localhost:80', { host: 'localhost', port: 80 }],
  ])('parses %s', (text, expected) => expect(parseListen(text)).toEqual(expected));

  it.each([
    ['127.0.0.1', 'is not HOST:PORT'],
    ['127.0.0.1:70000', 'has port 70000, above 65535'],
    ['[10.0.0.1]:1', 'which is not an IPv6 address'],
    ['a b:1', 'neither an address nor a host name'],
  ])('rejects %s', (text, message) => expect(() => parseListen(text)).toThrow(message));
});

describe('parseListen as the agent uses it', () => {
  it('reads IPv6 in brackets and a bare port as every address', () => {
    expect(parseListen('[::1]:80')).toEqual({ host: '::1', port: 80 });
    expect(parseListen(':5051')).toEqual({ host: '0.0.0.0', port: 5051 });
  });
});
