import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_NETWORK_CONFIG, type ConfigIssue } from './types.js';
import { MAX_OVERLAYS } from './overlay-rules.js';
import { checkConfig } from './validate.js';

type Raw = Record<string, unknown>;

/** A valid dual-stack config; each case breaks one thing. */
const base = (): Raw => ({
  vtep_subnet: '198.15.0.0/20',
  vtep_subnet6: 'fd03::/64',
  vtep_mac_oui: '70:B3:D5:00:00:00',
  vtep_mtu: 1450,
  overlays: [
    { name: 'dcos-1', subnet: '192.168.0.0/17', prefix: 24 },
    { name: 'dcos-2', subnet: '192.168.128.0/17', prefix: 24, subnet6: 'fd01:b::/48', prefix6: 64 },
  ],
});

function withOverlay(index: number, patch: Raw, drop: string[] = []): Raw {
  const raw = base();
  const overlays = raw.overlays as Raw[];
  const overlay = { ...overlays[index], ...patch };
  for (const key of drop) delete overlay[key];
  overlays[index] = overlay;
  return raw;
}

function withTop(patch: Raw, drop: string[] = []): Raw {
  const raw = { ...base(), ...patch };
  for (const key of drop) delete raw[key];
  return raw;
}

interface Case {
  description: string;
  raw: unknown;
  path: string;
  value?: unknown;
  rule: RegExp;
  fix: RegExp;
}

const errorCases: Case[] = [
  {
    description: 'vtep_subnet missing',
    raw: withTop({}, ['vtep_subnet']),
    path: 'vtep_subnet',
    rule: /required/,
    fix: /192\.15\.0\.0\/20/,
  },
  {
    description: 'vtep_subnet of the wrong type',
    raw: withTop({ vtep_subnet: 20 }),
    path: 'vtep_subnet',
    value: 20,
    rule: /must be a string.*got an integer/,
    fix: /address\/length/,
  },
  {
    description: 'vtep_subnet without a length',
    raw: withTop({ vtep_subnet: '198.15.0.0' }),
    path: 'vtep_subnet',
    value: '198.15.0.0',
    rule: /not a CIDR.*\/length/,
    fix: /address\/length/,
  },
  {
    description: 'vtep_subnet holding IPv6',
    raw: withTop({ vtep_subnet: 'fd04::/64' }),
    path: 'vtep_subnet',
    value: 'fd04::/64',
    rule: /IPv6 network.*takes IPv4/,
    fix: /vtep_subnet6/,
  },
  {
    description: 'vtep_subnet wider than /8',
    raw: withTop({ vtep_subnet: '10.0.0.0/7' }),
    path: 'vtep_subnet',
    value: '10.0.0.0/7',
    rule: /wider than \/8.*same MAC/,
    fix: /\/8 or narrower/,
  },
  {
    description: 'vtep_subnet without a usable address',
    raw: withTop({ vtep_subnet: '198.15.0.0/31' }),
    path: 'vtep_subnet',
    value: '198.15.0.0/31',
    rule: /no usable VTEP address/,
    fix: /\/30 or wider/,
  },
  {
    description: 'vtep_subnet unaligned',
    raw: withTop({ vtep_subnet: '198.15.0.1/20' }),
    path: 'vtep_subnet',
    value: '198.15.0.1/20',
    rule: /not aligned.*starts at 198\.15\.0\.0/,
    fix: /write 198\.15\.0\.0\/20/,
  },
  {
    description: 'vtep_subnet6 holding IPv4',
    raw: withTop({ vtep_subnet6: '198.16.0.0/20' }),
    path: 'vtep_subnet6',
    value: '198.16.0.0/20',
    rule: /IPv4 network.*takes IPv6/,
    fix: /vtep_subnet and an IPv6/,
  },
  {
    description: 'vtep_subnet6 without a usable address',
    raw: withTop({ vtep_subnet6: 'fd03::/128' }),
    path: 'vtep_subnet6',
    value: 'fd03::/128',
    rule: /no usable VTEP address/,
    fix: /\/64/,
  },
  {
    description: 'vtep_mac_oui missing',
    raw: withTop({}, ['vtep_mac_oui']),
    path: 'vtep_mac_oui',
    rule: /required/,
    fix: /70:B3:D5:00:00:00/,
  },
  {
    description: 'vtep_mac_oui malformed',
    raw: withTop({ vtep_mac_oui: '70:B3:D5' }),
    path: 'vtep_mac_oui',
    value: '70:B3:D5',
    rule: /xx:xx:xx:00:00:00/,
    fix: /70:B3:D5:00:00:00/,
  },
  {
    description: 'vtep_mac_oui with low bytes set',
    raw: withTop({ vtep_mac_oui: '70:B3:D5:00:00:01' }),
    path: 'vtep_mac_oui',
    value: '70:B3:D5:00:00:01',
    rule: /low three bytes must be 00:00:00/,
    fix: /write 70:B3:D5:00:00:00/,
  },
  {
    description: 'vtep_mac_oui multicast',
    raw: withTop({ vtep_mac_oui: '01:00:5E:00:00:00' }),
    path: 'vtep_mac_oui',
    value: '01:00:5E:00:00:00',
    rule: /multicast.*unicast/,
    fix: /00:00:5E:00:00:00/,
  },
  { description: 'vtep_mtu below 552', raw: withTop({ vtep_mtu: 500 }), path: 'vtep_mtu', value: 500, rule: /below 552/, fix: /1450/ },
  {
    description: 'vtep_mtu above the sane bound',
    raw: withTop({ vtep_mtu: 9500 }),
    path: 'vtep_mtu',
    value: 9500,
    rule: /above 9000/,
    fix: /at most 9000/,
  },
  {
    description: 'vtep_mtu not an integer',
    raw: withTop({ vtep_mtu: 1450.5 }),
    path: 'vtep_mtu',
    value: 1450.5,
    rule: /must be an integer.*got a number/,
    fix: /1450/,
  },
  {
    description: 'vtep_mtu quoted',
    raw: withTop({ vtep_mtu: '1450' }),
    path: 'vtep_mtu',
    value: '1450',
    rule: /got a string/,
    fix: /1450 without quotes/,
  },
  { description: 'overlays missing', raw: withTop({}, ['overlays']), path: 'overlays', rule: /required/, fix: /name: dcos-1/ },
  {
    description: 'overlays empty',
    raw: withTop({ overlays: [] }),
    path: 'overlays',
    value: [],
    rule: /at least one overlay/,
    fix: /add an overlay/,
  },
  {
    description: 'overlays not a list',
    raw: withTop({ overlays: { name: 'dcos' } }),
    path: 'overlays',
    rule: /must be a list.*got a mapping/,
    fix: /- name/,
  },
  {
    description: 'an overlay that is not a mapping',
    raw: withTop({ overlays: ['dcos'] }),
    path: 'overlays[0]',
    value: 'dcos',
    rule: /must be a mapping.*got a string/,
    fix: /name: dcos-1/,
  },
  { description: 'name missing', raw: withOverlay(0, {}, ['name']), path: 'overlays[0].name', rule: /needs a name/, fix: /name: dcos-1/ },
  {
    description: 'name of the wrong type',
    raw: withOverlay(0, { name: 7 }),
    path: 'overlays[0].name',
    value: 7,
    rule: /must be a string/,
    fix: /dcos-1/,
  },
  {
    description: 'name longer than 13',
    raw: withOverlay(0, { name: 'overlay-number1' }),
    path: 'overlays[0].name',
    value: 'overlay-number1',
    rule: /1 to 13 characters.*has 15/,
    fix: /"overlay-numbe"/,
  },
  {
    description: 'name with unsafe characters',
    raw: withOverlay(0, { name: 'dcos/1 x' }),
    path: 'overlays[0].name',
    value: 'dcos/1 x',
    rule: /letters, digits/,
    fix: /"dcos-1-x"/,
  },
  {
    description: 'empty name',
    raw: withOverlay(0, { name: '' }),
    path: 'overlays[0].name',
    value: '',
    rule: /1 to 13 characters/,
    fix: /dcos-1/,
  },
  ...['host', 'bridge', 'default', 'none'].map((name) => ({
    description: `reserved name ${name}`,
    raw: withOverlay(0, { name }),
    path: 'overlays[0].name',
    value: name,
    rule: /is reserved/,
    fix: /another name/,
  })),
  {
    description: 'duplicate names',
    raw: withOverlay(1, { name: 'dcos-1' }),
    path: 'overlays[1].name',
    value: 'dcos-1',
    rule: /duplicates the name of overlays\[0\]/,
    fix: /rename/,
  },
  {
    description: 'neither subnet nor subnet6',
    raw: withOverlay(0, {}, ['subnet', 'prefix']),
    path: 'overlays[0]',
    rule: /neither/,
    fix: /subnet6 with prefix6/,
  },
  {
    description: 'subnet holding IPv6',
    raw: withOverlay(0, { subnet: 'fd02::/48' }),
    path: 'overlays[0].subnet',
    value: 'fd02::/48',
    rule: /IPv6 network.*takes IPv4/,
    fix: /move it to subnet6/,
  },
  {
    description: 'subnet6 holding IPv4',
    raw: withOverlay(1, { subnet6: '10.1.0.0/16' }),
    path: 'overlays[1].subnet6',
    value: '10.1.0.0/16',
    rule: /IPv4 network.*takes IPv6/,
    fix: /move it to subnet \(with prefix\)/,
  },
  {
    description: 'prefix missing',
    raw: withOverlay(0, {}, ['prefix']),
    path: 'overlays[0].prefix',
    rule: /required with subnet/,
    fix: /add prefix: 24/,
  },
  {
    description: 'prefix6 missing',
    raw: withOverlay(1, {}, ['prefix6']),
    path: 'overlays[1].prefix6',
    rule: /required with subnet6/,
    fix: /add prefix6: 64/,
  },
  {
    description: 'prefix shorter than the mask',
    raw: withOverlay(0, { prefix: 16 }),
    path: 'overlays[0].prefix',
    value: 16,
    rule: /shorter than the mask \/17/,
    fix: /between 17 .* and 29, e\.g\. 24/,
  },
  {
    description: 'prefix too long for a bridge half',
    raw: withOverlay(0, { prefix: 30 }),
    path: 'overlays[0].prefix',
    value: 30,
    rule: /each bridge half would have 2 address/,
    fix: /and 29/,
  },
  {
    description: 'prefix beyond 32',
    raw: withOverlay(0, { prefix: 33 }),
    path: 'overlays[0].prefix',
    value: 33,
    rule: /too long/,
    fix: /and 29/,
  },
  {
    description: 'prefix6 shorter than the mask',
    raw: withOverlay(1, { prefix6: 40 }),
    path: 'overlays[1].prefix6',
    value: 40,
    rule: /shorter than the mask \/48/,
    fix: /between 48 .* and 125, e\.g\. 64/,
  },
  {
    description: 'prefix6 too long',
    raw: withOverlay(1, { prefix6: 127 }),
    path: 'overlays[1].prefix6',
    value: 127,
    rule: /too long.*network, gateway addresses/,
    fix: /and 125/,
  },
  {
    description: 'prefix quoted',
    raw: withOverlay(0, { prefix: '24' }),
    path: 'overlays[0].prefix',
    value: '24',
    rule: /integer prefix length.*got a string/,
    fix: /24 without quotes/,
  },
  {
    description: 'prefix without subnet',
    raw: withOverlay(1, { prefix: 24 }, ['subnet']),
    path: 'overlays[1].prefix',
    value: 24,
    rule: /only applies together with subnet/,
    fix: /add subnet/,
  },
  {
    description: 'subnet too small for one agent',
    raw: withOverlay(0, { subnet: '192.168.0.0/30', prefix: 30 }),
    path: 'overlays[0].subnet',
    value: '192.168.0.0/30',
    rule: /too small for even one agent/,
    fix: /\/29 or wider/,
  },
  {
    description: 'unaligned subnet',
    raw: withOverlay(0, { subnet: '192.168.1.0/17' }),
    path: 'overlays[0].subnet',
    value: '192.168.1.0/17',
    rule: /not aligned/,
    fix: /write 192\.168\.0\.0\/17/,
  },
  {
    description: 'unaligned subnet6',
    raw: withOverlay(1, { subnet6: 'fd01:b::1/48' }),
    path: 'overlays[1].subnet6',
    value: 'fd01:b::1/48',
    rule: /not aligned/,
    fix: /write fd01:b::\/48/,
  },
  {
    description: 'overlapping IPv4 overlays',
    raw: withOverlay(1, { subnet: '192.168.64.0/18' }),
    path: 'overlays[1].subnet',
    value: '192.168.64.0/18',
    rule: /overlaps overlays\[0\]\.subnet \(192\.168\.0\.0\/17\)/,
    fix: /e\.g\. 192\.168\.128\.0\/18/,
  },
  {
    description: 'overlapping IPv6 overlays',
    raw: withOverlay(0, { subnet6: 'fd01:b::/56', prefix6: 64 }),
    path: 'overlays[1].subnet6',
    value: 'fd01:b::/48',
    rule: /overlaps overlays\[0\]\.subnet6/,
    fix: /overlaps none/,
  },
  {
    description: 'vtep subnet overlapping an overlay',
    raw: withTop({ vtep_subnet: '192.168.0.0/20' }),
    path: 'overlays[0].subnet',
    value: '192.168.0.0/17',
    rule: /overlaps vtep_subnet \(192\.168\.0\.0\/20\)/,
    fix: /overlaps none/,
  },
  {
    description: 'vtep subnet6 overlapping an overlay',
    raw: withTop({ vtep_subnet6: 'fd01:b::/64' }),
    path: 'overlays[1].subnet6',
    value: 'fd01:b::/48',
    rule: /overlaps vtep_subnet6/,
    fix: /overlaps none/,
  },
  {
    description: 'an IPv6 overlay without vtep_subnet6',
    raw: withTop({}, ['vtep_subnet6']),
    path: 'overlays[1].subnet6',
    value: 'fd01:b::/48',
    rule: /needs vtep_subnet6/,
    fix: /add vtep_subnet6/,
  },
  {
    description: 'a loopback overlay',
    raw: withOverlay(0, { subnet: '127.0.0.0/17' }),
    path: 'overlays[0].subnet',
    value: '127.0.0.0/17',
    rule: /127\.0\.0\.0\/8 \(loopback\)/,
    fix: /private range/,
  },
  {
    description: 'a multicast IPv6 overlay',
    raw: withOverlay(1, { subnet6: 'ff05::/48' }),
    path: 'overlays[1].subnet6',
    value: 'ff05::/48',
    rule: /ff00::\/8 \(multicast\)/,
    fix: /fd00::\/8/,
  },
  {
    description: 'enabled not a boolean',
    raw: withOverlay(0, { enabled: 'yes' }),
    path: 'overlays[0].enabled',
    value: 'yes',
    rule: /must be a boolean.*got a string/,
    fix: /true or false/,
  },
  {
    description: 'masquerade not a boolean',
    raw: withOverlay(1, { masquerade: 'no' }),
    path: 'overlays[1].masquerade',
    value: 'no',
    rule: /must be a boolean.*got a string/,
    fix: /true or false/,
  },
  {
    description: 'a typo in an overlay key',
    raw: withOverlay(0, { prefx: 24 }),
    path: 'overlays[0].prefx',
    value: 24,
    rule: /unknown key "prefx" in an overlay/,
    fix: /did you mean "prefix"/,
  },
  {
    description: 'a typo in a top-level key',
    raw: withTop({ vtep_subent: '10.0.0.0/20' }),
    path: 'vtep_subent',
    value: '10.0.0.0/20',
    rule: /unknown key/,
    fix: /did you mean "vtep_subnet"/,
  },
  {
    description: 'an unrelated unknown key',
    raw: withTop({ cluster_name: 'x' }),
    path: 'cluster_name',
    value: 'x',
    rule: /unknown key/,
    fix: /known keys are vtep_subnet/,
  },
  {
    description: 'a top level that is not a mapping',
    raw: ['vtep_subnet'],
    path: 'dcos_overlay_network',
    value: ['vtep_subnet'],
    rule: /must be a mapping, got a list/,
    fix: /vtep_subnet, vtep_mac_oui and overlays/,
  },
];

describe('checkConfig errors: one case per rule', () => {
  it('accepts the base config of these cases, the seed defaults and the seed example', () => {
    expect(checkConfig(base())).toMatchObject({ errors: [], warnings: [] });
    expect(checkConfig(DEFAULT_NETWORK_CONFIG)).toMatchObject({ errors: [], warnings: [] });
    const seedExample = {
      vtep_subnet: '198.15.0.0/20',
      vtep_mac_oui: '70:B3:D5:00:00:00',
      overlays: [{ name: 'dcos', subnet: '44.128.0.0/16', prefix: 24 }],
    };
    expect(checkConfig(seedExample)).toMatchObject({ errors: [], warnings: [] });
  });

  it.each(errorCases)('$description', ({ raw, path, value, rule, fix }) => {
    const check = checkConfig(raw);
    expect(check.config).toBeUndefined();
    const atPath = check.errors.filter((e) => e.path === path);
    const matching = atPath.find((e) => rule.test(e.rule) && fix.test(e.fix));
    expect(matching, `errors at ${path}: ${JSON.stringify(check.errors, null, 1)}`).toBeDefined();
    if (value !== undefined) expect(matching!.value).toEqual(value);
  });

  it('reports every error at once', () => {
    const raw = withTop({ vtep_mac_oui: 'nope', vtep_mtu: 1 });
    (raw.overlays as Raw[])[1] = { name: 'host', subnet: '192.168.128.0/17', prefix: 40 };
    const paths = checkConfig(raw).errors.map((e) => e.path);
    expect(paths).toEqual(['vtep_mac_oui', 'vtep_mtu', 'overlays[1].name', 'overlays[1].prefix']);
  });

  it('reports each network that overlaps, naming the one it overlaps', () => {
    const raw = withTop({
      overlays: [
        { name: 'wide', subnet: '10.0.0.0/16', prefix: 24 },
        { name: 'a', subnet: '10.0.1.0/24', prefix: 26 },
        { name: 'b', subnet: '10.0.2.0/24', prefix: 26 },
      ],
    });
    const errors = checkConfig(raw).errors;
    expect(errors.map((e) => [e.path, e.rule.slice(0, 32)])).toEqual([
      ['overlays[1].subnet', 'overlaps overlays[0].subnet (10.'],
      ['overlays[2].subnet', 'overlaps overlays[0].subnet (10.'],
    ]);
    expect(errors[0]!.fix).toContain('e.g. 10.1.0.0/24');
  });

  it('checks the longest overlay list allowed, every overlap reported', () => {
    const overlays = Array.from({ length: MAX_OVERLAYS - 1 }, (_, i) => ({
      name: `n${i}`,
      subnet: `10.${i >> 8}.${i & 255}.0/24`,
      prefix: 26,
    }));
    overlays.push({ name: 'late', subnet: '10.0.0.0/8', prefix: 24 });
    const check = checkConfig(withTop({ overlays }));
    expect(check.errors.filter((e) => e.rule.startsWith('overlaps'))).toHaveLength(MAX_OVERLAYS - 1);
  });

  it('refuses more overlays than MAX_OVERLAYS, in one error', () => {
    const overlays = Array.from({ length: MAX_OVERLAYS + 1 }, (_, i) => ({
      name: `n${i}`,
      subnet: `10.${i >> 8}.${i & 255}.0/24`,
      prefix: 26,
    }));
    const check = checkConfig(withTop({ overlays }));
    expect(check.errors).toHaveLength(1);
    expect(check.errors[0]).toMatchObject({
      path: 'overlays',
      rule: `must hold at most ${MAX_OVERLAYS} overlays, not ${MAX_OVERLAYS + 1}`,
    });
  });

  it.each(['HOST', 'Bridge', 'NONE', 'Default'])('refuses the reserved name %s in any case', (name) => {
    const check = checkConfig(withTop({ overlays: [{ name, subnet: '10.0.0.0/16', prefix: 24 }] }));
    expect(check.errors.map((e) => [e.path, e.rule])).toContainEqual([
      'overlays[0].name',
      expect.stringContaining('is reserved in any case'),
    ]);
  });

  it.each([
    ['subnet', '10.0.0.0/08', 'prefix length "08" has a leading zero: write /8'],
    ['subnet', '10.0.0.0/016', 'prefix length "016" has a leading zero: write /16'],
  ])('refuses a prefix length with a leading zero (%s %s)', (field, value, rule) => {
    const check = checkConfig(withTop({ overlays: [{ name: 'a', [field]: value, prefix: 24 }] }));
    expect(check.errors.map((e) => e.rule)).toContainEqual(expect.stringContaining(rule));
  });

  it('refuses an IPv4-mapped IPv6 subnet', () => {
    const check = checkConfig(
      withTop({ vtep_subnet6: 'fd01::/64', overlays: [{ name: 'a', subnet6: '::ffff:10.0.0.0/104', prefix6: 120 }] }),
    );
    expect(check.errors.map((e) => [e.path, e.rule])).toContainEqual([
      'overlays[0].subnet6',
      expect.stringContaining('IPv4-mapped IPv6 addresses'),
    ]);
  });

  it('never throws, whatever the input', () => {
    const field = fc.oneof(
      fc.anything(),
      fc.string(),
      fc.integer({ min: -1, max: 140 }),
      fc.constantFrom('10.0.0.0/8', 'fd00::/8', '1.2.3.4/33', '::/0'),
    );
    const overlay = fc.dictionary(fc.constantFrom('name', 'subnet', 'prefix', 'subnet6', 'prefix6', 'enabled', 'masquerade', 'x'), field);
    const raw = fc.oneof(
      fc.anything(),
      fc.record(
        {
          vtep_subnet: field,
          vtep_subnet6: field,
          vtep_mac_oui: field,
          vtep_mtu: field,
          overlays: fc.oneof(field, fc.array(overlay, { maxLength: 4 })),
        },
        { requiredKeys: [] },
      ),
    );
    fc.assert(
      fc.property(raw, (input) => {
        const check = checkConfig(input);
        expect(check.config === undefined).toBe(check.errors.length > 0);
      }),
      { numRuns: 300 },
    );
  });
});

describe('checkConfig echoes the config', () => {
  it('returns the values as written, with no defaults injected', () => {
    const raw = base();
    const check = checkConfig(raw);
    expect(check.config).toEqual(raw);
    expect(check.config!.overlays[0]).not.toHaveProperty('enabled');
    expect(check.config).not.toBe(raw);
  });

  it('keeps enabled: false and checks disabled overlays like any other', () => {
    expect(checkConfig(withOverlay(0, { enabled: false })).config!.overlays[0]!.enabled).toBe(false);
    expect(checkConfig(withOverlay(0, { enabled: false, prefix: 99 })).errors.map((e) => e.path)).toEqual(['overlays[0].prefix']);
  });
});

const warningCases: { description: string; raw: Raw; path: string; rule: RegExp; fix: RegExp }[] = [
  {
    description: 'prefix equal to the subnet mask',
    raw: withOverlay(0, { prefix: 17 }),
    path: 'overlays[0].prefix',
    rule: /only one agent can join dcos-1/,
    fix: /longer prefix \(e\.g\. 24\)/,
  },
  {
    description: 'prefix6 equal to the subnet mask',
    raw: withOverlay(1, { prefix6: 48 }),
    path: 'overlays[1].prefix6',
    rule: /only one agent/,
    fix: /e\.g\. 64/,
  },
  {
    description: 'fewer than 4 agent subnets',
    raw: withOverlay(0, { subnet: '192.168.0.0/23' }),
    path: 'overlays[0].prefix',
    rule: /only 2 agent subnets/,
    fix: /longer prefix or a wider subnet/,
  },
  {
    description: 'few containers per bridge half',
    raw: withOverlay(0, { prefix: 28 }),
    path: 'overlays[0].prefix',
    rule: /\(\/29\) only 5 container/,
    fix: /24 gives 125/,
  },
  {
    description: 'a VTEP pool smaller than an overlay',
    raw: withTop({ vtep_subnet: '198.15.0.0/24', overlays: [{ name: 'big', subnet: '44.128.0.0/16', prefix: 24 }] }, ['vtep_subnet6']),
    path: 'vtep_subnet',
    rule: /254 addresses, fewer than the 256 agent subnets of big/,
    fix: /\/23 \(510 VTEPs\)/,
  },
  {
    description: 'a tiny VTEP pool',
    raw: withTop({ vtep_subnet: '198.15.0.0/30' }),
    path: 'vtep_subnet',
    rule: /only 2 VTEP addresses/,
    fix: /\/20/,
  },
  {
    description: 'a tiny IPv6 VTEP pool',
    raw: withTop({ vtep_subnet6: 'fd03::/127' }),
    path: 'vtep_subnet6',
    rule: /only 1 VTEP addresses/,
    fix: /\/64/,
  },
  {
    description: 'an IPv6 VTEP pool smaller than an IPv4 overlay',
    raw: withTop({ vtep_subnet6: 'fd03::/121' }),
    path: 'vtep_subnet6',
    rule: /127 addresses, fewer than the 128 agent subnets of dcos-1/,
    fix: /widen vtep_subnet6/,
  },
  {
    description: 'every overlay disabled',
    raw: { ...base(), overlays: (base().overlays as Raw[]).map((o) => ({ ...o, enabled: false })) },
    path: 'overlays',
    rule: /every overlay is disabled/,
    fix: /enabled: true/,
  },
];

describe('checkConfig warnings', () => {
  it('shows the disabled overlays as the value of the every-overlay-disabled warning', () => {
    const check = checkConfig({ ...base(), overlays: (base().overlays as Raw[]).map((o) => ({ ...o, enabled: false })) });
    expect(check.warnings.find((w) => w.path === 'overlays')?.value).toEqual([
      { name: 'dcos-1', enabled: false },
      { name: 'dcos-2', enabled: false },
    ]);
  });

  it.each(warningCases)('$description', ({ raw, path, rule, fix }) => {
    const check = checkConfig(raw);
    expect(check.errors).toEqual([]);
    expect(check.config).toBeDefined();
    const match = check.warnings.find((w: ConfigIssue) => w.path === path && rule.test(w.rule) && fix.test(w.fix));
    expect(match, JSON.stringify(check.warnings, null, 1)).toBeDefined();
  });
});
