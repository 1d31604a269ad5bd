import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { containsCidr, formatCidr, formatIp, mustCidr, mustIp, overlaps } from '../net/ip.js';
import { SubnetPool } from './subnet-pool.js';
import { VtepPool } from './vtep-pool.js';

/** Takes the lowest free block of a pool, as the allocator does. */
const take = <T>(pool: { blocks: { allocateNext(): bigint | undefined } }, at: (index: bigint) => T): T | undefined => {
  const index = pool.blocks.allocateNext();
  return index === undefined ? undefined : at(index);
};
const nextVtep = (pool: VtepPool) => take(pool, (i) => pool.addressOf(i));
const nextBlock = (pool: SubnetPool) => take(pool, (i) => pool.blockOf(i));

describe('VtepPool', () => {
  it.each([
    { description: 'IPv4 starts after the network address', cidr: '198.15.0.0/20', first: ['198.15.0.1', '198.15.0.2'], total: 4094n },
    { description: 'IPv6 starts at ::1', cidr: 'fd03::/64', first: ['fd03::1', 'fd03::2'], total: 2n ** 64n - 1n },
    { description: 'a /30 has two usable addresses', cidr: '10.0.0.0/30', first: ['10.0.0.1', '10.0.0.2'], total: 2n },
  ])('$description ($cidr)', ({ cidr, first, total }) => {
    const pool = new VtepPool(mustCidr(cidr));
    expect(pool.total).toBe(total);
    expect([nextVtep(pool), nextVtep(pool)].map((ip) => formatIp(ip!))).toEqual(first);
  });

  it('never hands out the IPv4 broadcast address', () => {
    const pool = new VtepPool(mustCidr('10.0.0.0/29'));
    const all = Array.from({ length: 7 }, () => nextVtep(pool)).map((ip) => ip && formatIp(ip));
    expect(all).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6', undefined]);
  });

  it.each([
    { description: 'the network address', ip: '10.0.0.0', index: undefined },
    { description: 'the broadcast address', ip: '10.0.0.7', index: undefined },
    { description: 'the first host', ip: '10.0.0.1', index: 0n },
    { description: 'the last host', ip: '10.0.0.6', index: 5n },
    { description: 'an address outside', ip: '10.0.0.9', index: undefined },
    { description: 'another family', ip: 'fd03::1', index: undefined },
  ])('$description ($ip) has index $index', ({ ip, index }) => {
    const pool = new VtepPool(mustCidr('10.0.0.0/29'));
    expect(pool.indexOf(mustIp(ip))).toBe(index);
    if (index !== undefined) expect(formatIp(pool.addressOf(index))).toBe(ip);
  });
});

describe('SubnetPool', () => {
  const scenarios = fc.oneof(
    fc.record({ parent: fc.constant('44.128.0.0/16'), prefix: fc.integer({ min: 16, max: 26 }) }),
    fc.record({ parent: fc.constant('192.168.0.0/17'), prefix: fc.integer({ min: 17, max: 30 }) }),
    fc.record({ parent: fc.constant('fd00:ffff:ffff:ff00::/56'), prefix: fc.integer({ min: 56, max: 66 }) }),
  );
  const withReleases = scenarios.chain((s) =>
    fc.record({ s: fc.constant(s), count: fc.integer({ min: 1, max: 60 }), releases: fc.array(fc.nat(59), { maxLength: 20 }) }),
  );

  it('blocks never overlap, lie inside the parent, are aligned, come lowest first and are reused after release', () => {
    fc.assert(
      fc.property(withReleases, ({ s, count, releases }) => {
        const parent = mustCidr(s.parent);
        const pool = new SubnetPool(parent, s.prefix);
        const held: ReturnType<typeof nextBlock>[] = [];
        for (let i = 0; i < count; i++) held.push(nextBlock(pool));
        const released = new Set<number>();
        for (const r of releases) {
          const block = held[r];
          if (block && !released.has(r)) {
            pool.blocks.release((pool.indexOf(block) as { index: bigint }).index);
            released.add(r);
          }
        }
        // Released ones come back lowest first, then fresh ones continue.
        const expectedOrder = [...released].sort((a, b) => a - b).map((r) => held[r]);
        if (expectedOrder.length > 0) expect(pool.lowestFree()).toEqual(expectedOrder[0]); // peeking takes nothing
        const again = expectedOrder.map(() => nextBlock(pool));
        expect(again).toEqual(expectedOrder);
        const live = held.filter((b) => b !== undefined);
        expect(live.length).toBe(Math.min(count, Number(pool.total)));
        for (const [i, block] of live.entries()) {
          expect(containsCidr(parent, block)).toBe(true);
          expect(block.length).toBe(s.prefix);
          expect(mustCidr(formatCidr(block))).toEqual(block); // aligned: no host bits
          for (const other of live.slice(i + 1)) expect(overlaps(block, other)).toBe(false);
          if (i > 0) expect(block.base).toBeGreaterThan(live[i - 1]!.base);
        }
      }),
    );
  });

  it('the last block of the seed overlay is allocatable', () => {
    const pool = new SubnetPool(mustCidr('192.168.0.0/17'), 24);
    const all = Array.from({ length: 128 }, () => formatCidr(nextBlock(pool)!));
    expect(all.at(0)).toBe('192.168.0.0/24');
    expect(all.at(-1)).toBe('192.168.127.0/24');
    expect(pool.lowestFree()).toBeUndefined();
  });

  it('IPv6 blocks carry across group boundaries without skipping a range', () => {
    const pool = new SubnetPool(mustCidr('fd00:0:0:fff0::/60'), 64);
    pool.blocks.occupy(14n);
    const got = [nextBlock(pool), nextBlock(pool), nextBlock(pool)].map((b) => b && formatCidr(b));
    expect(got).toEqual(['fd00:0:0:fff0::/64', 'fd00:0:0:fff1::/64', 'fd00:0:0:fff2::/64']);
    expect(formatCidr(pool.blockOf(15n))).toBe('fd00:0:0:ffff::/64');
    const wide = new SubnetPool(mustCidr('fd00::/32'), 64);
    expect(formatCidr(wide.blockOf(0x1_0000n))).toBe('fd00:0:1::/64');
    expect(formatCidr(wide.blockOf(0xffff_ffffn))).toBe('fd00:0:ffff:ffff::/64');
  });

  it.each([
    { description: 'a block of the wrong size', block: '44.128.0.0/25', reason: '44.128.0.0/25 is a /25, not a /24 block' },
    { description: 'a block outside the parent', block: '44.129.0.0/24', reason: '44.129.0.0/24 lies outside 44.128.0.0/16' },
    { description: 'a block of the other family', block: 'fd00::/24', reason: 'fd00::/24 lies outside 44.128.0.0/16' },
  ])('indexOf explains $description', ({ block, reason }) => {
    const pool = new SubnetPool(mustCidr('44.128.0.0/16'), 24);
    expect(pool.indexOf(mustCidr(block))).toEqual({ ok: false, reason });
  });
});
