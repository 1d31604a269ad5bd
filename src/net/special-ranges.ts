// Address ranges nothing of vxnet may use: none of them is routed between
// hosts. The config refuses overlays and VTEP pools that touch one; the master
// refuses agent IPs in those that cannot be a host's own unicast address.

import { type Cidr, type Ip, contains, mustCidr } from './ip.js';

export interface SpecialRange {
  readonly cidr: Cidr;
  /** What the range is, as messages name it: "loopback". */
  readonly what: string;
  /** Whether an address in it can still be a host's own unicast address (link-local can, loopback cannot). */
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
  range('fe80::/10', 'link-local', true),
  range('ff00::/8', 'multicast'),
];

/** The special range holding `ip`, if any. */
export function specialRangeOf(ip: Ip): SpecialRange | undefined {
  return SPECIAL_RANGES.find((r) => contains(r.cidr, ip));
}
