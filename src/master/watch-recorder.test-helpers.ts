// A watch client for tests that keeps what it was sent as whole SSE frames,
// however the master split them into writes (a resync is written in parts
// around the state's own bytes).
import type { WatchClient } from './watch-streams.js';

export function frameRecorder(): { frames: string[]; client: WatchClient } {
  const frames: string[] = [];
  let pending = '';
  const client: WatchClient = {
    write: (chunk) => {
      pending += String(chunk);
      for (let end = pending.indexOf('\n\n'); end >= 0; end = pending.indexOf('\n\n')) {
        frames.push(pending.slice(0, end + 2));
        pending = pending.slice(end + 2);
      }
      return true;
    },
    pendingBytes: 0,
    close: () => {},
    destroy: () => {},
  };
  return { frames, client };
}
