import { describe, expect, it } from 'vitest';
import type { AgentOverlayState, IpamCheck } from '../api/types.js';
import { buildAgentHttp, isLocalCaller } from './http.js';

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

describe("the agent's HTTP API, served on loopback", () => {
  it('answers its routes as JSON, names a route it does not have, and turns a failed check into a 500 that says why', async () => {
    const state = { ip: '198.18.0.1', overlays: [] } as unknown as AgentOverlayState;
    const modes: string[] = [];
    const ipam = async (mode: string): Promise<IpamCheck> => {
      modes.push(mode);
      if (modes.length === 3) throw new Error('cannot read /var/lib/vxnet/ipam');
      return { overlays: [] } as unknown as IpamCheck;
    };
    const app = buildAgentHttp(() => state, ipam);
    const port = await app.listen({ host: '127.0.0.1', port: 0 });
    const call = async (method: string, path: string) => {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, { method });
      return { status: res.status, type: res.headers.get('content-type'), body: await res.json() };
    };
    try {
      expect(await call('GET', '/overlay-agent/overlay')).toEqual({ status: 200, type: 'application/json; charset=utf-8', body: state });
      expect(await call('GET', '/healthz')).toMatchObject({ status: 200, body: { ok: true } });
      expect(await call('GET', '/overlay-agent/ipam?x=1')).toMatchObject({ status: 200, body: { overlays: [] } });
      expect(await call('POST', '/overlay-agent/ipam/release')).toMatchObject({ status: 200 });
      expect(modes).toEqual(['look', 'release-now']);
      expect(await call('GET', '/overlay-agent/ipam')).toEqual({
        status: 500,
        type: 'application/json; charset=utf-8',
        body: { error: { code: 'INTERNAL', message: 'cannot read /var/lib/vxnet/ipam' } },
      });
      expect(await call('DELETE', '/overlay-agent/overlay')).toMatchObject({
        status: 404,
        body: { error: { code: 'NOT_FOUND', message: 'no route DELETE /overlay-agent/overlay' } },
      });
    } finally {
      await app.close();
    }
  });
});
