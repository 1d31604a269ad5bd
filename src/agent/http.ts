// The agent's HTTP API: reads for anyone, and one write (releasing leaked
// addresses) only for callers on this host.

import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { AgentOverlayState, IpamCheck } from '../api/types.js';
import type { CheckMode } from './ipam-gc/collector.js';

const plain = (address: string | undefined): string => (address ?? '').replace(/^::ffff:/, '');

/**
 * A caller on this host: loopback, or a connection whose two ends are the same
 * address (the kernel drops packets from elsewhere that claim a local source).
 */
export function isLocalCaller(req: Pick<FastifyRequest, 'socket'>): boolean {
  const remote = plain(req.socket.remoteAddress);
  return remote === '::1' || remote.startsWith('127.') || (remote !== '' && remote === plain(req.socket.localAddress));
}

export function buildAgentHttp(state: () => AgentOverlayState, ipam?: (mode: CheckMode) => Promise<IpamCheck>): FastifyInstance {
  const app = Fastify({ logger: false });
  app.get('/overlay-agent/overlay', async () => state());
  if (ipam) {
    app.get('/overlay-agent/ipam', async () => ipam('look'));
    app.post('/overlay-agent/ipam/release', async (req, reply) => {
      if (!isLocalCaller(req)) {
        return reply.code(403).send({
          error: {
            code: 'FORBIDDEN',
            message: `releasing addresses is only allowed from this host (the request came from ${plain(req.socket.remoteAddress)}): run \`vxnet ipam check --release\` on it`,
          },
        });
      }
      return ipam('release-now');
    });
  }
  app.get('/healthz', async () => ({ ok: true }));
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no route ${req.method} ${req.url}` } });
  });
  return app;
}
