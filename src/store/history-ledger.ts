// The sizes of the retained changes, for a store whose history lives in its
// backend (SQLite's changes table): which revisions to trim so the history
// stays within its bounds, decided before the batch that adds to it is written.

import { type HistoryBounds, trimCount } from './options.js';

export class HistoryLedger {
  /** Revisions and sizes of the retained changes, oldest first, from index `start`. */
  private revs: number[] = [];
  private sizes: number[] = [];
  private start = 0;
  private bytes = 0;

  constructor(private readonly bounds: HistoryBounds) {}

  /** Bytes of the retained changes. */
  get retainedBytes(): number {
    return this.bytes;
  }

  /**
   * The revision at or below which every change must go once changes with
   * `revs` and `sizes` are added (0: nothing to trim). Changes nothing: call
   * `add` once they are written.
   */
  cutoffAfter(revs: readonly number[], sizes: readonly number[]): number {
    const mark = this.revs.length;
    this.revs.push(...revs);
    this.sizes.push(...sizes);
    let total = this.bytes;
    for (const n of sizes) total += n;
    const drop = trimCount(this.sizes, this.start, total, this.bounds);
    const cutoff = drop > 0 ? this.revs[this.start + drop - 1]! : 0;
    this.revs.length = mark;
    this.sizes.length = mark;
    return cutoff;
  }

  /** Records written changes and trims to the bounds, as `cutoffAfter` said. */
  add(revs: readonly number[], sizes: readonly number[]): void {
    this.revs.push(...revs);
    this.sizes.push(...sizes);
    for (const n of sizes) this.bytes += n;
    const drop = trimCount(this.sizes, this.start, this.bytes, this.bounds);
    for (let i = this.start; i < this.start + drop; i++) this.bytes -= this.sizes[i]!;
    this.start += drop;
    if (this.start > 1024 && this.start * 2 > this.revs.length) {
      this.revs = this.revs.slice(this.start);
      this.sizes = this.sizes.slice(this.start);
      this.start = 0;
    }
  }
}
