// NAT ruleset, CNI conflist and containers-from-IPAM: the pure renderers.
import { describe, expect, it } from 'vitest';
import { renderConflist } from './cni-conf.js';
import { containersFromIpam } from './containers.js';
import { overlayInfo } from './fixtures.test-helpers.js';
import { natSubnets, removeNatScript, renderNat } from './nat.js';

describe('NAT ruleset', () => {
  it('masquerades overlay sources to non-overlay destinations in one replaceable table', () => {
    const me = {
      ip: '198.18.0.1',
      overlays: [overlayInfo(1), overlayInfo(1, { info: { name: 'dcos-2', subnet: '192.168.128.0/17', prefix: 24 } })],
    };
    const subnets = natSubnets(me);
    expect(subnets).toEqual({
      v4: ['192.168.128.0/17', '44.128.0.0/16'],
      v6: [],
      masqueraded4: ['192.168.128.0/17', '44.128.0.0/16'],
      masqueraded6: [],
    });
    const script = renderNat(subnets);
    expect(script).toContain('add table ip vxnet\ndelete table ip vxnet\ntable ip vxnet {');
    expect(script).toContain(
      'set overlays {\n    type ipv4_addr\n    flags interval\n    auto-merge\n    elements = { 192.168.128.0/17, 44.128.0.0/16 }',
    );
    expect(script).toContain(
      'set masqueraded {\n    type ipv4_addr\n    flags interval\n    auto-merge\n    elements = { 192.168.128.0/17, 44.128.0.0/16 }',
    );
    expect(script).toContain('ip saddr @masqueraded ip daddr != @overlays masquerade');
    // No IPv6 overlays: the ip6 table is removed, not created.
    expect(script).toMatch(/delete table ip6 vxnet\n$/);
    expect(removeNatScript()).not.toContain('masquerade');
  });

  it('leaves an overlay with masquerade: false out of the masqueraded set, and makes no table when none is masqueraded', () => {
    const routed = overlayInfo(1, { info: { name: 'dcos-2', subnet: '192.168.128.0/17', prefix: 24, masquerade: false } });
    const mixed = natSubnets({ ip: '198.18.0.1', overlays: [overlayInfo(1), routed] });
    expect(mixed.masqueraded4).toEqual(['44.128.0.0/16']);
    // Traffic to the routed overlay still keeps its source: it is an overlay destination.
    expect(renderNat(mixed)).toContain('elements = { 192.168.128.0/17, 44.128.0.0/16 }');
    expect(renderNat(mixed)).toContain(
      'set masqueraded {\n    type ipv4_addr\n    flags interval\n    auto-merge\n    elements = { 44.128.0.0/16 }',
    );
    const none = natSubnets({ ip: '198.18.0.1', overlays: [routed] });
    expect(renderNat(none)).toBe(removeNatScript());
  });
});

describe('CNI conflist', () => {
  it('uses bridge + host-local over the lower half with the bridge address as gateway, and portmap', () => {
    const text = renderConflist(overlayInfo(1), { mtu: 1420, ipamDir: '/var/lib/vxnet/ipam' })!;
    expect(JSON.parse(text)).toEqual({
      cniVersion: '1.0.0',
      name: 'dcos',
      plugins: [
        {
          type: 'bridge',
          bridge: 'm-dcos',
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          mtu: 1420,
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet: '44.128.0.0/25', gateway: '44.128.0.1' }]],
            routes: [{ dst: '0.0.0.0/0' }],
            dataDir: '/var/lib/vxnet/ipam',
          },
        },
        { type: 'portmap', capabilities: { portMappings: true }, snat: true },
      ],
    });
  });

  it('has nothing to write for an overlay without a mesos bridge', () => {
    expect(renderConflist(overlayInfo(1, { mesos_bridge: undefined }), { mtu: 1420, ipamDir: '/x' })).toBeUndefined();
  });
});

describe('containers from host-local IPAM files', () => {
  it('lists one entry per container and interface, skipping lock and cursor files', () => {
    const files = [
      { network: 'dcos', name: '44.128.0.2', content: 'c1\r\neth0' },
      { network: 'dcos', name: 'fd01::2', content: 'c1\r\neth0' },
      { network: 'dcos', name: '44.128.0.3', content: 'c0' },
      { network: 'dcos', name: 'last_reserved_ip.0', content: '44.128.0.3' },
      { network: 'dcos', name: 'lock', content: '' },
    ];
    expect(containersFromIpam(files)).toEqual([
      { id: 'c0', network: 'dcos', ip: '44.128.0.3', interface: 'eth0' },
      { id: 'c1', network: 'dcos', ip: '44.128.0.2', ip6: 'fd01::2', interface: 'eth0' },
    ]);
  });
});
