import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BlockSet } from './block-set.js';

type Op = { kind: 'allocate' } | { kind: 'occupy'; index: number } | { kind: 'release'; index: number };

const opsFor = (total: number) =>
  fc.array(
    fc.oneof(
      fc.constant<Op>({ kind: 'allocate' }),
      fc.integer({ min: 0, max: total - 1 }).map((index): Op => ({ kind: 'occupy', index })),
      fc.integer({ min: 0, max: total - 1 }).map((index): Op => ({ kind: 'release', index })),
    ),
    { maxLength: 200 },
  );

describe('BlockSet against a plain array model', () => {
  it('hands out the lowest free index, never one already taken, and counts exactly', () => {
    const scenario = fc.integer({ min: 1, max: 40 }).chain((total) => fc.tuple(fc.constant(total), opsFor(total)));
    fc.assert(
      fc.property(scenario, ([total, ops]) => {
        const set = new BlockSet(BigInt(total));
        const taken = new Array<boolean>(total).fill(false);
        for (const op of ops) {
          if (op.kind === 'allocate') {
            const lowest = taken.indexOf(false);
            const got = set.allocateNext();
            expect(got).toBe(lowest < 0 ? undefined : BigInt(lowest));
            if (lowest >= 0) taken[lowest] = true;
          } else if (op.kind === 'occupy') {
            expect(set.occupy(BigInt(op.index))).toBe(!taken[op.index]);
            taken[op.index] = true;
          } else {
            expect(set.release(BigInt(op.index))).toBe(taken[op.index]);
            taken[op.index] = false;
          }
          expect(set.used).toBe(BigInt(taken.filter(Boolean).length));
        }
        for (let i = 0; i < total; i++) expect(set.has(BigInt(i))).toBe(taken[i]);
      }),
    );
  });
});

describe('BlockSet', () => {
  it.each([
    { description: 'a single block', total: 1 },
    { description: 'the seed /17 split into /24', total: 128 },
    { description: 'an odd count', total: 7 },
  ])('allocates every block of $description, the last one included, then reports none left', ({ total }) => {
    const set = new BlockSet(BigInt(total));
    const got = Array.from({ length: total }, () => set.allocateNext());
    expect(got).toEqual(Array.from({ length: total }, (_, i) => BigInt(i)));
    expect(set.allocateNext()).toBeUndefined();
    expect(set.used).toBe(BigInt(total));
  });

  it('an empty set has nothing to hand out', () => {
    expect(new BlockSet(0n).allocateNext()).toBeUndefined();
  });

  it('reuses the lowest released block first', () => {
    const set = new BlockSet(10n);
    for (let i = 0; i < 6; i++) set.allocateNext();
    set.release(4n);
    set.release(1n);
    expect([set.allocateNext(), set.allocateNext(), set.allocateNext()]).toEqual([1n, 4n, 6n]);
  });

  it('counts change only when membership flips (double occupy, double release)', () => {
    const set = new BlockSet(4n);
    const steps = [set.occupy(2n), set.occupy(2n), set.release(2n), set.release(2n), set.occupy(2n)];
    expect(steps).toEqual([true, false, true, false, true]);
    expect(set.used).toBe(1n);
  });

  it('skips blocks occupied out of order (recovery) when allocating', () => {
    const set = new BlockSet(6n);
    for (const i of [0n, 1n, 3n, 5n]) set.occupy(i);
    expect([set.allocateNext(), set.allocateNext(), set.allocateNext()]).toEqual([2n, 4n, undefined]);
  });

  it('re-occupying a released block removes it from the free list', () => {
    const set = new BlockSet(3n);
    set.allocateNext();
    set.release(0n);
    set.occupy(0n);
    expect(set.lowestFree()).toBe(1n);
  });

  it('lowestFree does not take the block', () => {
    const set = new BlockSet(3n);
    expect([set.lowestFree(), set.lowestFree(), set.used]).toEqual([0n, 0n, 0n]);
  });

  it('handles 2^64 blocks without a dense bitmap, the last index included', () => {
    const total = 2n ** 64n;
    const set = new BlockSet(total);
    expect(set.occupy(total - 1n)).toBe(true);
    expect(Array.from({ length: 3 }, () => set.allocateNext())).toEqual([0n, 1n, 2n]);
    expect(set.has(total - 1n)).toBe(true);
    expect(set.used).toBe(4n);
  });

  it.each([
    { description: 'a negative index', index: -1n },
    { description: 'the index one past the end', index: 8n },
  ])('refuses $description', ({ index }) => {
    const set = new BlockSet(8n);
    expect(() => set.occupy(index)).toThrow(`block index ${index} is outside 0..7`);
    expect(() => set.release(index)).toThrow(RangeError);
  });

  it('keeps who holds each block, until it is released', () => {
    const set = new BlockSet(8n);
    set.occupy(3n, 'agent-a');
    expect(set.allocateNext('agent-b')).toBe(0n);
    expect([set.ownerOf(3n), set.ownerOf(0n), set.ownerOf(1n)]).toEqual(['agent-a', 'agent-b', undefined]);
    set.release(3n);
    expect(set.ownerOf(3n)).toBeUndefined();
  });

  it('tells apart indices past 2^53 (an IPv6 pool of /64s in a /8), which a number would merge', () => {
    const set = new BlockSet(1n << 56n);
    const high = 1n << 54n;
    expect(Number(high) === Number(high + 1n)).toBe(true);
    set.occupy(high, 'a');
    expect(set.has(high + 1n)).toBe(false);
    expect(set.occupy(high + 1n, 'b')).toBe(true);
    expect([set.ownerOf(high), set.ownerOf(high + 1n), set.used]).toEqual(['a', 'b', 2n]);
  });
});
