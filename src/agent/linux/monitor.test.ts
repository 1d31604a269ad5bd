import { describe, expect, it } from 'vitest';
import { deletedEntry, removalsOf, whatChanged } from './monitor.js';

// Lines as `ip -o monitor link route neigh` (iproute2 6.1) printed them on this machine.
describe('which kernel events wake the agent, and what it re-reads', () => {
  const cases = [
    { description: 'our neighbour entry deleted', line: 'Deleted 192.15.0.2 dev vtep1024 FAILED ', changed: ['neighbours', 'fdb'] },
    {
      description: 'our FDB entry deleted (printed like a neighbour)',
      line: 'Deleted 198.18.0.2 dev vtep1024 lladdr 70:b3:d5:0f:00:02 NOARP PERMANENT ',
      changed: ['neighbours', 'fdb'],
    },
    { description: 'our route deleted', line: 'Deleted 44.1.0.0/24 via 192.15.0.2 dev vtep1024 proto 177 onlink ', changed: ['routes'] },
    { description: 'our host route deleted', line: 'Deleted 44.1.0.5 via 192.15.0.2 dev vtep1024 proto 177 onlink ', changed: ['routes'] },
    {
      description: 'the VTEP changed (e.g. its MAC)',
      line: '4: vtep1024: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue state UNKNOWN group default \\    link/ether 02:00:00:00:00:09',
      changed: ['links'],
    },
    {
      description: 'one of our bridges deleted',
      line: 'Deleted 5: m-dcos-1: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN group default',
      changed: ['links'],
    },
    {
      description: "the kernel's own route on the VTEP going",
      line: 'Deleted local fe80::689e:a3ff:fe12:6aa0 dev vtep1024 table local proto kernel metric 0 pref medium',
      changed: [],
    },
    { description: 'our FDB entry added (by us)', line: '198.18.0.2 dev vtep1024 lladdr 70:b3:d5:0f:00:02 NOARP PERMANENT ', changed: [] },
    { description: 'an underlay ARP entry going stale', line: 'Deleted 198.18.0.9 dev ul0 lladdr 02:00:00:00:00:09 STALE ', changed: [] },
    { description: 'a route added by someone else', line: '10.0.0.0/8 via 198.18.0.254 dev ul0 ', changed: [] },
    { description: 'another link', line: '3: ul0@ul1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500', changed: [] },
  ];
  for (const c of cases) it(c.description, () => expect(whatChanged(c.line)).toEqual(c.changed));
});

describe("the agent's own deletions, as ip monitor echoes them", () => {
  it('names each deleted entry as removalsOf names the ops that deleted it', () => {
    const ops = [
      { kind: 'route-del', dst: '44.1.0.0/24', via: '192.15.0.2', dev: 'vtep1024' },
      { kind: 'route-del', dst: '44.1.0.5/32', via: '192.15.0.2', dev: 'vtep1024' },
      { kind: 'neigh-del', ip: '192.15.0.2' },
      { kind: 'fdb-del', mac: '70:b3:d5:0f:00:02', dst: '198.18.0.2' },
      { kind: 'route-replace', dst: '44.2.0.0/24', via: '192.15.0.3' },
    ] as const;
    const removed = removalsOf(ops);
    for (const line of [
      'Deleted 44.1.0.0/24 via 192.15.0.2 dev vtep1024 proto 177 onlink ',
      'Deleted 44.1.0.5 via 192.15.0.2 dev vtep1024 proto 177 onlink ',
      'Deleted 192.15.0.2 dev vtep1024 lladdr 70:b3:d5:0f:00:02 PERMANENT ',
      'Deleted 198.18.0.2 dev vtep1024 lladdr 70:b3:d5:0f:00:02 NOARP PERMANENT ',
    ])
      expect(removed.has(deletedEntry(line)!), line).toBe(true);
    expect(removed.has(deletedEntry('Deleted 44.2.0.0/24 via 192.15.0.3 dev vtep1024 proto 177 onlink ')!)).toBe(false);
    expect(removed.size).toBe(4);
  });

  it('names nothing for lines that are not a deletion of a vxnet entry', () => {
    expect(deletedEntry('Deleted 5: m-dcos-1: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN group default')).toBeUndefined();
    expect(deletedEntry('198.18.0.2 dev vtep1024 lladdr 70:b3:d5:0f:00:02 NOARP PERMANENT ')).toBeUndefined();
    expect(deletedEntry('')).toBeUndefined();
  });
});
