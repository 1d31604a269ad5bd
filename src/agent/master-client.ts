// Talks to the master(s): registration with backoff across every --master
// URL, status and container reports, and the watch stream. Writes carry the
// agent's credential (issued by the master at registration, rotated at each
// one); only a first registration uses the join token.

import type { AgentInfo, ContainersReport, LeaseTerms, RegisterRequest, StatusReport, WatchEvent } from '../api/types.js';
import { VxnetError } from '../errors.js';
import type { CredentialStore } from './credential.js';
import { backoffDelay, SseParser } from './sse.js';
import { failureText, MasterHttp, type MasterTls, readText } from './http-client.js';

export interface MasterClientOptions {
  urls: string[];
  /** The join token (--token-file): registers an IP that holds no credential yet. */
  token?: string;
  /** Keeps the credential the master issues (the state dir); without it the credential lives in memory only. */
  credentials?: CredentialStore;
  /** PEM: the CA that signed the master's certificate (--ca), and a client certificate (--tls-cert, --tls-key). */
  tls?: MasterTls;
  /** How long a watch may wait for the master's answer, and then stay silent (default WATCH_ANSWER_MS, WATCH_SILENCE_MS). */
  watchTimeouts?: { answerMs: number; silenceMs: number };
  random?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  log?: (message: string) => void;
}

/** How long the master may take to answer a watch, and how long its stream may stay silent (it pings every 15 s). */
export const WATCH_ANSWER_MS = 10_000;
export const WATCH_SILENCE_MS = 45_000;

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
  private readonly http: MasterHttp;
  /** The credential the master issued us; loaded from `credentials` before the first registration. */
  private credential: string | undefined;
  private loaded = false;

  constructor(private readonly options: MasterClientOptions) {
    if (options.urls.length === 0) throw new VxnetError('BAD_REQUEST', 'no master URL given: pass --master http://HOST:PORT');
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? defaultSleep;
    this.log = options.log ?? (() => {});
    this.http = new MasterHttp(options.tls);
  }

  private url(path: string): string {
    return `${this.options.urls[this.current % this.options.urls.length]!.replace(/\/+$/, '')}${path}`;
  }

  private async send(method: string, path: string, body: unknown, bearer = this.credential): Promise<unknown> {
    const url = this.url(path);
    try {
      const headers = { 'content-type': 'application/json', ...(bearer !== undefined && { authorization: `Bearer ${bearer}` }) };
      const res = await this.http.open(method, url, headers, AbortSignal.timeout(10_000), { body: JSON.stringify(body) });
      const text = await readText(res);
      const status = res.statusCode ?? 0;
      if (status < 200 || status > 299)
        throw new VxnetError('PRECONDITION', `${method} ${url} answered ${status}: ${text.slice(0, 300)}`, { status });
      return text ? JSON.parse(text) : undefined;
    } catch (err) {
      this.current++; // the next call tries the next master
      if (err instanceof VxnetError) throw err;
      throw new VxnetError('PRECONDITION', `${method} ${url} failed: ${failureText(err)}`, undefined, {
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
        const url = this.url(`/overlay-master/watch?since=${since}`);
        const headers = { accept: 'text/event-stream', 'x-vxnet-agent': '1' };
        const { answerMs, silenceMs } = this.options.watchTimeouts ?? { answerMs: WATCH_ANSWER_MS, silenceMs: WATCH_SILENCE_MS };
        const res = await this.http.open('GET', url, headers, signal, { answerWithinMs: answerMs });
        if (res.statusCode !== 200) {
          res.resume();
          throw new Error(`answered ${res.statusCode}`);
        }
        // The master pings every 15 s: a stream silent for longer is dead (a partition sends no RST), so reconnect.
        res.setTimeout(silenceMs, () => res.destroy(new Error(`nothing for ${silenceMs / 1000} s, not even a ping`)));
        const parser = new SseParser();
        res.setEncoding('utf8'); // a character split across chunks is held until its last byte
        for await (const chunk of res) {
          for (const sse of parser.feed(chunk as string)) {
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
        this.log(`watch via ${this.url('')} broke (${failureText(err)}); reconnecting in ${delay} ms`);
        this.current++;
        await this.sleep(delay, signal);
      }
    }
  }
}
