import { describe, expect, it } from 'vitest';
import { touchesOwned } from './monitor.js';

// Lines as `ip -o monitor link route neigh` (iproute2 6.1) printed them on this machine.
describe('which kernel events wake the agent', () => {
  const cases = [
    { description: 'our neighbour entry deleted', line: 'Deleted 192.15.0.2 dev vtep1024 FAILED ', wakes: true },
    { description: 'our route deleted', line: 'Deleted 44.1.0.0/24 via 192.15.0.2 dev vtep1024 proto 177 onlink ', wakes: true },
    {
      description: 'the VTEP changed (e.g. its MAC)',
      line: '4: vtep1024: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue state UNKNOWN group default \\    link/ether 02:00:00:00:00:09',
      wakes: true,
    },
    {
      description: 'one of our bridges deleted',
      line: 'Deleted 5: m-dcos-1: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN group default',
      wakes: true,
    },
    { description: 'an underlay ARP entry going stale', line: 'Deleted 198.18.0.9 dev ul0 lladdr 02:00:00:00:00:09 STALE ', wakes: false },
    { description: 'a route added by someone else', line: '10.0.0.0/8 via 198.18.0.254 dev ul0 ', wakes: false },
    { description: 'another link', line: '3: ul0@ul1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500', wakes: false },
  ];
  for (const c of cases) it(c.description, () => expect(touchesOwned(c.line)).toBe(c.wakes));
});
