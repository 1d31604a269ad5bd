import { describe, expect, it } from 'vitest';
import { deleteFrame, putFrame, resyncFrame, type WatchClient, WatchStreams } from './watch-streams.js';

class Recorder implements WatchClient {
  frames: string[] = [];
  pendingBytes = 0;
  closed = false;
  write(frame: string): boolean {
    this.frames.push(frame);
    return true;
  }
  close(): void {
    this.closed = true;
  }
}

describe('watch frames', () => {
  it('are SSE events whose data is the whole WatchEvent', () => {
    expect(putFrame(4, '{"ip":"10.0.0.1"}')).toBe('id: 4\nevent: put\ndata: {"type":"put","revision":4,"agent":{"ip":"10.0.0.1"}}\n\n');
    expect(JSON.parse(deleteFrame(5, '10.0.0.1').split('data: ')[1]!)).toEqual({ type: 'delete', revision: 5, ip: '10.0.0.1' });
    expect(JSON.parse(resyncFrame(6, '{"agents":[]}').split('data: ')[1]!)).toEqual({ type: 'resync', revision: 6, state: { agents: [] } });
  });
});

describe('WatchStreams', () => {
  it('writes a client its first frames, then every broadcast, and counts the bytes', () => {
    const streams = new WatchStreams();
    const a = new Recorder();
    const b = new Recorder();
    streams.add(a, ['one']);
    streams.add(b, []);
    streams.broadcast('two');
    expect(a.frames).toEqual(['one', 'two']);
    expect(b.frames).toEqual(['two']);
    expect(streams.bytesSent).toBe(9);
  });

  it('drops a client that is too far behind and stops writing to unsubscribed ones', () => {
    const streams = new WatchStreams({ maxPendingBytes: 10 });
    const slow = new Recorder();
    const gone = new Recorder();
    streams.add(slow, ['x']);
    const stop = streams.add(gone, ['x']);
    stop();
    slow.pendingBytes = 11;
    streams.broadcast('y');
    expect(slow.closed).toBe(true);
    expect(slow.frames).toEqual(['x']);
    expect(gone.frames).toEqual(['x']);
    expect(streams.clientCount).toBe(0);
  });
});
