import { describe, expect, it } from 'vitest';
import { AGENT_WATCH_HEADROOM, deleteFrame, putFrame, resyncFrame, type WatchClient, WatchStreams } from './watch-streams.js';

/** A client that never sends: everything written stays queued. */
class Recorder implements WatchClient {
  chunks: Buffer[] = [];
  ended = false;
  destroyed = false;
  flushed = 0;
  write(chunk: Buffer): boolean {
    this.chunks.push(chunk);
    return true;
  }
  get pendingBytes(): number {
    return this.chunks.reduce((n, c) => n + c.length, 0) - this.flushed;
  }
  get text(): string[] {
    return this.chunks.map(String);
  }
  close(): void {
    this.ended = true;
  }
  destroy(): void {
    this.destroyed = true;
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
    expect(a.text).toEqual(['one', 'two']);
    expect(b.text).toEqual(['two']);
    expect(streams.bytesSent).toBe(9);
  });

  it('gives every stream the same bytes of a broadcast and of a shared first message, not a copy each', () => {
    const streams = new WatchStreams();
    const state = Buffer.from('the state');
    const [a, b] = [new Recorder(), new Recorder()];
    streams.add(a, [state]);
    streams.add(b, [state]);
    streams.broadcast('event');
    expect(a.chunks[0]).toBe(state);
    expect(b.chunks[0]).toBe(state);
    expect(a.chunks[1]).toBe(b.chunks[1]);
  });

  it('destroys (not ends) a client over its budget, its first message counted, and stops writing to it', () => {
    const streams = new WatchStreams({ maxPendingBytes: 100 });
    const slow = new Recorder();
    const reader = new Recorder();
    streams.add(slow, ['x'.repeat(40)]);
    streams.add(reader, ['x'.repeat(40)]);
    reader.flushed = 40;
    streams.broadcast('y'.repeat(50)); // slow: 90 queued, within 100
    reader.flushed += 50;
    streams.broadcast('z'.repeat(50)); // slow: 140 queued, over, noticed at the next write
    streams.ping();
    expect(slow.destroyed).toBe(true);
    expect(slow.ended).toBe(false);
    expect(slow.text.join('')).toBe(`${'x'.repeat(40)}${'y'.repeat(50)}${'z'.repeat(50)}`);
    expect(reader.destroyed).toBe(false);
    expect(streams.clientCount).toBe(1);
    expect(streams.dropped).toBe(1);
  });

  it('lets a first message larger than the budget through to a client that reads it', () => {
    const streams = new WatchStreams({ maxPendingBytes: 100 });
    const client = new Recorder();
    streams.add(client, ['s'.repeat(300)]);
    streams.broadcast('e');
    expect(client.destroyed).toBe(false);
    client.flushed = 250;
    streams.broadcast('e');
    expect(client.destroyed).toBe(false);
  });

  it('stops writing to unsubscribed clients', () => {
    const streams = new WatchStreams();
    const gone = new Recorder();
    const stop = streams.add(gone, ['x']);
    stop();
    stop();
    streams.broadcast('y');
    expect(gone.text).toEqual(['x']);
    expect(streams.clientCount).toBe(0);
  });

  it('refuses a stream past the cap with TOO_MANY_WATCHERS; agents have their own cap of one per agent plus headroom', () => {
    const streams = new WatchStreams({ maxWatchers: 2 });
    streams.add(new Recorder(), []);
    const stop = streams.add(new Recorder(), []);
    expect(() => streams.admit('other', 0)).toThrow(expect.objectContaining({ code: 'TOO_MANY_WATCHERS' }));
    expect(() => streams.admit('agent', 0)).not.toThrow();
    stop();
    expect(() => streams.admit('other', 0)).not.toThrow();
    for (let i = 0; i < 3 + AGENT_WATCH_HEADROOM; i++) streams.add(new Recorder(), [], 'agent');
    expect(streams.count('agent')).toBe(3 + AGENT_WATCH_HEADROOM);
    expect(() => streams.admit('agent', 3)).toThrow(expect.objectContaining({ code: 'TOO_MANY_WATCHERS' }));
    expect(() => streams.admit('agent', 4)).not.toThrow();
  });

  it('at shutdown ends the streams that are drained and destroys the ones still holding bytes', () => {
    const streams = new WatchStreams();
    const drained = new Recorder();
    const stuck = new Recorder();
    streams.add(drained, ['a']);
    streams.add(stuck, ['b']);
    drained.flushed = 1;
    streams.closeAll();
    expect([drained.ended, drained.destroyed, stuck.ended, stuck.destroyed]).toEqual([true, false, false, true]);
    expect(streams.clientCount).toBe(0);
  });
});
