// Which of `total` blocks (subnets, VTEP addresses) are taken, by index.
//
// Design: the owner of each taken block is the only truth (one map, so
// reserving a stored lease again costs one lookup per block). Free indices are tracked as
// candidate intervals [start, end) in a min-heap keyed by start; initially one
// interval covers everything. occupy() never touches the heap (a candidate
// that turns out occupied is skipped lazily), release() pushes a one-block
// interval. Each skip advances an interval's start for good, so the cost is
// O(log n) amortised per operation and memory grows with the blocks in use,
// never with `total` (an IPv6 /32 split into /64s is 2^32 blocks). Indices
// are keyed as numbers whenever `total` allows (every IPv4 pool): hashing a
// bigint costs more, and a restart takes every block of every agent again.

import { MinHeap } from './min-heap.js';

interface Candidate {
  start: bigint;
  readonly end: bigint;
  /** Pushed by release(); at most one per index is queued at a time. */
  readonly released: boolean;
}

export class BlockSet {
  /** Owner of each taken block, by key (`keyOf`). */
  private readonly owners = new Map<number | bigint, string>();
  private readonly candidates = new MinHeap<Candidate>((a, b) => a.start < b.start);
  /** Indices with a release() candidate in the heap, so churn cannot grow it. */
  private readonly queued = new Set<bigint>();
  private readonly numbered: boolean;

  /** @param total how many blocks there are; indices run from 0 to total - 1. */
  constructor(readonly total: bigint) {
    if (total < 0n) throw new RangeError(`a block set cannot hold ${total} blocks`);
    this.numbered = total <= BigInt(Number.MAX_SAFE_INTEGER);
    if (total > 0n) this.candidates.push({ start: 0n, end: total, released: false });
  }

  /** How many blocks are taken. */
  get used(): bigint {
    return BigInt(this.owners.size);
  }

  has(index: bigint): boolean {
    return this.owners.has(this.keyOf(index));
  }

  /** Who holds a block ("" for a block taken without an owner), or undefined when it is free. */
  ownerOf(index: bigint): string | undefined {
    return this.owners.get(this.keyOf(index));
  }

  /** The lowest free index without taking it, or undefined when all are taken. */
  lowestFree(): bigint | undefined {
    for (;;) {
      const top = this.candidates.peek();
      if (!top) return undefined;
      if (!this.owners.has(this.keyOf(top.start))) return top.start;
      // Stale candidate: drop it, or move its start past the taken block.
      this.candidates.pop();
      if (top.released) this.queued.delete(top.start);
      if (top.start + 1n < top.end) {
        this.candidates.push({ start: top.start + 1n, end: top.end, released: false });
      }
    }
  }

  /** Takes and returns the lowest free index, or undefined when all are taken. */
  allocateNext(owner = ''): bigint | undefined {
    const index = this.lowestFree();
    if (index !== undefined) this.owners.set(this.keyOf(index), owner);
    return index;
  }

  /** Marks a block taken by `owner` (taken already: only the owner changes). Returns false when it already was taken. */
  occupy(index: bigint, owner = ''): boolean {
    this.checkIndex(index);
    const key = this.keyOf(index);
    const free = !this.owners.has(key);
    this.owners.set(key, owner);
    return free;
  }

  /** Frees a block. Returns false when it already was free (idempotent). */
  release(index: bigint): boolean {
    this.checkIndex(index);
    if (!this.owners.delete(this.keyOf(index))) return false;
    if (!this.queued.has(index)) {
      this.queued.add(index);
      this.candidates.push({ start: index, end: index + 1n, released: true });
    }
    return true;
  }

  private keyOf(index: bigint): number | bigint {
    return this.numbered ? Number(index) : index;
  }

  private checkIndex(index: bigint): void {
    if (index < 0n || index >= this.total) {
      throw new RangeError(`block index ${index} is outside 0..${this.total - 1n}`);
    }
  }
}
