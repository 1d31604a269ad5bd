// Checks of single address fields: CIDRs (family, alignment, special ranges)
// and agent prefix lengths. Pure; every problem becomes an issue, not a throw.

import { type Cidr, type Family, familyBits, formatCidr, formatIp, overlaps, parseCidr } from '../net/ip.js';
import { SPECIAL_RANGES } from '../net/special-ranges.js';
import { type IssueSink, addError, typeName } from './describe.js';

export const EXAMPLE_CIDR: Record<Family, string> = { 4: '192.168.0.0/17', 6: 'fd01:b::/64' };

/** Longest agent prefix that still leaves each bridge half one container address. */
export const MAX_AGENT_PREFIX: Record<Family, number> = { 4: 29, 6: 125 };

/** Ranges no overlay or VTEP may use (src/net/special-ranges.ts). */
export const specialRanges = (): Cidr[] => SPECIAL_RANGES.map((r) => r.cidr);

/**
 * Checks a CIDR field that must hold a network of `family`. Returns the
 * network (host bits cleared) whenever one could be read, so later checks
 * still run on an unaligned value.
 */
export function checkCidrField(sink: IssueSink, path: string, value: unknown, family: Family, wrongFamilyFix: string): Cidr | undefined {
  const example = EXAMPLE_CIDR[family];
  if (typeof value !== 'string') {
    addError(
      sink,
      path,
      value,
      `must be a string holding an IPv${family} CIDR, got ${typeName(value)}`,
      `write it as address/length, e.g. ${example}`,
    );
    return undefined;
  }
  const parsed = parseCidr(value.trim());
  if (!parsed.ok) {
    addError(sink, path, value, `is not a CIDR: ${parsed.reason}`, `write it as address/length, e.g. ${example}`);
    return undefined;
  }
  const { cidr } = parsed;
  if (cidr.family !== family) {
    addError(sink, path, value, `is an IPv${cidr.family} network, but this field takes IPv${family}`, wrongFamilyFix);
    return undefined;
  }
  if (!parsed.aligned) {
    addError(
      sink,
      path,
      value,
      `is not aligned: a /${cidr.length} network starts at ${formatIp({ family, value: cidr.base })}, so the host bits of ${value} are set`,
      `write ${formatCidr(cidr)} (or a longer length if you meant a smaller network)`,
    );
  }
  for (const special of SPECIAL_RANGES) {
    if (overlaps(special.cidr, cidr)) {
      addError(
        sink,
        path,
        value,
        `overlaps ${formatCidr(special.cidr)} (${special.what}), which is never routed between hosts`,
        family === 4
          ? 'use a private range such as 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16'
          : 'use a unique local range inside fd00::/8',
      );
    }
  }
  return cidr;
}

/** The prefix to suggest for a subnet: /24 (IPv4) or /64 (IPv6) when they fit. */
export function suggestedPrefix(cidr: Cidr | undefined, family: Family): number {
  const preferred = family === 4 ? 24 : 64;
  const lowest = cidr?.length ?? 0;
  return Math.min(Math.max(preferred, lowest), MAX_AGENT_PREFIX[family]);
}

/**
 * Checks an agent prefix length against its subnet: in [mask, MAX_AGENT_PREFIX].
 * `cidr` is undefined when the subnet is unusable; then only the absolute bounds apply.
 */
export function checkPrefixField(
  sink: IssueSink,
  path: string,
  value: unknown,
  family: Family,
  cidr: Cidr | undefined,
  subnetPath: string,
): number | undefined {
  const lowest = cidr?.length ?? 0;
  const highest = MAX_AGENT_PREFIX[family];
  const example = suggestedPrefix(cidr, family);
  const range = `between ${lowest}${cidr ? ` (the mask of ${subnetPath})` : ''} and ${highest}`;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    const quoted = typeof value === 'string' && /^\d+$/.test(value.trim());
    addError(
      sink,
      path,
      value,
      `must be an integer prefix length ${range}, got ${typeName(value)}`,
      quoted ? `write ${value.trim()} without quotes` : `set it to an integer such as ${example}`,
    );
    return undefined;
  }
  if (value < lowest) {
    addError(
      sink,
      path,
      value,
      `is shorter than the mask /${lowest} of ${subnetPath}: an agent's slice cannot be larger than the overlay`,
      `use a prefix ${range}, e.g. ${example}`,
    );
    return undefined;
  }
  if (value > highest) {
    const bits = familyBits(family);
    const halfAddresses = value >= bits ? 0n : 1n << BigInt(bits - value - 1);
    addError(
      sink,
      path,
      value,
      `is too long: each bridge half would have ${halfAddresses} address(es), leaving no container address after the network, gateway${family === 4 ? ' and broadcast' : ''} addresses`,
      `use a prefix ${range}, e.g. ${example}`,
    );
    return undefined;
  }
  return value;
}
