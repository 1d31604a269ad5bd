import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mustIp } from './ip.js';
import { vtepMac } from './mac.js';

describe('vtepMac', () => {
  it.each([
    { description: "the seed's first agent", oui: '70:B3:D5:00:00:00', ip: '198.15.0.1', expected: '70:b3:d5:0f:00:01' },
    { description: "the seed's second agent", oui: '70:B3:D5:00:00:00', ip: '198.15.0.2', expected: '70:b3:d5:0f:00:02' },
    { description: 'the high bit of the second byte', oui: '70:B3:D5:00:00:00', ip: '44.128.0.2', expected: '70:b3:d5:80:00:02' },
    { description: 'the first byte of the address is dropped', oui: '02:AB:cd:00:00:00', ip: '255.1.2.255', expected: '02:ab:cd:01:02:ff' },
  ])('$description: $oui + $ip -> $expected', ({ oui, ip, expected }) => {
    expect(vtepMac(oui, mustIp(ip))).toBe(expected);
  });

  it('gives distinct MACs to distinct addresses of one /8', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 24 - 1 }), fc.integer({ min: 0, max: 2 ** 24 - 1 }), (a, b) => {
        const mac = (low: number) => vtepMac('70:B3:D5:00:00:00', { family: 4, value: (10n << 24n) | BigInt(low) });
        expect(mac(a) === mac(b)).toBe(a === b);
        expect(mac(a)).toMatch(/^70:b3:d5(:[0-9a-f]{2}){3}$/);
      }),
    );
  });

  it.each([
    {
      description: 'an OUI with five bytes',
      oui: '70:B3:D5:00:00',
      ip: '10.0.0.1',
      message: 'vtep_mac_oui "70:B3:D5:00:00" is not of the form xx:xx:xx:00:00:00',
    },
    { description: 'an IPv6 VTEP address', oui: '70:B3:D5:00:00:00', ip: 'fd03::1', message: 'derived from the IPv4 VTEP address' },
  ])('refuses $description', ({ oui, ip, message }) => {
    expect(() => vtepMac(oui, mustIp(ip))).toThrow(message);
  });
});
