import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatCidr, formatIp, formatIpWithLength, parseCidr, parseIp } from '../net/ip.js';
import { canonicalCidr, canonicalIp, canonicalIpWithLength, canonicalMac, isInterfaceName, overlayNameProblem } from './names.js';

describe('canonical forms', () => {
  it('agree with the shared address math for every IPv4 address and length', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 0, max: 32 }), (ip, length) => {
        const parsed = parseIp(ip)!;
        expect(canonicalIp(ip)).toBe(formatIp(parsed));
        const r = parseCidr(`${ip}/${length}`);
        expect(r.ok && canonicalCidr(`${ip}/${length}`)).toBe(r.ok && formatCidr(r.cidr));
        expect(canonicalIpWithLength(`${ip}/${length}`)).toBe(formatIpWithLength(parsed, length));
      }),
    );
  });

  const rejected = [
    { description: 'leading zeros', value: '010.0.0.1' },
    { description: 'length over 32', value: '10.0.0.0/33' },
    { description: 'words', value: '10.0.0.0/8 dev eth0' },
    { description: 'a newline', value: '10.0.0.1\nlink del eth0' },
  ];
  for (const c of rejected) {
    it(`rejects ${c.description}`, () => {
      expect(canonicalIp(c.value)).toBeUndefined();
      expect(canonicalCidr(c.value)).toBeUndefined();
    });
  }

  it('handles IPv6 and MACs', () => {
    expect(canonicalIp('FD03:0:0::1')).toBe('fd03::1');
    expect(canonicalCidr('fd01:0:0:1::5/64')).toBe('fd01:0:0:1::/64');
    expect(canonicalMac('70:B3:D5:0F:00:01')).toBe('70:b3:d5:0f:00:01');
    expect(canonicalMac('70:b3:d5:0f:00')).toBeUndefined();
  });

  it('accepts only names that are safe as interface names', () => {
    expect(overlayNameProblem('dcos-1')).toBeUndefined();
    expect(overlayNameProblem('a-name-of-14ch')).toContain('1-13 letters');
    expect(overlayNameProblem('../x')).toContain('is not usable');
    expect(isInterfaceName('m-dcos-1')).toBe(true);
    expect(isInterfaceName('bad name')).toBe(false);
  });
});
