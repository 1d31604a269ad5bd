import { describe, expect, it } from 'vitest';
import type { MasterState, WatchEvent } from '../api/types.js';
import { deleteEvent, WatchHub, type WatchClient } from './watch-hub.js';

class Recorder implements WatchClient {
  frames: string[] = [];
  closed = false;
  pendingBytes = 0;
  write(frame: string): boolean {
    this.frames.push(frame);
    return true;
  }
  close(): void {
    this.closed = true;
  }
  events(): WatchEvent[] {
    return this.frames.filter((f) => !f.startsWith(':')).map((f) => JSON.parse(f.split('\ndata: ')[1]!) as WatchEvent);
  }
}

const state: MasterState = { network: { vtep_subnet: '198.15.0.0/20', vtep_mac_oui: '70:B3:D5:00:00:00', overlays: [] }, agents: [] };
const del = (revision: number) => deleteEvent(revision, `10.0.0.${revision}`);
const stateJson = () => JSON.stringify(state);

describe('WatchHub', () => {
  it('starts a fresh client with a resync at the current revision', () => {
    const hub = new WatchHub(7, stateJson);
    const c = new Recorder();
    hub.subscribe(c, undefined);
    expect(c.events()).toEqual([{ type: 'resync', revision: 7, state }]);
    expect(c.frames[0]).toMatch(/^id: 7\nevent: resync\ndata: \{/);
  });

  it('sends live events to every client as the same string', () => {
    const hub = new WatchHub(0, stateJson);
    const a = new Recorder();
    const b = new Recorder();
    hub.subscribe(a, undefined);
    hub.subscribe(b, undefined);
    hub.publish(del(1));
    expect(a.frames[1]).toBe('id: 1\nevent: delete\ndata: {"type":"delete","revision":1,"ip":"10.0.0.1"}\n\n');
    expect(b.frames[1]).toBe(a.frames[1]);
  });

  it('replays exactly the missed events for a since inside the history', () => {
    const hub = new WatchHub(0, stateJson, { historySize: 4 });
    for (let r = 1; r <= 5; r++) hub.publish(del(r));
    const c = new Recorder();
    hub.subscribe(c, 2);
    expect(c.events().map((e) => e.revision)).toEqual([3, 4, 5]);
    const upToDate = new Recorder();
    hub.subscribe(upToDate, 5);
    expect(upToDate.frames).toEqual([]);
  });

  it('resyncs a since older than the history or newer than the hub', () => {
    const hub = new WatchHub(0, stateJson, { historySize: 4 });
    for (let r = 1; r <= 6; r++) hub.publish(del(r));
    const old = new Recorder();
    hub.subscribe(old, 1);
    expect(old.events().map((e) => [e.type, e.revision])).toEqual([['resync', 6]]);
    const edge = new Recorder();
    hub.subscribe(edge, 2);
    expect(edge.events().map((e) => e.revision)).toEqual([3, 4, 5, 6]);
    const future = new Recorder();
    hub.subscribe(future, 99);
    expect(future.events().map((e) => e.type)).toEqual(['resync']);
  });

  it('drops a client that is too far behind and stops writing to unsubscribed ones', () => {
    const hub = new WatchHub(0, stateJson, { maxPendingBytes: 10 });
    const slow = new Recorder();
    const gone = new Recorder();
    hub.subscribe(slow, undefined);
    const stop = hub.subscribe(gone, undefined);
    stop();
    slow.pendingBytes = 11;
    hub.publish(del(1));
    expect(slow.closed).toBe(true);
    expect(slow.frames).toHaveLength(1);
    expect(gone.frames).toHaveLength(1);
    expect(hub.clientCount).toBe(0);
  });

  it('refuses a revision that does not grow', () => {
    const hub = new WatchHub(3, stateJson);
    expect(() => hub.publish(del(3))).toThrow(/not after 3/);
  });
});
