// The etcd client with bounded waits: every unary call has a deadline, a
// failing member is skipped, and streams reconnect within a second, so an
// unreachable etcd turns into a clear error instead of a hang.

import { circuitBreaker, ConsecutiveBreaker, ExponentialBackoff, handleWhen, retry } from 'cockatiel';
import { Etcd3, isRecoverableError } from 'etcd3';
import { VxnetError } from '../../errors.js';

export const DEFAULT_TIMEOUT_MS = 2_000;

/** Checks --etcd URLs: http(s)://host:port, at least one. */
export function parseEndpoints(value: string | string[]): string[] {
  const list = (Array.isArray(value) ? value : value.split(',')).map((s) => s.trim()).filter((s) => s !== '');
  if (list.length === 0)
    throw new VxnetError(
      'BAD_REQUEST',
      '--etcd is empty: give one or more etcd client URLs, e.g. --etcd http://127.0.0.1:2379,http://10.0.0.2:2379',
    );
  for (const url of list) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.port === '' || parsed.pathname !== '/') {
      throw new VxnetError(
        'BAD_REQUEST',
        `--etcd ${JSON.stringify(url)} is not an etcd client URL: write http://HOST:PORT (e.g. http://127.0.0.1:2379), several separated by commas`,
      );
    }
  }
  return list;
}

/** PEM contents for https:// etcd endpoints (--etcd-ca, --etcd-cert, --etcd-key). */
export interface EtcdTls {
  /** The CA that signed etcd's server certificates. */
  ca: Buffer;
  /** A client certificate and its key, when etcd asks for one (--client-cert-auth). */
  cert?: Buffer;
  key?: Buffer;
}

export function connectEtcd(endpoints: string[], timeoutMs = DEFAULT_TIMEOUT_MS, tls?: EtcdTls): Etcd3 {
  return new Etcd3({
    hosts: endpoints,
    ...(tls && {
      credentials: {
        rootCertificate: tls.ca,
        ...(tls.cert && tls.key && { certChain: tls.cert, privateKey: tls.key }),
      },
    }),
    dialTimeout: timeoutMs,
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeoutMs }),
    faultHandling: {
      // One more attempt on another member, then the caller gets the error.
      global: retry(handleWhen(isRecoverableError), { maxAttempts: 1 }),
      host: () => circuitBreaker(handleWhen(isRecoverableError), { halfOpenAfter: 1_000, breaker: new ConsecutiveBreaker(3) }),
      // etcd3 itself passes cockatiel's factory here; its type names the instance.
      watchBackoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 1_000 }) as never,
    },
  });
}

/** The reason of an etcd failure in a few words. */
export function reasonOf(err: unknown): string {
  // gRPC appends an often empty "Resolution note:"; it says nothing here.
  const text = (err instanceof Error ? `${err.constructor.name}: ${err.message}` : String(err)).replace(/\.?\s*Resolution note:\s*$/, '');
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
