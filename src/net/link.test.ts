import { describe, expect, it } from 'vitest';
import { isOverlayName, MAX_OVERLAY_NAME_LENGTH } from './link.js';
import { mustIp } from './ip.js';
import { specialRangeOf } from './special-ranges.js';

describe('isOverlayName', () => {
  it.each([
    { description: 'a seed name', name: 'dcos-1', ok: true },
    { description: 'the longest that fits m-<name> in 15 characters', name: 'a'.repeat(MAX_OVERLAY_NAME_LENGTH), ok: true },
    { description: 'one character too long', name: 'a'.repeat(MAX_OVERLAY_NAME_LENGTH + 1), ok: false },
    { description: 'empty', name: '', ok: false },
    { description: 'starting with a dash', name: '-x', ok: false },
    { description: 'with a slash', name: 'a/b', ok: false },
    { description: 'not a string', name: 7, ok: false },
  ])('$description: $ok', ({ name, ok }) => {
    expect(isOverlayName(name)).toBe(ok);
  });
});

describe('specialRangeOf', () => {
  it.each([
    { ip: '127.0.0.1', what: 'loopback', hostUnicast: false },
    { ip: '169.254.1.1', what: 'link-local', hostUnicast: true },
    { ip: '255.255.255.255', what: 'reserved and broadcast', hostUnicast: false },
    { ip: 'ff02::1', what: 'multicast', hostUnicast: false },
  ])('$ip is $what', ({ ip, what, hostUnicast }) => {
    expect(specialRangeOf(mustIp(ip))).toMatchObject({ what, hostUnicast });
  });

  it('ordinary unicast addresses are in no special range', () => {
    expect(specialRangeOf(mustIp('198.18.0.1'))).toBeUndefined();
    expect(specialRangeOf(mustIp('fd00::1'))).toBeUndefined();
  });
});
