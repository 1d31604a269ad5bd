import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Cidr, formatCidr, mustCidr } from '../net/ip.js';
import { canonicalize } from './canonical.js';
import { parseConfigText } from './parse.js';
import { planCapacity } from './plan.js';
import { DEFAULT_NETWORK_CONFIG, type NetworkConfig } from './types.js';
import { checkConfig } from './validate.js';

describe('canonicalize', () => {
  it('parses the seed defaults into src/net values and fills in enabled and masquerade', () => {
    const c = canonicalize(DEFAULT_NETWORK_CONFIG);
    expect(c.vtep4).toEqual(mustCidr('192.15.0.0/20'));
    expect(c.vtep6).toBeUndefined();
    expect(c.oui).toBe('70:b3:d5:00:00:00');
    expect(c.overlays).toEqual([
      { name: 'dcos-1', enabled: true, masquerade: true, v4: { subnet: mustCidr('192.168.0.0/17'), prefix: 24 } },
      { name: 'dcos-2', enabled: true, masquerade: true, v4: { subnet: mustCidr('192.168.128.0/17'), prefix: 24 } },
    ]);
    expect(c.network).toEqual(DEFAULT_NETWORK_CONFIG);
  });

  it('keeps enabled: false and masquerade: false, and echoes the section without adding defaults', () => {
    const text: NetworkConfig = {
      ...DEFAULT_NETWORK_CONFIG,
      vtep_mtu: 1450,
      overlays: [{ name: 'a', subnet6: 'FD01::/48', prefix6: 64, enabled: false, masquerade: false }],
    };
    const c = canonicalize(text);
    expect(c.overlays).toEqual([{ name: 'a', enabled: false, masquerade: false, v6: { subnet: mustCidr('fd01::/48'), prefix: 64 } }]);
    expect(c.mtu).toBe(1450);
    expect(c.network).toEqual(text);
  });

  it('names the field of an address that is no CIDR (a config that skipped the checks)', () => {
    expect(() => canonicalize({ ...DEFAULT_NETWORK_CONFIG, overlays: [{ name: 'a', subnet: '10.0.0/8', prefix: 24 }] })).toThrow(
      /^overlays\[0\]\.subnet: invalid CIDR "10\.0\.0\/8"/,
    );
  });

  const v4 = fc
    .tuple(fc.integer({ min: 1, max: 126 }), fc.integer({ min: 8, max: 24 }))
    .map(([a, len]): Cidr => ({ family: 4, base: BigInt(a) << 24n, length: len }));
  const v6 = fc
    .tuple(fc.integer({ min: 0xfd00, max: 0xfdff }), fc.integer({ min: 16, max: 64 }))
    .map(([g, len]): Cidr => ({ family: 6, base: BigInt(g) << 112n, length: len }));
  const spaces = fc.constantFrom('', ' ', '  ', '\t');
  const spelled = (cidr: Cidr, pad: [string, string], upper: boolean) => {
    const text = formatCidr(cidr);
    return `${pad[0]}${upper ? text.toUpperCase() : text}${pad[1]}`;
  };

  it('round-trips: parse, format and parse again gives the same values, whatever the spacing and case', () => {
    fc.assert(
      fc.property(v4, v6, fc.tuple(spaces, spaces), fc.boolean(), fc.boolean(), (subnet, subnet6, pad, upper, enabled) => {
        const text: NetworkConfig = {
          vtep_subnet: spelled({ family: 4, base: 198n << 24n, length: 20 }, pad, false),
          vtep_subnet6: spelled({ family: 6, base: 0xfe00n << 112n, length: 64 }, pad, upper),
          vtep_mac_oui: upper ? '70:B3:D5:00:00:00' : '70:b3:d5:00:00:00',
          overlays: [
            { name: 'o', subnet: spelled(subnet, pad, false), prefix: 28, subnet6: spelled(subnet6, pad, upper), prefix6: 120, enabled },
          ],
        };
        const c = canonicalize(text);
        expect(c.overlays[0]).toEqual({
          name: 'o',
          enabled,
          masquerade: true,
          v4: { subnet, prefix: 28 },
          v6: { subnet: subnet6, prefix: 120 },
        });
        // Idempotent: the echoed text parses to the same canonical config.
        expect(canonicalize(c.network)).toEqual(c);
        // The echo carries no whitespace, and the formatted values parse back to themselves.
        expect(c.network.overlays[0]!.subnet).toBe(c.network.overlays[0]!.subnet!.trim());
        expect(mustCidr(formatCidr(c.overlays[0]!.v6!.subnet))).toEqual(subnet6);
      }),
    );
  });
});

describe('validate and run agree on surrounding spaces', () => {
  const yaml = [
    'vtep_subnet: " 10.0.0.0/16"',
    'vtep_mac_oui: 70:B3:D5:00:00:00',
    'overlays:',
    '  - { name: dcos-1, subnet: "192.168.0.0/17 ", prefix: 24 }',
  ].join('\n');

  it('a subnet with spaces passes the checks trimmed, and plans and canonicalises like the trimmed one', () => {
    const check = parseConfigText(yaml, 'config.yaml');
    expect(check.errors).toEqual([]);
    expect(check.config?.vtep_subnet).toBe('10.0.0.0/16');
    expect(check.config?.overlays[0]?.subnet).toBe('192.168.0.0/17');
    const trimmed = checkConfig({
      vtep_subnet: '10.0.0.0/16',
      vtep_mac_oui: '70:B3:D5:00:00:00',
      overlays: [{ name: 'dcos-1', subnet: '192.168.0.0/17', prefix: 24 }],
    });
    expect(check.config).toEqual(trimmed.config);
    expect(planCapacity(canonicalize(check.config!))).toEqual(planCapacity(canonicalize(trimmed.config!)));
  });
});
