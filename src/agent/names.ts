// Validation of everything that reaches the kernel by name or address.
// Values come from the master and the command line; neither is trusted.

import { formatCidr, formatIp, formatIpWithLength, parseCidr, parseIp } from '../net/ip.js';
import { isOverlayName } from '../net/link.js';

/** Linux interface names: 1-15 characters, no slash, colon or whitespace. */
const IFNAME_RE = /^[A-Za-z0-9_.-][A-Za-z0-9_.@-]{0,14}$/;
const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

export function overlayNameProblem(name: unknown): string | undefined {
  if (isOverlayName(name)) return undefined;
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

// IPv4 fast path: a thousand peers are parsed on every full pass, and bigint
// parsing dominated it. A dotted quad without leading zeros is canonical.
const OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4_RE = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);

function ipv4Number(text: string): number | undefined {
  const m = IPV4_RE.exec(text);
  return m ? ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0 : undefined;
}

const formatIpv4 = (n: number): string => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;

/** [address, length] of "a.b.c.d/n" when it is IPv4. */
function ipv4WithLength(text: string): [number, number] | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const ip = ipv4Number(text.slice(0, slash));
  const lenText = text.slice(slash + 1);
  const length = /^\d{1,2}$/.test(lenText) ? Number(lenText) : NaN;
  return ip !== undefined && length <= 32 ? [ip, length] : undefined;
}

/** Canonical address text ("fd03::1"), or undefined. */
export function canonicalIp(text: unknown): string | undefined {
  if (typeof text !== 'string') return undefined;
  if (IPV4_RE.test(text)) return text;
  const ip = parseIp(text);
  return ip ? formatIp(ip) : undefined;
}

/** Canonical aligned network ("44.128.0.0/24"), or undefined. */
export function canonicalCidr(text: unknown): string | undefined {
  if (typeof text !== 'string') return undefined;
  const v4 = ipv4WithLength(text);
  if (v4) {
    const mask = v4[1] === 0 ? 0 : (0xffffffff << (32 - v4[1])) >>> 0;
    return `${formatIpv4((v4[0] & mask) >>> 0)}/${v4[1]}`;
  }
  const r = parseCidr(text);
  return r.ok ? formatCidr(r.cidr) : undefined;
}

/** Canonical "address/length" keeping host bits ("192.15.0.1/20"), or undefined. */
export function canonicalIpWithLength(text: unknown): string | undefined {
  if (typeof text !== 'string') return undefined;
  const v4 = ipv4WithLength(text);
  if (v4) return `${formatIpv4(v4[0])}/${v4[1]}`;
  const slash = text.indexOf('/');
  const r = parseCidr(text);
  const ip = slash > 0 ? parseIp(text.slice(0, slash)) : undefined;
  return r.ok && ip ? formatIpWithLength(ip, r.cidr.length) : undefined;
}
