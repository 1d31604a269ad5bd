// The `dcos_overlay_network` section, as the user writes it (after defaults are filled in).
// These field names are DC/OS's and appear verbatim in GET /overlay-master/state "network".

export interface OverlayConfig {
  name: string;
  subnet?: string;
  prefix?: number;
  subnet6?: string;
  prefix6?: number;
  /** Default true. A disabled overlay gets no new allocations but keeps existing ones. */
  enabled?: boolean;
  /**
   * Default true: traffic from the overlay to anything outside the overlays
   * leaves with the host's address. False for an overlay the underlay routes
   * itself; with no overlay masqueraded a host tracks no connections for vxnet.
   */
  masquerade?: boolean;
}

export interface NetworkConfig {
  vtep_subnet: string;
  vtep_subnet6?: string;
  vtep_mac_oui: string;
  vtep_mtu?: number;
  overlays: OverlayConfig[];
}

/** The seed's default networks. */
export const DEFAULT_NETWORK_CONFIG: NetworkConfig = {
  vtep_subnet: '192.15.0.0/20',
  vtep_mac_oui: '70:B3:D5:00:00:00',
  overlays: [
    { name: 'dcos-1', subnet: '192.168.0.0/17', prefix: 24 },
    { name: 'dcos-2', subnet: '192.168.128.0/17', prefix: 24 },
  ],
};

/** One problem found in a config: where, what value, which rule, how to fix it. */
export interface ConfigIssue {
  /** Field path, e.g. "overlays[2].prefix". */
  path: string;
  value: unknown;
  /** The rule broken, in words. */
  rule: string;
  /** What to change. */
  fix: string;
}

export interface ConfigCheck {
  /** The config when there are no errors. */
  config?: NetworkConfig;
  errors: ConfigIssue[];
  warnings: ConfigIssue[];
}
