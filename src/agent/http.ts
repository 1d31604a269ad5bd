// The agent's HTTP API: reads for anyone, and one write (releasing leaked
// addresses) only for callers on this host. Four fixed routes on node:http,
// not a framework: loading fastify costs every idle agent about 20 MB of RSS
// (issue 10 (i)), and nothing here parses a body or a path parameter.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { AgentOverlayState, IpamCheck } from '../api/types.js';
import type { CheckMode } from './ipam-gc/collector.js';

const plain = (address: string | undefined): string => (address ?? '').replace(/^::ffff:/, '');

/**
 * A caller on this host: loopback, or a connection whose two ends are the same
 * address (the kernel drops packets from elsewhere that claim a local source).
 */
export function isLocalCaller(req: { socket: Pick<Socket, 'remoteAddress' | 'localAddress'> }): boolean {
  const remote = plain(req.socket.remoteAddress);
  return remote === '::1' || remote.startsWith('127.') || (remote !== '' && remote === plain(req.socket.localAddress));
}

type Answer = { status: number; body: unknown };
type Route = (req: IncomingMessage) => Promise<Answer> | Answer;

export interface AgentHttp {
  /** Resolves with the port it listens on. */
  listen(at: { host: string; port: number }): Promise<number>;
  /** Stops accepting, closes idle keep-alive connections, and waits for requests in flight. */
  close(): Promise<void>;
}

export function buildAgentHttp(state: () => AgentOverlayState, ipam?: (mode: CheckMode) => Promise<IpamCheck>): AgentHttp {
  const ok = (body: unknown): Answer => ({ status: 200, body });
  const routes = new Map<string, Route>([
    ['GET /overlay-agent/overlay', () => ok(state())],
    ['GET /healthz', () => ok({ ok: true })],
  ]);
  if (ipam) {
    routes.set('GET /overlay-agent/ipam', async () => ok(await ipam('look')));
    routes.set('POST /overlay-agent/ipam/release', async (req) => {
      if (!isLocalCaller(req))
        return {
          status: 403,
          body: {
            error: {
              code: 'FORBIDDEN',
              message: `releasing addresses is only allowed from this host (the request came from ${plain(req.socket.remoteAddress)}): run \`vxnet ipam check --release\` on it`,
            },
          },
        };
      return ok(await ipam('release-now'));
    });
  }
  const server = createServer((req, res) => {
    req.resume(); // no route reads a body
    const path = (req.url ?? '/').split('?')[0];
    const route = routes.get(`${req.method} ${path}`);
    if (!route) return send(res, { status: 404, body: { error: { code: 'NOT_FOUND', message: `no route ${req.method} ${req.url}` } } });
    Promise.resolve()
      .then(() => route(req))
      .then(
        (answer) => send(res, answer),
        (err: unknown) =>
          send(res, { status: 500, body: { error: { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) } } }),
      );
  });
  return {
    listen: ({ host, port }) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      }),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

function send(res: ServerResponse, answer: Answer): void {
  const text = JSON.stringify(answer.body);
  res.writeHead(answer.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
