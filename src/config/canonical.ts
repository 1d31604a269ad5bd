// The config as the rest of vxnet consumes it: parsed once, at the boundary,
// into src/net values with defaults filled in. Nothing after this point reads
// a CIDR string of the config again. Pure.

import { type Cidr, mustCidr } from '../net/ip.js';
import type { NetworkConfig, OverlayConfig } from './types.js';

/** One family of an overlay: the overlay's subnet and the prefix of each agent's slice. */
export interface AgentRange {
  readonly subnet: Cidr;
  readonly prefix: number;
}

export interface CanonicalOverlay {
  readonly name: string;
  /** Filled in: true unless the config says false. */
  readonly enabled: boolean;
  /** Filled in: true unless the config says false. */
  readonly masquerade: boolean;
  readonly v4?: AgentRange;
  readonly v6?: AgentRange;
}

export interface CanonicalConfig {
  readonly vtep4: Cidr;
  readonly vtep6?: Cidr;
  /** Lowercase, e.g. "70:b3:d5:00:00:00". */
  readonly oui: string;
  readonly mtu?: number;
  readonly overlays: readonly CanonicalOverlay[];
  /**
   * The section as DC/OS shows and stores it (GET /overlay-master/state
   * "network"): the user's values with address fields trimmed, no defaults added.
   */
  readonly network: NetworkConfig;
}

const trim = (value: string | undefined): string | undefined => (typeof value === 'string' ? value.trim() : value);

/** The user's section with surrounding whitespace removed from address fields (the checks accept it, so everything after must too). */
export function trimmedNetwork(config: NetworkConfig): NetworkConfig {
  const overlay = (o: OverlayConfig): OverlayConfig => ({
    ...o,
    ...(o.subnet !== undefined && { subnet: trim(o.subnet) }),
    ...(o.subnet6 !== undefined && { subnet6: trim(o.subnet6) }),
  });
  return {
    ...config,
    vtep_subnet: trim(config.vtep_subnet)!,
    ...(config.vtep_subnet6 !== undefined && { vtep_subnet6: trim(config.vtep_subnet6) }),
    vtep_mac_oui: trim(config.vtep_mac_oui)!,
    overlays: config.overlays.map(overlay),
  };
}

function range(field: string, subnet: string | undefined, prefix: number | undefined): AgentRange | undefined {
  if (subnet === undefined || prefix === undefined) return undefined;
  return { subnet: mustField(field, subnet), prefix };
}

function mustField(field: string, text: string): Cidr {
  try {
    return mustCidr(text);
  } catch (e) {
    throw new TypeError(`${field}: ${(e as Error).message}; the config must pass checkConfig first`);
  }
}

/**
 * The canonical form of a config that passed checkConfig. Throws TypeError,
 * naming the field, for an address field that is not a CIDR (a config that
 * skipped the checks). Idempotent: canonicalize(c.network) equals c.
 */
export function canonicalize(config: NetworkConfig): CanonicalConfig {
  const network = trimmedNetwork(config);
  const vtep6 = network.vtep_subnet6 === undefined ? undefined : mustField('vtep_subnet6', network.vtep_subnet6);
  return {
    vtep4: mustField('vtep_subnet', network.vtep_subnet),
    ...(vtep6 && { vtep6 }),
    oui: network.vtep_mac_oui.toLowerCase(),
    ...(network.vtep_mtu !== undefined && { mtu: network.vtep_mtu }),
    overlays: network.overlays.map((o, i) => {
      const v4 = range(`overlays[${i}].subnet`, o.subnet, o.prefix);
      const v6 = range(`overlays[${i}].subnet6`, o.subnet6, o.prefix6);
      return { name: o.name, enabled: o.enabled !== false, masquerade: o.masquerade !== false, ...(v4 && { v4 }), ...(v6 && { v6 }) };
    }),
    network,
  };
}
