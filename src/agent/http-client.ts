// How the agent speaks HTTP as a client (to the masters, to dockerd):
// node:http and node:https with keep-alive pools. Not undici: loading it costs
// every idle agent about 20 MB of RSS (issue 10 (i)), for a few JSON calls and
// two event streams.

import { Agent as HttpAgent, type IncomingMessage, type RequestOptions, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface SendOptions {
  body?: string;
  /** https: instead of http:. */
  secure?: boolean;
  /** Fails when the answer's headers are not in within this time (a peer that accepted and hangs). */
  answerWithinMs?: number;
}

/**
 * Sends one request and resolves once the answer's headers are in, its body
 * still to read. `options.signal` aborts it, the body's reading included.
 */
export function openRequest(options: RequestOptions, send: SendOptions = {}): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const { body, answerWithinMs } = send;
    const headers = body === undefined ? options.headers : { ...options.headers, 'content-length': String(Buffer.byteLength(body)) };
    let timer: NodeJS.Timeout | undefined;
    const req = (send.secure ? httpsRequest : httpRequest)({ ...options, ...(headers && { headers }) }, (res) => {
      clearTimeout(timer);
      resolve(res);
    });
    if (answerWithinMs !== undefined)
      timer = setTimeout(() => req.destroy(new Error(`no answer within ${answerWithinMs / 1000} s`)), answerWithinMs);
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.end(body);
  });
}

/** An answer's whole body as text. */
export async function readText(res: IncomingMessage): Promise<string> {
  res.setEncoding('utf8');
  let text = '';
  for await (const chunk of res) text += chunk as string;
  return text;
}

/** What a failed request says: Node's connection errors may carry only a code, or several attempts (IPv6 and IPv4). */
export function failureText(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return err.errors.map(failureText).join('; ');
  if (!(err instanceof Error)) return String(err);
  return err.message || ((err as NodeJS.ErrnoException).code ?? err.name);
}

/** PEM: the CA that signed the master's certificate, and a client certificate. */
export interface MasterTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** Requests to masters by URL, http: or https: (TLS from --ca, --tls-cert and --tls-key). */
export class MasterHttp {
  private readonly plain = new HttpAgent({ keepAlive: true });
  private readonly secure: HttpsAgent;

  constructor(tls?: MasterTls) {
    this.secure = new HttpsAgent({
      keepAlive: true,
      ...(tls?.ca && { ca: tls.ca }),
      ...(tls?.cert && tls.key && { cert: tls.cert, key: tls.key }),
    });
  }

  open(
    method: string,
    url: string,
    headers: Record<string, string>,
    signal: AbortSignal,
    send: SendOptions = {},
  ): Promise<IncomingMessage> {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return Promise.reject(new Error(`${JSON.stringify(url)} is not a URL`));
    }
    const secure = target.protocol === 'https:';
    if (!secure && target.protocol !== 'http:') return Promise.reject(new Error(`${target.protocol} is neither http: nor https:`));
    return openRequest(
      {
        method,
        protocol: target.protocol,
        hostname: target.hostname.replace(/^\[|\]$/g, ''),
        port: target.port,
        path: `${target.pathname}${target.search}`,
        headers,
        agent: secure ? this.secure : this.plain,
        signal,
      },
      { ...send, secure },
    );
  }
}
