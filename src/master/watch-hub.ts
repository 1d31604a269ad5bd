// Fan-out of agent-record changes to watch streams, with a bounded history.
//
// Each event arrives already serialised (the service serialises every agent
// once) and becomes one SSE frame; the same string is written to every
// client, so 10,000 watchers cost no JSON work at all. A client that reconnects with `since` inside the history gets
// exactly the frames it missed; anything older (or newer than us, e.g. after a
// store reset) gets one `resync` frame with the whole state.

import type { WatchEvent } from '../api/types.js';

/** One open watch stream. `write` returns false when the client is backed up. */
export interface WatchClient {
  write(frame: string): boolean;
  /** Bytes queued but not yet sent; a client past the limit is dropped. */
  readonly pendingBytes: number;
  close(): void;
}

/** Ring entries keep the event, not its frame: the frame is rebuilt only for a replay. */
type Entry = SerialisedEvent;

export const PING_FRAME = ': ping\n\n';

/** A WatchEvent whose JSON is already built (`data` is the whole event's JSON). */
export interface SerialisedEvent {
  type: WatchEvent['type'];
  revision: number;
  data: string;
}

/** `id: <rev>\nevent: <type>\ndata: <json>\n\n`. */
export const sseFrame = (event: SerialisedEvent): string => `id: ${event.revision}\nevent: ${event.type}\ndata: ${event.data}\n\n`;

/** Event JSON from an agent's JSON, without parsing it again. */
export const putEvent = (revision: number, agentJson: string): SerialisedEvent => ({
  type: 'put',
  revision,
  data: `{"type":"put","revision":${revision},"agent":${agentJson}}`,
});

export const deleteEvent = (revision: number, ip: string): SerialisedEvent => ({
  type: 'delete',
  revision,
  data: `{"type":"delete","revision":${revision},"ip":${JSON.stringify(ip)}}`,
});

export const resyncEvent = (revision: number, stateJson: string): SerialisedEvent => ({
  type: 'resync',
  revision,
  data: `{"type":"resync","revision":${revision},"state":${stateJson}}`,
});

export interface WatchHubOptions {
  /** How many recent events a reconnect can replay. */
  historySize?: number;
  /** A client with more queued bytes than this is closed (it reconnects with `since`). */
  maxPendingBytes?: number;
}

export class WatchHub {
  private readonly ring: (Entry | undefined)[];
  private start = 0;
  private count = 0;
  /** Every event after this revision is still in the ring. */
  private historyFrom: number;
  private current: number;
  private readonly clients = new Set<WatchClient>();
  private readonly maxPendingBytes: number;
  private resyncCache?: { revision: number; frame: string };

  /**
   * @param revision the revision the current state is at.
   * @param currentStateJson the whole MasterState's JSON at the hub's current revision.
   */
  constructor(
    revision: number,
    private readonly currentStateJson: () => string,
    options: WatchHubOptions = {},
  ) {
    this.ring = new Array<Entry | undefined>(options.historySize ?? 4096);
    this.historyFrom = revision;
    this.current = revision;
    this.maxPendingBytes = options.maxPendingBytes ?? 8 * 1024 * 1024;
  }

  get revision(): number {
    return this.current;
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Publishes a change; revisions must grow. */
  publish(event: SerialisedEvent): void {
    if (event.revision <= this.current) throw new RangeError(`watch revision ${event.revision} is not after ${this.current}`);
    const entry = event;
    this.resyncCache = undefined;
    if (this.count === this.ring.length) {
      this.historyFrom = this.ring[this.start]!.revision;
      this.ring[this.start] = entry;
      this.start = (this.start + 1) % this.ring.length;
    } else {
      this.ring[(this.start + this.count) % this.ring.length] = entry;
      this.count++;
    }
    this.current = event.revision;
    if (this.clients.size > 0) this.broadcast(sseFrame(entry));
  }

  /**
   * Adds a client and sends what it needs first: the missed frames when
   * `since` is inside the history, else a resync with the whole state.
   */
  subscribe(client: WatchClient, since: number | undefined): () => void {
    const replay = since !== undefined && since > 0 && since >= this.historyFrom && since <= this.current;
    if (replay) {
      for (const entry of this.entriesAfter(since)) client.write(sseFrame(entry));
    } else {
      client.write(this.resyncFrame());
    }
    this.clients.add(client);
    return () => this.clients.delete(client);
  }

  /** Keeps idle streams (and proxies) open. */
  ping(): void {
    this.broadcast(PING_FRAME);
  }

  closeAll(): void {
    for (const c of this.clients) c.close();
    this.clients.clear();
  }

  private *entriesAfter(revision: number): Generator<Entry> {
    for (let i = 0; i < this.count; i++) {
      const entry = this.ring[(this.start + i) % this.ring.length]!;
      if (entry.revision > revision) yield entry;
    }
  }

  private resyncFrame(): string {
    if (this.resyncCache?.revision !== this.current) {
      const frame = sseFrame(resyncEvent(this.current, this.currentStateJson()));
      this.resyncCache = { revision: this.current, frame };
    }
    return this.resyncCache.frame;
  }

  private broadcast(frame: string): void {
    for (const c of this.clients) {
      if (c.pendingBytes > this.maxPendingBytes) {
        this.clients.delete(c);
        c.close();
        continue;
      }
      c.write(frame);
    }
  }
}
