import { describe, expect, it } from 'vitest';
import { SHARED, StatusTracker } from './status.js';

describe('StatusTracker', () => {
  it('goes CONFIGURING -> OK, and FAILED with the error text on failure', () => {
    const t = new StatusTracker(4);
    t.reset(['a', 'b']);
    expect(t.report().overlays.map((o) => o.status)).toEqual(['STATUS_CONFIGURING', 'STATUS_CONFIGURING']);
    t.record(new Map([['b', ['route-replace: Network is unreachable']]]));
    expect(t.report().overlays).toEqual([
      { name: 'a', status: 'STATUS_OK' },
      { name: 'b', status: 'STATUS_FAILED', error: 'route-replace: Network is unreachable' },
    ]);
  });

  it('gives an overlay up after maxAttempts failed passes, and recovers on success before that', () => {
    const t = new StatusTracker(3);
    t.reset(['a']);
    const failing = new Map([['a', ['boom']]]);
    t.record(failing);
    t.record(failing);
    t.record(new Map());
    expect(t.givenUp('a')).toBe(false);
    t.record(failing); t.record(failing); t.record(failing);
    expect(t.skipped()).toEqual(new Set(['a']));
    t.record(new Map()); // given up: stays FAILED
    expect(t.statusOf('a')).toEqual({ status: 'STATUS_FAILED', error: 'boom' });
  });

  it('fails every overlay on a shared failure', () => {
    const t = new StatusTracker(4);
    t.reset(['a', 'b']);
    t.record(new Map([[SHARED, ['no interface holds 198.18.0.1']]]));
    expect(t.report().overlays.every((o) => o.status === 'STATUS_FAILED' && o.error === 'no interface holds 198.18.0.1')).toBe(true);
  });
});
