// The one fan-out of watch events to open SSE streams. It keeps no history:
// replays come from the store's own (`Store.watch`, see replica.ts). Each
// event is encoded once into a Buffer that every stream is given, and a
// state is encoded once per revision (replica.ts), so a stream that does not
// read pins shared bytes, never a copy of its own. Per-client limits (the
// queue budget, the caps on watchers) belong here and only here.

import type { WatchEvent } from '../api/types.js';
import { VxnetError } from '../errors.js';

/** One open watch stream. */
export interface WatchClient {
  /** Queues bytes; the same Buffer goes to every client (never copied per client). */
  write(chunk: Buffer): boolean;
  /** Bytes queued but not yet handed to the kernel. */
  readonly pendingBytes: number;
  /** Ends the stream after what is queued (the master is stopping). */
  close(): void;
  /** Drops the connection at once with what is queued: a client over its budget must not keep it. */
  destroy(): void;
}

/** Agents' streams are counted apart from everyone else's (browsers, tools), so these never starve agents. */
export type WatcherKind = 'agent' | 'other';

export const PING_FRAME = ': ping\n\n';
const PING = Buffer.from(PING_FRAME);

/** `id: <rev>\nevent: <type>\ndata: <json>\n\n`; `data` is the whole event's JSON. */
const frame = (type: WatchEvent['type'], revision: number, data: string): string => `id: ${revision}\nevent: ${type}\ndata: ${data}\n\n`;

/** A put frame from an agent's JSON, without parsing it again. */
export const putFrame = (revision: number, agentJson: string): string =>
  frame('put', revision, `{"type":"put","revision":${revision},"agent":${agentJson}}`);

export const deleteFrame = (revision: number, ip: string): string =>
  frame('delete', revision, `{"type":"delete","revision":${revision},"ip":${JSON.stringify(ip)}}`);

export const resyncFrame = (revision: number, stateJson: string): string => resyncFrameAround(revision).join(stateJson);

/** The resync frame's text before and after the state, so the state's bytes are sent as they are. */
export const resyncFrameAround = (revision: number): [string, string] => [
  `id: ${revision}\nevent: resync\ndata: {"type":"resync","revision":${revision},"state":`,
  '}\n\n',
];

export const DEFAULT_MAX_PENDING_BYTES = 8 * 1024 * 1024;
export const DEFAULT_MAX_WATCHERS = 2_000;
/** Agent streams allowed beyond one per registered agent: a reconnecting agent's old stream may linger a moment. */
export const AGENT_WATCH_HEADROOM = 100;
/** Seconds a client turned away for the cap is told to wait. */
export const WATCH_RETRY_AFTER_S = 5;

export interface WatchStreamsOptions {
  /**
   * A client's queue budget in bytes, its first message (a whole state, or a
   * replay) included; past it the connection is destroyed and the client
   * reconnects with `since`. A first message larger than half the budget
   * raises that client's budget to twice its size, so a large state can still
   * be delivered to a client that reads.
   */
  maxPendingBytes?: number;
  /** Open streams of clients without X-Vxnet-Agent; past it a new one is refused (503, Retry-After). */
  maxWatchers?: number;
}

interface Entry {
  kind: WatcherKind;
  budget: number;
}

export class WatchStreams {
  private readonly clients = new Map<WatchClient, Entry>();
  private readonly counts: Record<WatcherKind, number> = { agent: 0, other: 0 };
  private readonly maxPendingBytes: number;
  readonly maxWatchers: number;
  /** Bytes written to streams since start: the watch's cost, for metrics and benches. */
  bytesSent = 0;
  /** Clients destroyed for passing their budget, for metrics. */
  dropped = 0;

  constructor(options: WatchStreamsOptions = {}) {
    this.maxPendingBytes = options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES;
    this.maxWatchers = options.maxWatchers ?? DEFAULT_MAX_WATCHERS;
  }

  get clientCount(): number {
    return this.clients.size;
  }

  count(kind: WatcherKind): number {
    return this.counts[kind];
  }

  /**
   * Throws a 503 (with Retry-After) when a new stream of `kind` would pass its
   * cap: `maxWatchers` for others; for agents, one stream per registered agent
   * plus a little headroom (a client that only claims to be an agent gains nothing).
   */
  admit(kind: WatcherKind, registeredAgents: number): void {
    const cap = kind === 'agent' ? registeredAgents + AGENT_WATCH_HEADROOM : this.maxWatchers;
    if (this.counts[kind] < cap) return;
    const who = kind === 'agent' ? 'agent watch streams (one per registered agent)' : 'watch streams';
    throw new VxnetError(
      'TOO_MANY_WATCHERS',
      `this master already serves ${this.counts[kind]} ${who}, its limit; retry in ${WATCH_RETRY_AFTER_S} s, or raise --max-watchers`,
    );
  }

  /** Adds a client after writing it `first` (its replay, or a resync); returns its unsubscribe. */
  add(client: WatchClient, first: readonly (string | Buffer)[], kind: WatcherKind = 'other'): () => void {
    let firstBytes = 0;
    for (const f of first) firstBytes += this.write(client, typeof f === 'string' ? Buffer.from(f) : f);
    this.clients.set(client, { kind, budget: Math.max(this.maxPendingBytes, 2 * firstBytes) });
    this.counts[kind]++;
    return () => this.remove(client);
  }

  /** Writes one frame, encoded once, to every stream; destroys those over their budget. */
  broadcast(text: string | Buffer): void {
    const chunk = typeof text === 'string' ? Buffer.from(text) : text;
    for (const [c, entry] of this.clients) {
      if (c.pendingBytes > entry.budget) {
        this.drop(c);
        continue;
      }
      this.write(c, chunk);
    }
  }

  /** Keeps idle streams (and proxies) open, and drops non-readers even when nothing changes. */
  ping(): void {
    this.broadcast(PING);
  }

  /** At shutdown: readers get the end of their stream; a client with bytes still queued is cut. */
  closeAll(): void {
    for (const c of [...this.clients.keys()]) {
      this.remove(c);
      if (c.pendingBytes > 0) c.destroy();
      else c.close();
    }
  }

  private drop(client: WatchClient): void {
    this.remove(client);
    this.dropped++;
    client.destroy();
  }

  private remove(client: WatchClient): void {
    const entry = this.clients.get(client);
    if (!entry) return;
    this.clients.delete(client);
    this.counts[entry.kind]--;
  }

  private write(client: WatchClient, chunk: Buffer): number {
    this.bytesSent += chunk.length;
    client.write(chunk);
    return chunk.length;
  }
}
