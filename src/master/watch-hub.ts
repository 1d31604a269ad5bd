// Fan-out of agent-record changes to watch streams, with a bounded history.
//
// Each event is serialised once into an SSE frame and the same string is
// written to every client, so 10,000 watchers cost one JSON.stringify per
// change. A client that reconnects with `since` inside the history gets
// exactly the frames it missed; anything older (or newer than us, e.g. after a
// store reset) gets one `resync` frame with the whole state.

import type { MasterState, WatchEvent } from '../api/types.js';

/** One open watch stream. `write` returns false when the client is backed up. */
export interface WatchClient {
  write(frame: string): boolean;
  /** Bytes queued but not yet sent; a client past the limit is dropped. */
  readonly pendingBytes: number;
  close(): void;
}

interface Entry {
  revision: number;
  frame: string;
}

export const PING_FRAME = ': ping\n\n';

/** `id: <rev>\nevent: <type>\ndata: <json>\n\n`. */
export function sseFrame(event: WatchEvent): string {
  return `id: ${event.revision}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

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
   * @param currentState builds the whole state at the hub's current revision.
   */
  constructor(
    revision: number,
    private readonly currentState: () => MasterState,
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
  publish(event: WatchEvent): void {
    if (event.revision <= this.current) throw new RangeError(`watch revision ${event.revision} is not after ${this.current}`);
    const entry = { revision: event.revision, frame: sseFrame(event) };
    if (this.count === this.ring.length) {
      this.historyFrom = this.ring[this.start]!.revision;
      this.ring[this.start] = entry;
      this.start = (this.start + 1) % this.ring.length;
    } else {
      this.ring[(this.start + this.count) % this.ring.length] = entry;
      this.count++;
    }
    this.current = event.revision;
    this.broadcast(entry.frame);
  }

  /**
   * Adds a client and sends what it needs first: the missed frames when
   * `since` is inside the history, else a resync with the whole state.
   */
  subscribe(client: WatchClient, since: number | undefined): () => void {
    const replay = since !== undefined && since > 0 && since >= this.historyFrom && since <= this.current;
    if (replay) {
      for (const entry of this.entriesAfter(since)) client.write(entry.frame);
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
      const frame = sseFrame({ type: 'resync', revision: this.current, state: this.currentState() });
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
