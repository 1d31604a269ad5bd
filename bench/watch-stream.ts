// The master's watch stream for benches: every event with when its bytes
// arrived, read with the agent's own SSE parser (src/agent/sse.ts).
import { SseParser } from '../src/agent/sse.js';
import type { WatchEvent } from '../src/api/types.js';

/** When an event's bytes arrived: `mono` as performance.now(), `wall` as Date.now() (to compare with `ip -ts monitor`). */
export interface Arrival {
  mono: number;
  wall: number;
}

/**
 * Opens GET /overlay-master/watch and calls `onEvent` for each event until
 * `signal` aborts. Resolves once the stream is open; reading goes on behind.
 */
export async function followWatch(url: string, signal: AbortSignal, onEvent: (ev: WatchEvent, at: Arrival) => void): Promise<void> {
  const res = await fetch(`${url}/overlay-master/watch`, { signal });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const parser = new SseParser();
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        const at = { mono: performance.now(), wall: Date.now() };
        for (const e of parser.feed(decoder.decode(value, { stream: true }))) onEvent(JSON.parse(e.data) as WatchEvent, at);
      }
    } catch {
      /* aborted */
    }
  })();
}
