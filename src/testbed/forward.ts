// A TCP forwarder: lets hosts on the underlay reach a master that listens on
// loopback only (the demo's 127.0.0.1:5050) without opening it on every interface.
import net from 'node:net';

export interface Forwarder {
  close(): Promise<void>;
}

export function forwardTcp(listen: { host: string; port: number }, target: { host: string; port: number }): Promise<Forwarder> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((inbound) => {
    const outbound = net.connect(target.port, target.host);
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
      s.on('error', () => {
        inbound.destroy();
        outbound.destroy();
      });
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () =>
      resolve({
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      }),
    );
  });
}

/** A port that is free on `host` right now. */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Throws a clear error when host:port is already taken. */
export function freePortCheck(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new Error(
          e.code === 'EADDRINUSE'
            ? `${host}:${port} is already in use (another vxnet master or demo?): stop it or pick another --port`
            : `cannot listen on ${host}:${port}: ${e.message}`,
        ),
      ),
    );
    s.listen(port, host, () => s.close(() => resolve()));
  });
}
