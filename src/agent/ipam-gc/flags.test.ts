import { describe, expect, it } from 'vitest';
import { durationMs } from '../../duration.js';
import { checkIpamGcFlags } from './flags.js';
import { reservationsFrom } from './reservations.js';

describe('IPAM collector flags', () => {
  it('defaults: 5 min grace, every 30 s, podman on the PATH', () => {
    const errors: string[] = [];
    expect(checkIpamGcFlags({}, errors)).toEqual({
      graceMs: 300_000,
      intervalMs: 30_000,
      containerStateDir: '/run/vxnet/containers',
      podmanArgv: ['podman'],
      cniCacheDir: '/var/lib/cni',
    });
    expect(errors).toEqual([]);
  });

  it('reads durations with a unit', () => {
    expect(durationMs('3s')).toBe(3_000);
    expect(durationMs('500ms')).toBe(500);
    expect(durationMs('2h')).toBe(7_200_000);
    expect(durationMs('3')).toBeUndefined();
  });

  const bad = [
    { description: 'a grace without unit', raw: { ipamGcGrace: '300' }, text: '--ipam-gc-grace "300" is not valid: give a duration' },
    { description: 'an interval too short', raw: { ipamGcInterval: '10ms' }, text: '--ipam-gc-interval "10ms" is not valid' },
    {
      description: 'a podman command as a shell string',
      raw: { podmanArgv: 'podman --root /x' },
      text: '--podman-argv "podman --root /x" is not a JSON array',
    },
    {
      description: 'a podman argv with an empty argument',
      raw: { podmanArgv: '["podman", ""]' },
      text: 'is not a JSON array of arguments',
    },
  ];
  for (const c of bad) {
    it(`refuses ${c.description}, naming the flag, value and fix`, () => {
      const errors: string[] = [];
      checkIpamGcFlags(c.raw, errors);
      expect(errors.join('\n')).toContain(c.text);
    });
  }

  it("takes '[]' as: do not ask podman", () => {
    const errors: string[] = [];
    expect(checkIpamGcFlags({ podmanArgv: '[]' }, errors).podmanArgv).toEqual([]);
    expect(errors).toEqual([]);
  });
});

describe('reservationsFrom', () => {
  it('keeps address files with a usable container id and interface, nothing else', () => {
    const files = [
      { network: 'dcos-1', name: '192.168.0.2', content: 'c1\r\neth0' },
      { network: 'dcos-1', name: '192.168.0.3', content: 'c2' },
      { network: 'dcos-1', name: 'lock', content: '' },
      { network: 'dcos-1', name: 'last_reserved_ip.0', content: '192.168.0.3' },
      { network: 'dcos-1', name: '192.168.0.4', content: '../../etc\r\neth0' },
      { network: 'dcos-1', name: '192.168.0.5', content: 'c5\r\neth0/../x' },
      { network: '../x', name: '192.168.0.6', content: 'c6\r\neth0' },
      { network: 'dcos-1', name: '192.168.000.7', content: 'c7\r\neth0' },
    ];
    expect(reservationsFrom(files)).toEqual([
      { overlay: 'dcos-1', ip: '192.168.0.2', container: 'c1', ifname: 'eth0' },
      { overlay: 'dcos-1', ip: '192.168.0.3', container: 'c2', ifname: 'eth0' },
    ]);
  });
});
