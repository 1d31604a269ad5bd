import { describe, expect, it } from 'vitest';
import { RETRY_CAP_MS, SHARED, StatusTracker } from './status.js';

const none = new Set<string>();

describe('StatusTracker', () => {
  it('goes CONFIGURING -> OK, and FAILED with the error text on failure', () => {
    const t = new StatusTracker({ maxAttempts: 4, baseMs: 1000 });
    t.reset(['a', 'b']);
    expect(t.report().overlays.map((o) => o.status)).toEqual(['STATUS_CONFIGURING', 'STATUS_CONFIGURING']);
    t.record(new Map([['b', ['route-replace: Network is unreachable']]]), none, 0);
    expect(t.report().overlays).toEqual([
      { name: 'a', status: 'STATUS_OK' },
      { name: 'b', status: 'STATUS_FAILED', error: 'route-replace: Network is unreachable' },
    ]);
  });

  it('rests an overlay after maxAttempts failed passes in a row, and a success before that starts the count over', () => {
    const t = new StatusTracker({ maxAttempts: 3, baseMs: 1000 });
    t.reset(['a']);
    const failing = new Map([['a', ['boom']]]);
    expect(t.record(failing, none, 0)).toEqual([]);
    t.record(failing, none, 1000);
    t.record(new Map(), none, 2000);
    expect(t.skipped(2000)).toEqual(none);
    t.record(failing, none, 3000);
    t.record(failing, none, 4000);
    expect(t.record(failing, none, 5000)).toEqual([{ scope: 'a', failedPasses: 3, retryInMs: 2000 }]);
    expect(t.skipped(5000)).toEqual(new Set(['a']));
    expect(t.skipped(6999)).toEqual(new Set(['a']));
    // A pass that left it out changes nothing: it stays FAILED.
    t.record(new Map(), new Set(['a']), 6000);
    expect(t.statusOf('a')).toEqual({ status: 'STATUS_FAILED', error: 'boom' });
    expect(t.skipped(7000)).toEqual(none);
  });

  it('doubles the rest after each failed retry, up to the cap, and heals on the first success', () => {
    const t = new StatusTracker({ maxAttempts: 1, baseMs: 1000 });
    t.reset(['a']);
    const rests: number[] = [];
    let now = 0;
    for (let i = 0; i < 8; i++) {
      const [rest] = t.record(new Map([['a', ['boom']]]), none, now);
      rests.push(rest!.retryInMs);
      now += rest!.retryInMs;
      expect(t.skipped(now)).toEqual(none);
    }
    expect(rests).toEqual([2000, 4000, 8000, 16000, 32000, RETRY_CAP_MS, RETRY_CAP_MS, RETRY_CAP_MS]);
    t.record(new Map(), none, now);
    expect(t.statusOf('a')).toEqual({ status: 'STATUS_OK' });
    expect(t.record(new Map([['a', ['boom']]]), none, now)[0]!.retryInMs).toBe(2000);
  });

  it('fails every overlay on a shared failure, and records nothing for a pass that rested the shared part', () => {
    const t = new StatusTracker({ maxAttempts: 1, baseMs: 1000 });
    t.reset(['a', 'b']);
    const rests = t.record(new Map([[SHARED, ['no interface holds 198.18.0.1']]]), none, 0);
    expect(rests.map((r) => r.scope)).toEqual([SHARED, 'a', 'b']);
    expect(t.report().overlays.every((o) => o.status === 'STATUS_FAILED' && o.error === 'no interface holds 198.18.0.1')).toBe(true);
    expect(t.skipped(1000)).toEqual(new Set(['a', 'b', SHARED]));
    t.record(new Map(), t.skipped(1000), 1000);
    expect(t.report().overlays.every((o) => o.status === 'STATUS_FAILED')).toBe(true);
    t.record(new Map(), t.skipped(2000), 2000);
    expect(t.report().overlays.every((o) => o.status === 'STATUS_OK')).toBe(true);
  });

  it('starts over when the allocation changes', () => {
    const t = new StatusTracker({ maxAttempts: 1, baseMs: 1000 });
    t.reset(['a']);
    t.record(new Map([['a', ['boom']]]), none, 0);
    t.reset(['a']);
    expect(t.skipped(0)).toEqual(none);
    expect(t.statusOf('a')).toEqual({ status: 'STATUS_CONFIGURING' });
  });
});
