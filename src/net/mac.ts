// VTEP MAC derivation: the MAC must be a pure function of the VTEP address so
// every agent can compute a peer's MAC without asking anyone.

import type { Ip } from './ip.js';

/** Six colon-separated hex bytes; the first three (captured) are the OUI. */
export const OUI_RE = /^([0-9a-fA-F]{2}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2})(:[0-9a-fA-F]{2}){3}$/;

/**
 * The first three bytes of `oui` followed by the low three bytes of the IPv4
 * VTEP address, lowercase: ("70:B3:D5:00:00:00", 198.15.0.1) -> "70:b3:d5:0f:00:01".
 * Throws TypeError for an OUI that is not six colon-separated hex bytes or a
 * non-IPv4 address (the config check rejects both before this runs).
 */
export function vtepMac(oui: string, vtepIp: Ip): string {
  if (vtepIp.family !== 4) throw new TypeError('the VTEP MAC is derived from the IPv4 VTEP address, got an IPv6 one');
  return macFromAddress(oui, vtepIp);
}

/**
 * The same derivation for any address, IPv6 too (its low three bytes): the
 * fixed MAC of a bridge vxnet owns, from its gateway address. A bridge with a
 * fixed MAC no longer takes a port's MAC, so adding or removing a container
 * never changes it (which would flush every neighbour entry on the bridge).
 */
export function macFromAddress(oui: string, ip: Ip): string {
  const match = OUI_RE.exec(oui);
  if (!match) throw new TypeError(`vtep_mac_oui "${oui}" is not of the form xx:xx:xx:00:00:00`);
  const low = [16n, 8n, 0n].map((shift) => ((ip.value >> shift) & 0xffn).toString(16).padStart(2, '0'));
  return [match[1]!, match[2]!, match[3]!, ...low].join(':').toLowerCase();
}
