// checkConfig: every rule on the `dcos_overlay_network` section, all problems
// reported at once with path, value, rule and fix. Pure.

import type { Cidr } from '../net/ip.js';
import { MIN_VXLAN_MTU as MIN_VTEP_MTU } from '../net/link.js';
import { OUI_RE } from '../net/mac.js';
import { trimmedNetwork } from './canonical.js';
import { checkCidrField } from './cidr-rules.js';
import { type IssueSink, addError, checkKnownKeys, isPlainObject, newSink, typeName } from './describe.js';
import { type ParsedVteps, capacityWarnings, checkIpv6NeedsVtep, checkOverlaps } from './network-rules.js';
import { checkOverlays } from './overlay-rules.js';
import { vtepCapacity } from './plan.js';
import type { ConfigCheck, NetworkConfig } from './types.js';

export const NETWORK_KEYS = ['vtep_subnet', 'vtep_subnet6', 'vtep_mac_oui', 'vtep_mtu', 'overlays'] as const;
/** Path of issues about the section as a whole. */
export const ROOT_PATH = 'dcos_overlay_network';
/** Jumbo frames top out around 9000 bytes; the underlay must carry vtep_mtu + 50. */
export const MAX_VTEP_MTU = 9000;
/** VTEP MACs carry the low 24 bits of the VTEP IP, so a wider pool would repeat MACs. */
const WIDEST_VTEP_SUBNET = 8;

function checkVtepSubnet(sink: IssueSink, value: unknown): Cidr | undefined {
  if (value === undefined) {
    addError(
      sink,
      'vtep_subnet',
      value,
      'vtep_subnet is required: every agent gets its VTEP address from it',
      'add vtep_subnet: 192.15.0.0/20 (the default, 4094 VTEPs)',
    );
    return undefined;
  }
  const cidr = checkCidrField(sink, 'vtep_subnet', value, 4, 'put the IPv6 VTEP pool in vtep_subnet6 and an IPv4 network here');
  if (!cidr) return undefined;
  if (cidr.length < WIDEST_VTEP_SUBNET) {
    addError(
      sink,
      'vtep_subnet',
      value,
      `is wider than /${WIDEST_VTEP_SUBNET}: VTEP MACs carry only the low 24 bits of the VTEP IP, so two VTEPs would get the same MAC`,
      `use a /${WIDEST_VTEP_SUBNET} or narrower network, e.g. a /20 (4094 VTEPs)`,
    );
  } else if (vtepCapacity(cidr) === 0n) {
    addError(
      sink,
      'vtep_subnet',
      value,
      `has no usable VTEP address: a /${cidr.length} holds only network and broadcast addresses`,
      'use a /30 or wider network, e.g. a /20 (4094 VTEPs)',
    );
  }
  return cidr;
}

function checkVtepSubnet6(sink: IssueSink, value: unknown): Cidr | undefined {
  if (value === undefined) return undefined;
  const cidr = checkCidrField(sink, 'vtep_subnet6', value, 6, 'put the IPv4 VTEP pool in vtep_subnet and an IPv6 network here');
  if (cidr && vtepCapacity(cidr) === 0n) {
    addError(
      sink,
      'vtep_subnet6',
      value,
      `has no usable VTEP address: a /128 holds only its network address`,
      'use a wider network, e.g. a /64',
    );
  }
  return cidr;
}

function checkOui(sink: IssueSink, value: unknown): void {
  const path = 'vtep_mac_oui';
  if (value === undefined) {
    addError(
      sink,
      path,
      value,
      'vtep_mac_oui is required: VTEP MACs are built from it',
      'add vtep_mac_oui: 70:B3:D5:00:00:00 (the default)',
    );
    return;
  }
  if (typeof value !== 'string' || !OUI_RE.test(value)) {
    addError(
      sink,
      path,
      value,
      `must be a MAC prefix of the form xx:xx:xx:00:00:00 (six hex byte pairs), got ${typeName(value)}${typeof value === 'string' ? ` "${value}"` : ''}`,
      'write it like 70:B3:D5:00:00:00, quoted in YAML',
    );
    return;
  }
  const bytes = value.split(':');
  const head = bytes.slice(0, 3).join(':');
  if (bytes.slice(3).some((b) => parseInt(b, 16) !== 0)) {
    addError(sink, path, value, 'its low three bytes must be 00:00:00: they are filled from each VTEP IP', `write ${head}:00:00:00`);
  }
  const first = parseInt(bytes[0]!, 16);
  if (first & 1) {
    const unicast = (first & 0xfe).toString(16).padStart(2, '0').toUpperCase();
    addError(
      sink,
      path,
      value,
      'is a multicast (group) OUI: the lowest bit of its first byte is set, but a VTEP MAC must be unicast',
      `clear that bit, e.g. ${[unicast, ...bytes.slice(1, 3)].join(':')}:00:00:00`,
    );
  }
}

function checkMtu(sink: IssueSink, value: unknown): void {
  if (value === undefined) return;
  const range = `between ${MIN_VTEP_MTU} and ${MAX_VTEP_MTU}`;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    const quoted = typeof value === 'string' && /^\d+$/.test(value.trim());
    addError(
      sink,
      'vtep_mtu',
      value,
      `must be an integer ${range}, got ${typeName(value)}`,
      quoted ? `write ${value.trim()} without quotes` : 'set it to e.g. 1450 (a 1500-byte underlay minus VXLAN overhead), or leave it out',
    );
  } else if (value < MIN_VTEP_MTU) {
    addError(
      sink,
      'vtep_mtu',
      value,
      `is below ${MIN_VTEP_MTU}, the smallest MTU the VXLAN device accepts`,
      'set it to e.g. 1450, or leave it out to derive it from the underlay',
    );
  } else if (value > MAX_VTEP_MTU) {
    addError(
      sink,
      'vtep_mtu',
      value,
      `is above ${MAX_VTEP_MTU}: no common underlay carries frames of ${value + 50} bytes`,
      `set it to at most ${MAX_VTEP_MTU} (the underlay MTU minus 50)`,
    );
  }
}

/**
 * Checks a `dcos_overlay_network` section. `config` is set only when there are
 * no errors, and echoes the user's values (no defaults filled in) with
 * address fields trimmed, as the checks read them. canonicalize() parses it.
 */
export function checkConfig(raw: unknown): ConfigCheck {
  const sink = newSink();
  if (!isPlainObject(raw)) {
    addError(
      sink,
      ROOT_PATH,
      raw,
      `the network config must be a mapping, got ${typeName(raw)}`,
      'write vtep_subnet, vtep_mac_oui and overlays as keys of one mapping',
    );
    return sink;
  }
  checkKnownKeys(sink, raw, NETWORK_KEYS, (key) => key, 'dcos_overlay_network');
  const v4 = checkVtepSubnet(sink, raw.vtep_subnet);
  const v6 = checkVtepSubnet6(sink, raw.vtep_subnet6);
  checkOui(sink, raw.vtep_mac_oui);
  checkMtu(sink, raw.vtep_mtu);
  const overlays = checkOverlays(sink, raw.overlays);
  const vteps: ParsedVteps = {
    ...(v4 && { v4, v4Text: String(raw.vtep_subnet) }),
    ...(v6 && { v6, v6Text: String(raw.vtep_subnet6) }),
    v6Given: raw.vtep_subnet6 !== undefined,
  };
  checkOverlaps(sink, vteps, overlays);
  checkIpv6NeedsVtep(sink, vteps, overlays);
  capacityWarnings(sink, vteps, overlays);
  if (sink.errors.length > 0) return sink;
  return { config: trimmedNetwork(structuredClone(raw) as unknown as NetworkConfig), ...sink };
}
