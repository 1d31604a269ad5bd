// Checks of the `overlays` list: names (they become Linux interface names),
// each overlay's subnets and prefixes, `enabled` and `masquerade`. Pure.

import type { Cidr, Family } from '../net/ip.js';
import { MAX_OVERLAY_NAME_LENGTH as MAX_NAME_LENGTH, OVERLAY_NAME_CHARS } from '../net/link.js';
import { MAX_AGENT_PREFIX, checkCidrField, checkPrefixField, suggestedPrefix } from './cidr-rules.js';
import { type IssueSink, addError, checkKnownKeys, isPlainObject, typeName } from './describe.js';

export const OVERLAY_KEYS = ['name', 'subnet', 'prefix', 'subnet6', 'prefix6', 'enabled', 'masquerade'] as const;
export const RESERVED_NAMES = ['host', 'bridge', 'default', 'none'];
/**
 * Most overlays one config may hold. Every agent record carries one
 * allocation and one status per overlay, and an agent's status report lists
 * them all: at 256 that report stays under the master's 64 KiB body limit
 * and a record around 40 KB; each host also gets two bridges per overlay.
 */
export const MAX_OVERLAYS = 256;

/** One address family of an overlay as far as it could be read. */
export interface ParsedFamily {
  family: Family;
  cidr: Cidr;
  /** The subnet as the user wrote it. */
  text: string;
  subnetPath: string;
  prefixPath: string;
  /** Undefined when the prefix is missing or invalid. */
  prefix?: number;
}

export interface ParsedOverlay {
  index: number;
  name?: string;
  enabled: boolean;
  families: ParsedFamily[];
}

const FAMILY_KEYS = {
  4: { subnet: 'subnet', prefix: 'prefix', other: 'subnet6' },
  6: { subnet: 'subnet6', prefix: 'prefix6', other: 'subnet' },
} as const;

function sanitizedName(name: string, index: number): string {
  const cleaned = name
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, MAX_NAME_LENGTH);
  return cleaned || `dcos-${index + 1}`;
}

function checkName(sink: IssueSink, path: string, value: unknown, index: number, seen: Map<string, number>): string | undefined {
  if (value === undefined) {
    addError(sink, path, value, 'every overlay needs a name (containers join networks by name)', `add name: dcos-${index + 1}`);
    return undefined;
  }
  if (typeof value !== 'string') {
    addError(sink, path, value, `must be a string, got ${typeName(value)}`, `use a name such as "dcos-${index + 1}"`);
    return undefined;
  }
  let ok = true;
  if (value.length === 0 || value.length > MAX_NAME_LENGTH) {
    addError(
      sink,
      path,
      value,
      `must be 1 to ${MAX_NAME_LENGTH} characters long (it has ${value.length}): the bridges m-<name> and d-<name> must fit Linux's 15-character interface names`,
      `use a shorter name, e.g. "${sanitizedName(value, index)}"`,
    );
    ok = false;
  }
  if (value.length > 0 && !OVERLAY_NAME_CHARS.test(value)) {
    addError(
      sink,
      path,
      value,
      'may only hold letters, digits, "_", "." and "-", starting with a letter or digit (it becomes a Linux interface name)',
      `use e.g. "${sanitizedName(value, index)}"`,
    );
    ok = false;
  }
  // In any case: Docker and CNI tools match these names without regard to case.
  if (RESERVED_NAMES.includes(value.toLowerCase())) {
    addError(
      sink,
      path,
      value,
      `"${value}" is reserved in any case (${RESERVED_NAMES.join(', ')} name built-in container networks)`,
      `pick another name, e.g. "dcos-${index + 1}"`,
    );
    ok = false;
  }
  const first = seen.get(value);
  if (first !== undefined) {
    addError(
      sink,
      path,
      value,
      `duplicates the name of overlays[${first}]: names must be unique`,
      `rename one of them, e.g. "${sanitizedName(`${value.slice(0, MAX_NAME_LENGTH - 2)}-${index + 1}`, index)}"`,
    );
    ok = false;
  } else {
    seen.set(value, index);
  }
  return ok ? value : undefined;
}

function checkFamily(sink: IssueSink, overlay: Record<string, unknown>, base: string, family: Family): ParsedFamily | undefined {
  const keys = FAMILY_KEYS[family];
  const subnetPath = `${base}.${keys.subnet}`;
  const prefixPath = `${base}.${keys.prefix}`;
  const subnetValue = overlay[keys.subnet];
  const prefixValue = overlay[keys.prefix];
  if (subnetValue === undefined) {
    if (prefixValue !== undefined) {
      addError(
        sink,
        prefixPath,
        prefixValue,
        `${keys.prefix} only applies together with ${keys.subnet}, which is missing`,
        `add ${keys.subnet}: <IPv${family} CIDR>, or remove ${keys.prefix}`,
      );
    }
    return undefined;
  }
  const wrongFamily = `move it to ${keys.other} (with ${FAMILY_KEYS[family === 4 ? 6 : 4].prefix}), or put an IPv${family} CIDR here`;
  const cidr = checkCidrField(sink, subnetPath, subnetValue, family, wrongFamily);
  if (!cidr) return undefined;
  let usable: Cidr | undefined = cidr;
  if (cidr.length > MAX_AGENT_PREFIX[family]) {
    addError(
      sink,
      subnetPath,
      subnetValue,
      `is too small for even one agent: an agent's slice is split into two bridge halves, and each needs a network, a gateway${family === 4 ? ', a broadcast' : ''} and a container address`,
      `use a /${MAX_AGENT_PREFIX[family]} or wider network`,
    );
    usable = undefined;
  }
  if (prefixValue === undefined) {
    addError(
      sink,
      prefixPath,
      prefixValue,
      `${keys.prefix} is required with ${keys.subnet}: it sets the size of each agent's slice`,
      `add ${keys.prefix}: ${suggestedPrefix(usable, family)}`,
    );
    return { family, cidr, text: String(subnetValue), subnetPath, prefixPath };
  }
  const prefix = usable ? checkPrefixField(sink, prefixPath, prefixValue, family, usable, subnetPath) : undefined;
  return { family, cidr, text: String(subnetValue), subnetPath, prefixPath, ...(prefix !== undefined && { prefix }) };
}

function checkOverlay(sink: IssueSink, value: unknown, index: number, seen: Map<string, number>): ParsedOverlay | undefined {
  const base = `overlays[${index}]`;
  if (!isPlainObject(value)) {
    addError(
      sink,
      base,
      value,
      `each overlay must be a mapping with name, subnet and prefix, got ${typeName(value)}`,
      `write it as { name: dcos-${index + 1}, subnet: 192.168.0.0/17, prefix: 24 }`,
    );
    return undefined;
  }
  checkKnownKeys(sink, value, OVERLAY_KEYS, (key) => `${base}.${key}`, 'an overlay');
  const name = checkName(sink, `${base}.name`, value.name, index, seen);
  for (const key of ['enabled', 'masquerade'] as const) {
    if (value[key] !== undefined && typeof value[key] !== 'boolean') {
      addError(
        sink,
        `${base}.${key}`,
        value[key],
        `must be a boolean, got ${typeName(value[key])}`,
        'write true or false (unquoted), or leave it out for true',
      );
    }
  }
  if (value.subnet === undefined && value.subnet6 === undefined) {
    addError(
      sink,
      base,
      value,
      'an overlay needs subnet (IPv4) and/or subnet6 (IPv6): it has neither',
      'add subnet: 192.168.0.0/17 with prefix: 24, or subnet6 with prefix6',
    );
  }
  const families = ([4, 6] as const).map((f) => checkFamily(sink, value, base, f)).filter((f): f is ParsedFamily => f !== undefined);
  return { index, ...(name !== undefined && { name }), enabled: value.enabled !== false, families };
}

/** Checks the overlays list; returns what could be read of each overlay for the cross-field checks. */
export function checkOverlays(sink: IssueSink, value: unknown): ParsedOverlay[] {
  if (value === undefined) {
    addError(
      sink,
      'overlays',
      value,
      'overlays is required: without one, no container can join a network',
      'add overlays: [{ name: dcos-1, subnet: 192.168.0.0/17, prefix: 24 }]',
    );
    return [];
  }
  if (!Array.isArray(value)) {
    addError(
      sink,
      'overlays',
      value,
      `must be a list of overlays, got ${typeName(value)}`,
      'write each overlay as a list item starting with "- name: ..."',
    );
    return [];
  }
  if (value.length === 0) {
    addError(
      sink,
      'overlays',
      value,
      'must hold at least one overlay',
      'add an overlay, e.g. { name: dcos-1, subnet: 192.168.0.0/17, prefix: 24 }',
    );
    return [];
  }
  if (value.length > MAX_OVERLAYS) {
    addError(
      sink,
      'overlays',
      `${value.length} overlays`,
      `must hold at most ${MAX_OVERLAYS} overlays, not ${value.length}`,
      `merge overlays or remove unused ones (vxnet network delete frees a removed one's subnets)`,
    );
    return [];
  }
  const seen = new Map<string, number>();
  return value.map((item, index) => checkOverlay(sink, item, index, seen)).filter((o): o is ParsedOverlay => o !== undefined);
}
