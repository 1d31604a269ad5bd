// What a master that is not the leader serves: every API call is refused with
// 503 NOT_LEADER naming the leader (agents given several --master URLs move
// on by themselves); /healthz says "standby". Reads are refused too, so no
// client ever sees state older than the leader's.

import Fastify, { type FastifyInstance, LogController } from 'fastify';

export interface StandbyView {
  /** This master's URL. */
  self: string;
  /** The leader's URL as the election announces it, if any. */
  leader(): string | undefined;
  /** Why there may be no leader (e.g. etcd unreachable), for the message. */
  trouble(): string | undefined;
}

export function standbyMessage(view: StandbyView): string {
  const leader = view.leader();
  if (leader !== undefined && leader !== view.self) {
    return `this master (${view.self}) is a standby; the leader is ${leader}: send requests there (agents given every master in --master move on by themselves)`;
  }
  const why = view.trouble();
  return `no master is the leader right now (${why ?? 'an election is under way'}): retry in a few seconds`;
}

export function buildStandbyApp(view: StandbyView, logLevel = 'warn'): FastifyInstance {
  const app = Fastify({ logger: { level: logLevel }, logController: new LogController({ disableRequestLogging: true }) });
  app.get('/healthz', async () => ({ status: 'standby', leader: view.leader() ?? null }));
  // Any method, any path: not the leader.
  app.setNotFoundHandler((_req, reply) => {
    void reply.status(503).header('retry-after', '1').send({ error: { code: 'NOT_LEADER', message: standbyMessage(view) } });
  });
  return app;
}
