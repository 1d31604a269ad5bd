// Validation of everything that reaches the kernel by name or address.
// Values come from the master and the command line; neither is trusted.

import { formatCidr, formatIp, formatIpWithLength, parseCidr, parseIp } from '../net/ip.js';

/** Overlay names: bridges are `m-<name>`, and Linux interface names stop at 15 characters. */
const OVERLAY_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,12}$/;
/** Linux interface names: 1-15 characters, no slash, colon or whitespace. */
const IFNAME_RE = /^[A-Za-z0-9_.-][A-Za-z0-9_.@-]{0,14}$/;
const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

export function overlayNameProblem(name: unknown): string | undefined {
  if (typeof name === 'string' && OVERLAY_NAME_RE.test(name)) return undefined;
  return `overlay name ${JSON.stringify(name)} is not usable in interface names: use 1-13 letters, digits, "_", "." or "-", starting with a letter or digit`;
}

export function isInterfaceName(name: unknown): name is string {
  return typeof name === 'string' && IFNAME_RE.test(name) && name !== '.' && name !== '..';
}

/** Lowercase MAC, or undefined when the text is not one. */
export function canonicalMac(text: unknown): string | undefined {
  if (typeof text !== 'string') return undefined;
  const lower = text.toLowerCase();
  return MAC_RE.test(lower) ? lower : undefined;
}

/** Canonical address text ("fd03::1"), or undefined. */
export function canonicalIp(text: unknown): string | undefined {
  if (typeof text !== 'string') return undefined;
  const ip = parseIp(text);
  return ip ? formatIp(ip) : undefined;
}

/** Canonical aligned network ("44.128.0.0/24"), or undefined. */
export function canonicalCidr(text: unknown): string | undefined {
  if (typeof text !== 'string') return undefined;
  const r = parseCidr(text);
  return r.ok ? formatCidr(r.cidr) : undefined;
}

/** Canonical "address/length" keeping host bits ("192.15.0.1/20"), or undefined. */
export function canonicalIpWithLength(text: unknown): string | undefined {
  if (typeof text !== 'string') return undefined;
  const slash = text.indexOf('/');
  const r = parseCidr(text);
  const ip = slash > 0 ? parseIp(text.slice(0, slash)) : undefined;
  return r.ok && ip ? formatIpWithLength(ip, r.cidr.length) : undefined;
}
