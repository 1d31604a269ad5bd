// The one fan-out of watch events to open SSE streams. It keeps no history:
// replays come from the store's own (`Store.watch`, see replica.ts). Each
// event is one frame string written to every stream, so 10,000 watchers cost
// no JSON work. Per-client limits (the pending-bytes budget, a cap on
// watchers) belong here and only here.

import type { WatchEvent } from '../api/types.js';

/** One open watch stream. `write` returns false when the client is backed up. */
export interface WatchClient {
  write(frame: string): boolean;
  /** Bytes queued but not yet sent; a client past the limit is dropped. */
  readonly pendingBytes: number;
  close(): void;
}

export const PING_FRAME = ': ping\n\n';

/** `id: <rev>\nevent: <type>\ndata: <json>\n\n`; `data` is the whole event's JSON. */
const frame = (type: WatchEvent['type'], revision: number, data: string): string => `id: ${revision}\nevent: ${type}\ndata: ${data}\n\n`;

/** A put frame from an agent's JSON, without parsing it again. */
export const putFrame = (revision: number, agentJson: string): string =>
  frame('put', revision, `{"type":"put","revision":${revision},"agent":${agentJson}}`);

export const deleteFrame = (revision: number, ip: string): string =>
  frame('delete', revision, `{"type":"delete","revision":${revision},"ip":${JSON.stringify(ip)}}`);

export const resyncFrame = (revision: number, stateJson: string): string =>
  frame('resync', revision, `{"type":"resync","revision":${revision},"state":${stateJson}}`);

export interface WatchStreamsOptions {
  /** A client with more queued bytes than this is closed (it reconnects with `since`). */
  maxPendingBytes?: number;
}

export class WatchStreams {
  private readonly clients = new Set<WatchClient>();
  private readonly maxPendingBytes: number;
  /** Bytes written to streams since start: the watch's cost, for metrics and benches. */
  bytesSent = 0;

  constructor(options: WatchStreamsOptions = {}) {
    this.maxPendingBytes = options.maxPendingBytes ?? 8 * 1024 * 1024;
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Adds a client after writing it `first` (its replay, or a resync); returns its unsubscribe. */
  add(client: WatchClient, first: readonly string[]): () => void {
    for (const f of first) this.write(client, f);
    this.clients.add(client);
    return () => this.clients.delete(client);
  }

  /** Writes one frame to every stream, dropping those too far behind. */
  broadcast(text: string): void {
    for (const c of this.clients) {
      if (c.pendingBytes > this.maxPendingBytes) {
        this.clients.delete(c);
        c.close();
        continue;
      }
      this.write(c, text);
    }
  }

  /** Keeps idle streams (and proxies) open. */
  ping(): void {
    this.broadcast(PING_FRAME);
  }

  closeAll(): void {
    for (const c of this.clients) c.close();
    this.clients.clear();
  }

  private write(client: WatchClient, text: string): void {
    this.bytesSent += Buffer.byteLength(text);
    client.write(text);
  }
}
