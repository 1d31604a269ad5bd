import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Cidr,
  type Family,
  blockCount,
  blockIndex,
  contains,
  containsCidr,
  familyBits,
  formatCidr,
  formatIp,
  halves,
  lastAddress,
  mustCidr,
  nthBlock,
  overlaps,
  parseCidr,
  parseIp,
  usableContainerAddresses,
} from './ip.js';

const uint32 = fc.bigInt({ min: 0n, max: 2n ** 32n - 1n });
const uint128 = fc.bigInt({ min: 0n, max: 2n ** 128n - 1n });
const address = (family: Family) => (family === 4 ? uint32 : uint128);

/** Any aligned network of the family. */
const cidrOf = (family: Family) =>
  fc.tuple(address(family), fc.integer({ min: 0, max: familyBits(family) })).map(([value, length]): Cidr => {
    const bits = BigInt(familyBits(family) - length);
    return { family, base: (value >> bits) << bits, length };
  });
const anyCidr = fc.oneof(cidrOf(4), cidrOf(6));

describe('parseIp / formatIp round trip', () => {
  it('IPv4: every 32-bit value survives format then parse', () => {
    fc.assert(
      fc.property(uint32, (value) => {
        expect(parseIp(formatIp({ family: 4, value }))).toEqual({ family: 4, value });
      }),
    );
  });

  it('IPv6: every 128-bit value survives format then parse', () => {
    fc.assert(
      fc.property(uint128, (value) => {
        expect(parseIp(formatIp({ family: 6, value }))).toEqual({ family: 6, value });
      }),
    );
  });

  it('IPv6: the uncompressed uppercase form formats to the same canonical text', () => {
    fc.assert(
      fc.property(uint128, (value) => {
        const groups = Array.from({ length: 8 }, (_, i) => ((value >> BigInt((7 - i) * 16)) & 0xffffn).toString(16).padStart(4, '0'));
        const longForm = groups.join(':').toUpperCase();
        expect(formatIp(parseIp(longForm)!)).toBe(formatIp({ family: 6, value }));
      }),
    );
  });

  it('IPv6 output follows RFC 5952: lowercase, no leading zeros, "::" only for the longest run of 2+ zero groups', () => {
    // Bias towards zero groups so runs and ties are common.
    const group = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
    fc.assert(
      fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), (groups) => {
        const value = groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
        const text = formatIp({ family: 6, value });
        if (value >> 32n === 0xffffn) return; // IPv4-mapped: checked in the table
        expect(text).toBe(text.toLowerCase());
        expect(text).not.toMatch(/(^|:)0[0-9a-f]/);
        const runs = [
          ...groups
            .map((g) => (g === 0 ? '0' : 'x'))
            .join('')
            .matchAll(/0+/g),
        ].map((m) => m[0].length);
        const longest = Math.max(0, ...runs);
        if (longest < 2) expect(text).not.toContain('::');
        else {
          expect(text.split('::')).toHaveLength(2);
          const written = text.split(/::|:/).filter((p) => p !== '').length;
          expect(written).toBe(8 - longest);
        }
      }),
    );
  });

  it.each([
    { description: 'RFC 5952 4.2.1: compress the zero run', input: '2001:db8:0:0:0:0:2:1', expected: '2001:db8::2:1' },
    {
      description: 'RFC 5952 4.2.2: a single zero group is not compressed',
      input: '2001:db8:0:1:1:1:1:1',
      expected: '2001:db8:0:1:1:1:1:1',
    },
    { description: 'RFC 5952 4.2.3: the longest run wins', input: '2001:0:0:1:0:0:0:1', expected: '2001:0:0:1::1' },
    { description: 'RFC 5952 4.2.3: on a tie the first run wins', input: '2001:db8:0:0:1:0:0:1', expected: '2001:db8::1:0:0:1' },
    { description: 'RFC 5952 4.3: lowercase', input: '2001:DB8::ABCD', expected: '2001:db8::abcd' },
    { description: 'RFC 5952 4.1: leading zeros dropped', input: '2001:0db8::0001', expected: '2001:db8::1' },
    { description: 'all zeros', input: '0:0:0:0:0:0:0:0', expected: '::' },
    { description: 'loopback', input: '::1', expected: '::1' },
    { description: 'trailing run', input: '1:0:0:0:0:0:0:0', expected: '1::' },
    { description: 'RFC 5952 5: IPv4-mapped keeps the dotted quad', input: '::ffff:c000:280', expected: '::ffff:192.0.2.128' },
    { description: 'embedded IPv4 at the end parses', input: '64:ff9b::1.2.3.4', expected: '64:ff9b::102:304' },
    { description: 'IPv4 dotted quad', input: '198.15.0.1', expected: '198.15.0.1' },
    { description: 'IPv4 extremes', input: '255.255.255.255', expected: '255.255.255.255' },
  ])('$description: $input -> $expected', ({ input, expected }) => {
    expect(formatIp(parseIp(input)!)).toBe(expected);
  });

  it.each([
    { description: 'IPv4 octet over 255', input: '256.1.1.1' },
    { description: 'IPv4 with three octets', input: '1.2.3' },
    { description: 'IPv4 with a leading zero (octal ambiguity)', input: '01.2.3.4' },
    { description: 'IPv4 with five octets', input: '1.2.3.4.5' },
    { description: 'IPv4 with an empty octet', input: '1..3.4' },
    { description: 'IPv4 with a leading dot', input: '.1.2.3' },
    { description: 'IPv4 with a trailing dot', input: '1.2.3.4.' },
    { description: 'IPv4 with a four-digit octet', input: '1.2.3.0004' },
    { description: 'IPv4 with a leading zero in the last octet', input: '1.2.3.04' },
    { description: 'IPv4 with a sign', input: '1.2.3.+4' },
    { description: 'surrounding space', input: ' 1.2.3.4' },
    { description: 'trailing space', input: '1.2.3.4 ' },
    { description: 'empty text', input: '' },
    { description: 'nine IPv6 groups', input: '1:2:3:4:5:6:7:8:9' },
    { description: 'eight groups plus "::"', input: '1:2:3:4:5:6:7:8::' },
    { description: 'two "::"', input: '1::2::3' },
    { description: 'a five-digit group', input: '02001:db8::1' },
    { description: 'a non-hex digit', input: 'g::1' },
    { description: 'a lone leading colon', input: ':1::' },
    { description: 'embedded IPv4 not at the end', input: '1.2.3.4::' },
    { description: 'embedded IPv4 that is not one', input: '::1.2.3.256' },
  ])('rejects $description ($input)', ({ input }) => {
    expect(parseIp(input)).toBeUndefined();
  });
});

describe('parseCidr', () => {
  it('formatCidr then parseCidr gives the same aligned network', () => {
    fc.assert(
      fc.property(anyCidr, (cidr) => {
        expect(parseCidr(formatCidr(cidr))).toEqual({ ok: true, cidr, aligned: true });
      }),
    );
  });

  it.each([
    { description: 'host bits are reported, not silently kept', input: '44.128.0.5/24', base: '44.128.0.0', aligned: false },
    { description: 'IPv6 host bits are reported', input: 'fd00::1/64', base: 'fd00::', aligned: false },
    { description: 'an aligned network', input: '192.168.128.0/17', base: '192.168.128.0', aligned: true },
    { description: 'a /0', input: '::/0', base: '::', aligned: true },
    { description: 'an IPv4 /0 keeps no bit', input: '255.1.2.3/0', base: '0.0.0.0', aligned: false },
    { description: 'an IPv4 /32 keeps every bit', input: '255.255.255.255/32', base: '255.255.255.255', aligned: true },
    { description: 'the top bit of an IPv4 /1', input: '200.0.0.1/1', base: '128.0.0.0', aligned: false },
  ])('$description: $input', ({ input, base, aligned }) => {
    const r = parseCidr(input);
    expect(r.ok && formatIp({ family: r.cidr.family, value: r.cidr.base })).toBe(base);
    expect(r.ok && r.aligned).toBe(aligned);
  });

  it.each([
    { description: 'no length', input: '10.0.0.0', reason: 'has no "/length" part' },
    { description: 'not an address', input: 'ten/8', reason: '"ten" is not an IPv4 or IPv6 address' },
    { description: 'IPv4 length over 32', input: '10.0.0.0/33', reason: 'prefix length 33 exceeds 32 for IPv4' },
    { description: 'IPv6 length over 128', input: 'fd00::/129', reason: 'prefix length 129 exceeds 128 for IPv6' },
    { description: 'length not a number', input: '10.0.0.0/x', reason: '"x" is not a prefix length' },
  ])('rejects $description ($input) saying why', ({ input, reason }) => {
    expect(parseCidr(input)).toEqual({ ok: false, reason });
  });
});

describe('halves', () => {
  it('splits any network into two adjacent, disjoint halves that cover it exactly', () => {
    const halvable = anyCidr.filter((c) => c.length < familyBits(c.family));
    fc.assert(
      fc.property(halvable, (cidr) => {
        const [lower, upper] = halves(cidr);
        expect(containsCidr(cidr, lower) && containsCidr(cidr, upper)).toBe(true);
        expect(overlaps(lower, upper)).toBe(false);
        expect(lower.base).toBe(cidr.base);
        expect(upper.base).toBe(lastAddress(lower) + 1n);
        expect(lastAddress(upper)).toBe(lastAddress(cidr));
      }),
    );
  });

  it.each([
    { description: "the seed's agent subnet", input: '44.128.0.0/24', expected: ['44.128.0.0/25', '44.128.0.128/25'] },
    { description: 'an IPv6 /64', input: 'fd01:b::/64', expected: ['fd01:b::/65', 'fd01:b:0:0:8000::/65'] },
    { description: 'a /31', input: '10.0.0.0/31', expected: ['10.0.0.0/32', '10.0.0.1/32'] },
  ])('$description: $input', ({ input, expected }) => {
    expect(halves(mustCidr(input)).map(formatCidr)).toEqual(expected);
  });

  it('refuses to halve a single address', () => {
    expect(() => halves(mustCidr('10.0.0.1/32'))).toThrow('cannot halve 10.0.0.1/32');
  });
});

describe('overlaps / containsCidr', () => {
  it('two networks overlap exactly when one contains the other', () => {
    fc.assert(
      fc.property(fc.oneof(fc.tuple(cidrOf(4), cidrOf(4)), fc.tuple(cidrOf(6), cidrOf(6))), ([a, b]) => {
        expect(overlaps(a, b)).toBe(containsCidr(a, b) || containsCidr(b, a));
      }),
    );
  });

  it('a network holding an address of another overlaps it', () => {
    fc.assert(
      fc.property(cidrOf(4), cidrOf(4), fc.bigInt({ min: 0n, max: 2n ** 32n - 1n }), (a, b, offset) => {
        const inB = { family: 4 as const, value: b.base + (offset % (lastAddress(b) - b.base + 1n)) };
        if (contains(a, inB)) expect(overlaps(a, b)).toBe(true);
      }),
    );
  });

  it.each([
    { description: 'adjacent networks do not overlap', a: '10.0.0.0/25', b: '10.0.0.128/25', overlap: false, aHoldsB: false },
    { description: 'a subnet lies inside its parent', a: '44.128.0.0/16', b: '44.128.255.0/24', overlap: true, aHoldsB: true },
    { description: 'the parent does not lie inside its subnet', a: '44.128.255.0/24', b: '44.128.0.0/16', overlap: true, aHoldsB: false },
    { description: 'a network contains itself', a: 'fd00::/48', b: 'fd00::/48', overlap: true, aHoldsB: true },
    { description: 'families never mix', a: '0.0.0.0/0', b: '::/0', overlap: false, aHoldsB: false },
    { description: 'the last IPv6 /64 of a /48', a: 'fd00::/48', b: 'fd00:0:0:ffff::/64', overlap: true, aHoldsB: true },
  ])('$description: $a vs $b', ({ a, b, overlap, aHoldsB }) => {
    expect(overlaps(mustCidr(a), mustCidr(b))).toBe(overlap);
    expect(containsCidr(mustCidr(a), mustCidr(b))).toBe(aHoldsB);
  });
});

describe('blocks of a network', () => {
  it('nthBlock and blockIndex are inverses, and every block lies inside the parent, aligned', () => {
    const split = fc
      .tuple(anyCidr, fc.integer({ min: 0, max: 64 }), fc.bigInt({ min: 0n, max: 2n ** 128n }))
      .filter(([c, extra]) => c.length + extra <= familyBits(c.family))
      .map(([cidr, extra, pick]) => ({ cidr, length: cidr.length + extra, index: pick % blockCount(cidr, cidr.length + extra) }));
    fc.assert(
      fc.property(split, ({ cidr, length, index }) => {
        const block = nthBlock(cidr, length, index);
        expect(containsCidr(cidr, block)).toBe(true);
        expect(parseCidr(formatCidr(block))).toMatchObject({ ok: true, aligned: true });
        expect(blockIndex(cidr, length, block)).toBe(index);
      }),
    );
  });

  it('the last block ends at the last address of the parent', () => {
    const parent = mustCidr('192.168.0.0/17');
    expect(formatCidr(nthBlock(parent, 24, blockCount(parent, 24) - 1n))).toBe('192.168.127.0/24');
    const parent6 = mustCidr('fd00::/32');
    expect(formatCidr(nthBlock(parent6, 64, blockCount(parent6, 64) - 1n))).toBe('fd00:0:ffff:ffff::/64');
  });

  it('IPv6 blocks carry into the next group instead of skipping ranges', () => {
    const parent = mustCidr('fd00::/32');
    expect(formatCidr(nthBlock(parent, 64, 0xffffn))).toBe('fd00:0:0:ffff::/64');
    expect(formatCidr(nthBlock(parent, 64, 0x10000n))).toBe('fd00:0:1::/64');
  });

  it.each([
    { description: "the seed's /24: minus network, gateway and broadcast", input: '44.128.0.0/24', expected: 253n },
    { description: 'a /25 bridge half', input: '44.128.0.0/25', expected: 125n },
    { description: 'a /30', input: '10.0.0.0/30', expected: 1n },
    { description: 'a /31 has no room', input: '10.0.0.0/31', expected: 0n },
    { description: 'IPv6 has no broadcast', input: 'fd00::/120', expected: 254n },
  ])('usable container addresses of $description ($input)', ({ input, expected }) => {
    expect(usableContainerAddresses(mustCidr(input))).toBe(expected);
  });
});
