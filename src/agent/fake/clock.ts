// A fake `Clock`: time moves only when a test calls `advance`, which fires
// the timers that fall due, in order.

import type { Clock } from '../ports.js';

interface Timer {
  at: number;
  fn: () => void;
}

export class FakeClock implements Clock {
  private time: number;
  private timers = new Set<Timer>();

  constructor(start = 1_000_000) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimer(ms: number, fn: () => void): () => void {
    const timer = { at: this.time + ms, fn };
    this.timers.add(timer);
    return () => this.timers.delete(timer);
  }

  /** Timers waiting to fire. */
  pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing each timer that falls due at its own time. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const next = [...this.timers].filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.timers.delete(next);
      this.time = next.at;
      next.fn();
    }
    this.time = end;
  }
}
