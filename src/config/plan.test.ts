import { describe, expect, it } from 'vitest';
import { mustCidr } from '../net/ip.js';
import { canonicalize } from './canonical.js';
import { MAX_OVERLAYS } from './overlay-rules.js';
import { formatCount, formatPlan } from './plan-format.js';
import { familyCapacity, planCapacity, vtepCapacity } from './plan.js';
import { DEFAULT_NETWORK_CONFIG, type NetworkConfig } from './types.js';

describe('planCapacity', () => {
  it('gives the exact numbers of the seed defaults', () => {
    const plan = planCapacity(canonicalize(DEFAULT_NETWORK_CONFIG));
    expect(plan.vtep.ipv4).toEqual({ family: 4, subnet: '192.15.0.0/20', vteps: 4094n });
    expect(plan.vtep.ipv6).toBeUndefined();
    expect(plan.overlays[0]).toEqual({
      name: 'dcos-1',
      enabled: true,
      ipv4: {
        family: 4,
        subnet: '192.168.0.0/17',
        prefix: 24,
        agentSubnets: 128n,
        addressesPerAgent: 256n,
        bridgeHalfPrefix: 25,
        containersPerBridgeHalf: 125n,
      },
      maxAgents: 128n,
      limitedBy: ['overlays[0].subnet'],
    });
    expect(plan.cluster).toEqual({ maxAgents: 128n, limitedBy: ['overlays[0].subnet', 'overlays[1].subnet'] });
  });

  it('sizes IPv6 exactly, beyond 2^53', () => {
    const config: NetworkConfig = {
      vtep_subnet: '198.15.0.0/20',
      vtep_subnet6: 'fd03::/64',
      vtep_mac_oui: '70:B3:D5:00:00:00',
      overlays: [{ name: 'v6', subnet6: 'fd01:b::/48', prefix6: 64 }],
    };
    const plan = planCapacity(canonicalize(config));
    expect(plan.vtep.ipv6?.vteps).toBe((1n << 64n) - 1n);
    expect(plan.overlays[0]!.ipv6).toEqual({
      family: 6,
      subnet: 'fd01:b::/48',
      prefix: 64,
      agentSubnets: 65536n,
      addressesPerAgent: 1n << 64n,
      bridgeHalfPrefix: 65,
      containersPerBridgeHalf: (1n << 63n) - 2n,
    });
    // 4094 VTEPs bind before 65536 IPv6 agent subnets.
    expect(plan.overlays[0]!).toMatchObject({ maxAgents: 4094n, limitedBy: ['vtep_subnet'] });
  });

  it('names every limit that binds, and leaves disabled overlays out of the cluster bound', () => {
    const config: NetworkConfig = {
      vtep_subnet: '198.15.0.0/23',
      vtep_mac_oui: '70:B3:D5:00:00:00',
      overlays: [
        { name: 'a', subnet: '10.0.0.0/16', prefix: 25 },
        { name: 'b', subnet: '10.1.0.0/22', prefix: 24, enabled: false },
      ],
    };
    const plan = planCapacity(canonicalize(config));
    expect(plan.overlays.map((o) => [o.maxAgents, o.limitedBy])).toEqual([
      [510n, ['vtep_subnet']],
      [4n, ['overlays[1].subnet']],
    ]);
    expect(plan.overlays[0]!.ipv4!.containersPerBridgeHalf).toBe(61n);
    expect(plan.cluster).toEqual({ maxAgents: 510n, limitedBy: ['vtep_subnet'] });
  });

  it('lets a VTEP pool smaller than the overlay bind', () => {
    const config: NetworkConfig = {
      vtep_subnet: '198.15.0.0/24',
      vtep_mac_oui: '70:B3:D5:00:00:00',
      overlays: [{ name: 'a', subnet: '10.0.0.0/16', prefix: 24 }],
    };
    expect(familyCapacity(mustCidr('10.0.0.0/16'), 24).agentSubnets).toBe(256n);
    expect(vtepCapacity(mustCidr('198.15.0.0/24'))).toBe(254n);
    expect(planCapacity(canonicalize(config)).cluster).toEqual({ maxAgents: 254n, limitedBy: ['vtep_subnet'] });
  });
});

describe('formatPlan', () => {
  it('shows the exact per-overlay numbers and the binding limit', () => {
    const text = formatPlan(planCapacity(canonicalize(DEFAULT_NETWORK_CONFIG)));
    expect(text).toContain('vtep_subnet   192.15.0.0/20: 4094 VTEPs');
    expect(text).toContain(
      'Overlay dcos-2\n  IPv4 192.168.128.0/17, prefix /24\n    agent subnets           128\n    addresses per agent     256',
    );
    expect(text).toContain('container IPs per half  125 (after network, gateway and broadcast)');
    expect(text).toContain('Cluster: at most 128 agents with every enabled overlay, limited by overlays[0].subnet and overlays[1].subnet');
  });

  it('writes huge counts with their power of two', () => {
    expect(formatCount(4094n)).toBe('4094');
    expect(formatCount(1n << 64n)).toBe('18446744073709551616 (2^64)');
    expect(formatCount((1n << 63n) - 2n)).toBe('9223372036854775806 (2^63 - 2)');
    expect(formatCount((1n << 40n) + 5n)).toBe('1099511627781');
  });
});

describe('the overlay count in the plan', () => {
  const config = (n: number) =>
    canonicalize({
      vtep_subnet: '44.0.0.0/16',
      vtep_mac_oui: '70:B3:D5:00:00:00',
      overlays: Array.from({ length: n }, (_, i) => ({ name: `n${i}`, subnet: `10.${i}.0.0/16`, prefix: 24 })),
    });

  it('says so in one line when the config holds the most overlays allowed', () => {
    const text = formatPlan(planCapacity(config(MAX_OVERLAYS)));
    expect(text).toContain(`Overlays: ${MAX_OVERLAYS}, the most a config may hold: no overlay can be added`);
    expect(planCapacity(config(2)).overlayCount).toEqual({ count: 2, max: MAX_OVERLAYS });
    expect(formatPlan(planCapacity(config(2)))).not.toContain('Overlays:');
  });
});
