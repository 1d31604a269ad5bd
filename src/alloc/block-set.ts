// Which of `total` blocks (subnets, VTEP addresses) are taken, by index.
//
// Design: the occupied set is the only truth. Free indices are tracked as
// candidate intervals [start, end) in a min-heap keyed by start; initially one
// interval covers everything. occupy() never touches the heap (a candidate
// that turns out occupied is skipped lazily), release() pushes a one-block
// interval. Each skip advances an interval's start for good, so the cost is
// O(log n) amortised per operation and memory grows with the blocks in use,
// never with `total` (an IPv6 /32 split into /64s is 2^32 blocks).

import { MinHeap } from './min-heap.js';

interface Candidate {
  start: bigint;
  readonly end: bigint;
  /** Pushed by release(); at most one per index is queued at a time. */
  readonly released: boolean;
}

export class BlockSet {
  private readonly occupied = new Set<bigint>();
  private readonly candidates = new MinHeap<Candidate>((a, b) => a.start < b.start);
  /** Indices with a release() candidate in the heap, so churn cannot grow it. */
  private readonly queued = new Set<bigint>();

  /** @param total how many blocks there are; indices run from 0 to total - 1. */
  constructor(readonly total: bigint) {
    if (total < 0n) throw new RangeError(`a block set cannot hold ${total} blocks`);
    if (total > 0n) this.candidates.push({ start: 0n, end: total, released: false });
  }

  /** How many blocks are taken. */
  get used(): bigint {
    return BigInt(this.occupied.size);
  }

  has(index: bigint): boolean {
    return this.occupied.has(index);
  }

  /** The lowest free index without taking it, or undefined when all are taken. */
  lowestFree(): bigint | undefined {
    for (;;) {
      const top = this.candidates.peek();
      if (!top) return undefined;
      if (!this.occupied.has(top.start)) return top.start;
      // Stale candidate: drop it, or move its start past the taken block.
      this.candidates.pop();
      if (top.released) this.queued.delete(top.start);
      if (top.start + 1n < top.end) {
        this.candidates.push({ start: top.start + 1n, end: top.end, released: false });
      }
    }
  }

  /** Takes and returns the lowest free index, or undefined when all are taken. */
  allocateNext(): bigint | undefined {
    const index = this.lowestFree();
    if (index !== undefined) this.occupied.add(index);
    return index;
  }

  /** Marks a block taken. Returns false when it already was (idempotent). */
  occupy(index: bigint): boolean {
    this.checkIndex(index);
    if (this.occupied.has(index)) return false;
    this.occupied.add(index);
    return true;
  }

  /** Frees a block. Returns false when it already was free (idempotent). */
  release(index: bigint): boolean {
    this.checkIndex(index);
    if (!this.occupied.delete(index)) return false;
    if (!this.queued.has(index)) {
      this.queued.add(index);
      this.candidates.push({ start: index, end: index + 1n, released: true });
    }
    return true;
  }

  private checkIndex(index: bigint): void {
    if (index < 0n || index >= this.total) {
      throw new RangeError(`block index ${index} is outside 0..${this.total - 1n}`);
    }
  }
}
