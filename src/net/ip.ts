// Address math for IPv4 and IPv6 alike: one bigint representation plus a family tag.
// Pure: parses at the edge, everything after works on integers.

export type Family = 4 | 6;

/** An IP address as an integer with its family. */
export interface Ip {
  readonly family: Family;
  readonly value: bigint;
}

/** A network: an aligned base address and a prefix length. */
export interface Cidr {
  readonly family: Family;
  /** The network address (host bits zero). */
  readonly base: bigint;
  readonly length: number;
}

export const familyBits = (family: Family): number => (family === 4 ? 32 : 128);

/**
 * A dotted quad as a 32-bit number, or -1: four decimal parts of 0..255,
 * no leading zeros (an "010" is octal to some tools). One pass, no regex or
 * bigint: a master restart parses several addresses per stored agent.
 */
function ipv4Value(text: string): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits === 1 && part === 0) return -1;
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return -1;
    } else return -1;
  }
  return digits === 0 || dots !== 3 ? -1 : value * 256 + part;
}

/** Parses a dotted-quad or IPv6 text address; returns undefined when it is not one. */
export function parseIp(text: string): Ip | undefined {
  if (typeof text !== 'string') return undefined;
  const v4 = ipv4Value(text);
  if (v4 >= 0) return { family: 4, value: BigInt(v4) };
  if (text.includes(':')) return parseIpv6(text);
  return undefined;
}

function parseIpv6(text: string): Ip | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  // An embedded IPv4 address may only end the whole address ("::ffff:1.2.3.4", not "1.2.3.4::").
  const toGroups = (part: string, endsAddress: boolean): number[] | undefined => {
    if (part === '') return [];
    const groups: number[] = [];
    const pieces = part.split(':');
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i]!;
      if (endsAddress && i === pieces.length - 1 && piece.includes('.')) {
        const v4 = parseIp(piece);
        if (v4?.family !== 4) return undefined;
        groups.push(Number(v4.value >> 16n), Number(v4.value & 0xffffn));
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(piece)) return undefined;
        groups.push(parseInt(piece, 16));
      }
    }
    return groups;
  };
  const head = toGroups(halves[0]!, halves.length === 1);
  const tail = halves.length === 2 ? toGroups(halves[1]!, true) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  const value = groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
  return { family: 6, value };
}

/** Formats an address canonically (RFC 5952 for IPv6: lowercase, longest zero run compressed). */
export function formatIp(ip: Ip): string {
  if (ip.family === 4) {
    const v = Number(ip.value);
    return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  }
  // RFC 5952 section 5: IPv4-mapped addresses keep the dotted quad.
  if (ip.value >> 32n === 0xffffn) return `::ffff:${formatIp({ family: 4, value: ip.value & 0xffffffffn })}`;
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((ip.value >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

export type CidrParse = { ok: true; cidr: Cidr; aligned: boolean } | { ok: false; reason: string };

/**
 * Parses "addr/len". Reports host bits instead of silently masking them
 * (the original masked unaligned subnets without a word).
 */
export function parseCidr(text: string): CidrParse {
  if (typeof text !== 'string') return { ok: false, reason: 'is not a string' };
  const slash = text.indexOf('/');
  if (slash < 0) return { ok: false, reason: 'has no "/length" part' };
  const ip = parseIp(text.slice(0, slash));
  if (!ip) return { ok: false, reason: `"${text.slice(0, slash)}" is not an IPv4 or IPv6 address` };
  const lenText = text.slice(slash + 1);
  if (!isPrefixText(lenText)) return { ok: false, reason: `"${lenText}" is not a prefix length` };
  // "/08" is read as 8 by some tools and refused or read as octal by others: say which was meant.
  if (lenText.length > 1 && lenText.startsWith('0'))
    return { ok: false, reason: `prefix length "${lenText}" has a leading zero: write /${Number(lenText)}` };
  const length = Number(lenText);
  const bits = familyBits(ip.family);
  if (length > bits) return { ok: false, reason: `prefix length ${length} exceeds ${bits} for IPv${ip.family}` };
  const base = ip.family === 4 ? BigInt(ipv4Base(Number(ip.value), length)) : ip.value & netmask(ip.family, length);
  return { ok: true, cidr: { family: ip.family, base, length }, aligned: base === ip.value };
}

/** An IPv4 address with its host bits cleared, in numbers (no bigint: a restart parses every stored subnet). */
function ipv4Base(value: number, length: number): number {
  const hostBits = 32 - length;
  // `>>> 32` shifts by 0 in JavaScript, so a /0 is its own case.
  return hostBits >= 32 ? 0 : (value >>> hostBits) * 2 ** hostBits;
}

/** One to three decimal digits. */
function isPrefixText(text: string): boolean {
  if (text.length < 1 || text.length > 3) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** Parses a CIDR that must be valid; throws otherwise. For values already validated. */
export function mustCidr(text: string): Cidr {
  const r = parseCidr(text);
  if (!r.ok) throw new TypeError(`invalid CIDR "${text}": ${r.reason}`);
  return r.cidr;
}

export function mustIp(text: string): Ip {
  const ip = parseIp(text);
  if (!ip) throw new TypeError(`invalid IP address "${text}"`);
  return ip;
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIp({ family: cidr.family, value: cidr.base })}/${cidr.length}`;
}

/** Formats an address with a prefix length, e.g. a VTEP address "198.15.0.1/20". */
export function formatIpWithLength(ip: Ip, length: number): string {
  return `${formatIp(ip)}/${length}`;
}

export function netmask(family: Family, length: number): bigint {
  const bits = BigInt(familyBits(family));
  const all = (1n << bits) - 1n;
  return all ^ ((1n << (bits - BigInt(length))) - 1n);
}

/** Number of addresses in the network. */
export function size(cidr: Cidr): bigint {
  return 1n << BigInt(familyBits(cidr.family) - cidr.length);
}

export function lastAddress(cidr: Cidr): bigint {
  return cidr.base + size(cidr) - 1n;
}

export function contains(cidr: Cidr, ip: Ip): boolean {
  return ip.family === cidr.family && ip.value >= cidr.base && ip.value <= lastAddress(cidr);
}

export function containsCidr(outer: Cidr, inner: Cidr): boolean {
  return (
    outer.family === inner.family && inner.length >= outer.length && inner.base >= outer.base && lastAddress(inner) <= lastAddress(outer)
  );
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.family === b.family && a.base <= lastAddress(b) && b.base <= lastAddress(a);
}

/** How many /blockLength blocks the network splits into. */
export function blockCount(cidr: Cidr, blockLength: number): bigint {
  return 1n << BigInt(blockLength - cidr.length);
}

/** The index-th /blockLength block of the network. Index 0 is the lowest. */
export function nthBlock(cidr: Cidr, blockLength: number, index: bigint): Cidr {
  const step = 1n << BigInt(familyBits(cidr.family) - blockLength);
  return { family: cidr.family, base: cidr.base + index * step, length: blockLength };
}

/** Index of the /blockLength block of the network that holds `block`'s base. */
export function blockIndex(cidr: Cidr, blockLength: number, block: Cidr): bigint {
  const step = 1n << BigInt(familyBits(cidr.family) - blockLength);
  return (block.base - cidr.base) / step;
}

/** Splits a network into its lower and upper halves (the m- and d- bridge halves). */
export function halves(cidr: Cidr): [Cidr, Cidr] {
  if (cidr.length >= familyBits(cidr.family)) throw new RangeError(`cannot halve ${formatCidr(cidr)}`);
  const length = cidr.length + 1;
  return [
    { family: cidr.family, base: cidr.base, length },
    { family: cidr.family, base: cidr.base + size(cidr) / 2n, length },
  ];
}

/** Address at `offset` from the network base (offset 1 is the first usable IPv4 host). */
export function addressAt(cidr: Cidr, offset: bigint): Ip {
  return { family: cidr.family, value: cidr.base + offset };
}

/**
 * Container addresses a bridge on this network can hand out: every address
 * minus the network address, the gateway and (IPv4 only) the broadcast address.
 */
export function usableContainerAddresses(cidr: Cidr): bigint {
  const total = size(cidr);
  const reserved = cidr.family === 4 ? 3n : 2n;
  return total > reserved ? total - reserved : 0n;
}
