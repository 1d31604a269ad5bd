// The agent's read-only HTTP API.

import Fastify, { type FastifyInstance } from 'fastify';
import type { AgentOverlayState } from '../api/types.js';

export function buildAgentHttp(state: () => AgentOverlayState): FastifyInstance {
  const app = Fastify({ logger: false });
  app.get('/overlay-agent/overlay', async () => state());
  app.get('/healthz', async () => ({ ok: true }));
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no route ${req.method} ${req.url}` } });
  });
  return app;
}
