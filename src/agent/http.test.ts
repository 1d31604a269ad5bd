import { describe, expect, it } from 'vitest';
import { isLocalCaller } from './http.js';

const from = (remoteAddress: string, localAddress: string) =>
  ({ socket: { remoteAddress, localAddress } }) as Parameters<typeof isLocalCaller>[0];

describe('isLocalCaller: who may release addresses through the agent', () => {
  const cases = [
    { description: 'loopback', req: from('127.0.0.1', '127.0.0.1'), local: true },
    { description: 'IPv6 loopback', req: from('::1', '::1'), local: true },
    { description: 'IPv4-mapped loopback', req: from('::ffff:127.0.0.1', '::ffff:127.0.0.1'), local: true },
    { description: 'this host to its own underlay address', req: from('198.18.0.1', '198.18.0.1'), local: true },
    { description: 'another host', req: from('198.18.0.254', '198.18.0.1'), local: false },
    { description: 'an unknown peer', req: from('', ''), local: false },
  ];
  for (const c of cases) it(`${c.local ? 'allows' : 'refuses'} ${c.description}`, () => expect(isLocalCaller(c.req)).toBe(c.local));
});
