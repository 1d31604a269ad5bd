// Talks to the master(s): registration with backoff across every --master
// URL, status and container reports, and the watch stream. Writes carry the
// agent's credential (issued by the master at registration, rotated at each
// one); only a first registration uses the join token.

import { Agent, fetch } from 'undici';
import type { AgentInfo, ContainersReport, LeaseTerms, RegisterRequest, StatusReport, WatchEvent } from '../api/types.js';
import { VxnetError } from '../errors.js';
import type { CredentialStore } from './credential.js';
import { backoffDelay, SseParser } from './sse.js';

export interface MasterClientOptions {
  urls: string[];
  /** The join token (--token-file): registers an IP that holds no credential yet. */
  token?: string;
  /** Keeps the credential the master issues (the state dir); without it the credential lives in memory only. */
  credentials?: CredentialStore;
  /** PEM: the CA that signed the master's certificate (--ca), and a client certificate (--tls-cert, --tls-key). */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  random?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  log?: (message: string) => void;
}

const defaultSleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

/** What the agent's loop and reporter use of the master (a fake stands in for it in unit tests). */
export type MasterPort = Pick<MasterClient, 'register' | 'putStatus' | 'putContainers' | 'watch'> &
  // Agent leases (lease.ts): without it, the agent sends no heartbeats.
  Partial<Pick<MasterClient, 'heartbeat'>>;

export class MasterClient {
  private current = 0;
  private readonly random: () => number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly log: (message: string) => void;
  private readonly dispatcher: Agent | undefined;
  /** The credential the master issued us; loaded from `credentials` before the first registration. */
  private credential: string | undefined;
  private loaded = false;

  constructor(private readonly options: MasterClientOptions) {
    if (options.urls.length === 0) throw new VxnetError('BAD_REQUEST', 'no master URL given: pass --master http://HOST:PORT');
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? defaultSleep;
    this.log = options.log ?? (() => {});
    const tls = options.tls;
    this.dispatcher =
      tls && new Agent({ connect: { ...(tls.ca && { ca: tls.ca }), ...(tls.cert && tls.key && { cert: tls.cert, key: tls.key }) } });
  }

  private url(path: string): string {
    return `${this.options.urls[this.current % this.options.urls.length]!.replace(/\/+$/, '')}${path}`;
  }

  private async send(method: string, path: string, body: unknown, bearer = this.credential): Promise<unknown> {
    const url = this.url(path);
    try {
      const res = await fetch(url, {
        method,
        headers: { 'content-type': 'application/json', ...(bearer !== undefined && { authorization: `Bearer ${bearer}` }) },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
        ...(this.dispatcher && { dispatcher: this.dispatcher }),
      });
      const text = await res.text();
      if (!res.ok)
        throw new VxnetError('PRECONDITION', `${method} ${url} answered ${res.status}: ${text.slice(0, 300)}`, { status: res.status });
      return text ? JSON.parse(text) : undefined;
    } catch (err) {
      this.current++; // the next call tries the next master
      if (err instanceof VxnetError) throw err;
      throw new VxnetError('PRECONDITION', `${method} ${url} failed: ${err instanceof Error ? err.message : String(err)}`, undefined, {
        cause: err,
      });
    }
  }

  /** Retries (rotating through the masters) until it succeeds or `signal` aborts. */
  async retry<T>(what: string, call: () => Promise<T>, signal: AbortSignal): Promise<T | undefined> {
    for (let attempt = 0; !signal.aborted; attempt++) {
      try {
        return await call();
      } catch (err) {
        const delay = backoffDelay(attempt, this.random);
        this.log(`${what} failed (${err instanceof Error ? err.message : String(err)}); retrying in ${delay} ms`);
        await this.sleep(delay, signal);
      }
    }
    return undefined;
  }

  register(req: RegisterRequest, signal: AbortSignal): Promise<AgentInfo | undefined> {
    return this.retry('registration', () => this.registerOnce(req), signal);
  }

  /**
   * With our credential (which rotates it), else the join token. A refused
   * credential (the master lost our record, or an admin reset it) is followed
   * by one try with the join token, which works only while the IP holds none.
   */
  private async registerOnce(req: RegisterRequest): Promise<AgentInfo> {
    if (!this.loaded) {
      this.credential = await this.options.credentials?.load();
      this.loaded = true;
    }
    const path = '/overlay-master/agents';
    let answer: unknown;
    try {
      answer = await this.send('POST', path, req, this.credential ?? this.options.token);
    } catch (err) {
      const status = err instanceof VxnetError ? (err.details as { status?: number } | undefined)?.status : undefined;
      if (this.credential === undefined || this.options.token === undefined || (status !== 401 && status !== 403)) throw err;
      this.log('the master refused our credential; registering with the join token');
      this.current--; // the same master again
      answer = await this.send('POST', path, req, this.options.token);
    }
    const { credential, ...info } = answer as AgentInfo & { credential?: unknown };
    if (typeof credential === 'string') {
      // In memory first: if it cannot be kept, the retry re-registers with it (rotating it again).
      this.credential = credential;
      await this.options.credentials?.save(credential);
    }
    return info as AgentInfo;
  }

  async putStatus(ip: string, report: StatusReport): Promise<void> {
    await this.send('PUT', `/overlay-master/agents/${encodeURIComponent(ip)}/status`, report);
  }

  /** Renews the lease of `epoch` (src/agent/lease.ts); 404/409 mean it is gone or stale. Answers the lease's terms. */
  async heartbeat(ip: string, epoch: number): Promise<Partial<LeaseTerms> | undefined> {
    const path = `/overlay-master/agents/${encodeURIComponent(ip)}/heartbeat`;
    return (await this.send('POST', path, { epoch })) as Partial<LeaseTerms> | undefined;
  }

  async putContainers(ip: string, report: ContainersReport): Promise<void> {
    await this.send('PUT', `/overlay-master/agents/${encodeURIComponent(ip)}/containers`, report);
  }

  /**
   * Follows the watch stream, reconnecting (with its last revision) after
   * every break, until `signal` aborts.
   */
  async watch(onEvent: (event: WatchEvent) => void, signal: AbortSignal): Promise<void> {
    let since = 0;
    let failures = 0;
    while (!signal.aborted) {
      try {
        // x-vxnet-agent: a standby master sends agents to the leader, their watch included.
        const res = await fetch(this.url(`/overlay-master/watch?since=${since}`), {
          headers: { accept: 'text/event-stream', 'x-vxnet-agent': '1' },
          signal,
          ...(this.dispatcher && { dispatcher: this.dispatcher }),
        });
        if (!res.ok || !res.body) throw new Error(`answered ${res.status}`);
        const parser = new SseParser();
        const decoder = new TextDecoder();
        for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
          for (const sse of parser.feed(decoder.decode(chunk, { stream: true }))) {
            const event = JSON.parse(sse.data) as WatchEvent;
            if (typeof event.revision === 'number') since = event.revision;
            failures = 0;
            onEvent(event);
          }
        }
        throw new Error('stream ended');
      } catch (err) {
        if (signal.aborted) return;
        const delay = backoffDelay(failures++, this.random);
        this.log(`watch via ${this.url('')} broke (${err instanceof Error ? err.message : String(err)}); reconnecting in ${delay} ms`);
        this.current++;
        await this.sleep(delay, signal);
      }
    }
  }
}
