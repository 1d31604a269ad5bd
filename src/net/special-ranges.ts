// Address ranges nothing of vxnet may use: none of them is routed between
// hosts. The config refuses overlays and VTEP pools that touch one; the master
// refuses agent IPs in any of them (peers must reach an agent's address).

import { type Cidr, type Ip, contains, mustCidr } from './ip.js';

export interface SpecialRange {
  readonly cidr: Cidr;
  /** What the range is, as messages name it: "loopback". */
  readonly what: string;
  /**
   * Whether an address in it can still be a host's own unicast address
   * (link-local can, loopback cannot); messages say which, as neither kind
   * reaches another host.
   */
  readonly hostUnicast: boolean;
}

const range = (text: string, what: string, hostUnicast = false): SpecialRange => ({ cidr: mustCidr(text), what, hostUnicast });

export const SPECIAL_RANGES: readonly SpecialRange[] = [
  range('0.0.0.0/8', '"this host" addresses'),
  range('127.0.0.0/8', 'loopback'),
  range('169.254.0.0/16', 'link-local', true),
  range('224.0.0.0/4', 'multicast'),
  range('240.0.0.0/4', 'reserved and broadcast'),
  range('::/127', 'unspecified and loopback'),
  range('::ffff:0:0/96', 'IPv4-mapped IPv6 addresses, which stand for IPv4 hosts'),
  range('fe80::/10', 'link-local', true),
  range('ff00::/8', 'multicast'),
];

/** The special range holding `ip`, if any. */
export function specialRangeOf(ip: Ip): SpecialRange | undefined {
  return SPECIAL_RANGES.find((r) => contains(r.cidr, ip));
}
