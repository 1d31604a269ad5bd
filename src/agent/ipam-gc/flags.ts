// Pure: the IPAM collector's `vxnet agent` flags -> settings, each problem
// naming the flag, the value and the fix.

import { durationMs } from '../../duration.js';

export interface IpamGcRawFlags {
  ipamGcGrace?: string;
  ipamGcInterval?: string;
  containerStateDir?: string;
  podmanArgv?: string;
  cniCacheDir?: string;
}

export interface IpamGcSettings {
  /** How long a reservation must be seen leaked before it is released. */
  graceMs: number;
  /** How often the collector runs (it also runs on demand, GET /overlay-agent/ipam). */
  intervalMs: number;
  /** vxnet's container records (`vxnet container --state-dir`). */
  containerStateDir: string;
  /** The podman command as argv; empty: podman is not asked. */
  podmanArgv: string[];
  /** libcni's cache dir (podman's CNI backend writes results/<network>-<id>-<ifname> there). */
  cniCacheDir: string;
}

export const IPAM_GC_DEFAULTS = {
  grace: '5m',
  interval: '30s',
  containerStateDir: '/run/vxnet/containers',
  podmanArgv: '["podman"]',
  cniCacheDir: '/var/lib/cni',
} as const;

function duration(flag: string, text: string, minMs: number, errors: string[]): number {
  const ms = durationMs(text);
  if (ms === undefined || ms < minMs)
    errors.push(
      `${flag} ${JSON.stringify(text)} is not valid: give a duration of at least ${minMs} ms with a unit (ms, s, m, h), e.g. ${flag} 5m`,
    );
  return ms ?? 0;
}

function argv(flag: string, text: string, errors: string[]): string[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (Array.isArray(value) && value.every((a) => typeof a === 'string' && a.length > 0 && !a.includes('\0'))) return value as string[];
  errors.push(
    `${flag} ${JSON.stringify(text)} is not a JSON array of arguments: give e.g. ${flag} '["podman"]', or '[]' not to ask podman`,
  );
  return [];
}

export function checkIpamGcFlags(raw: IpamGcRawFlags, errors: string[]): IpamGcSettings {
  return {
    graceMs: duration('--ipam-gc-grace', raw.ipamGcGrace ?? IPAM_GC_DEFAULTS.grace, 0, errors),
    intervalMs: duration('--ipam-gc-interval', raw.ipamGcInterval ?? IPAM_GC_DEFAULTS.interval, 100, errors),
    containerStateDir: raw.containerStateDir ?? IPAM_GC_DEFAULTS.containerStateDir,
    podmanArgv: argv('--podman-argv', raw.podmanArgv ?? IPAM_GC_DEFAULTS.podmanArgv, errors),
    cniCacheDir: raw.cniCacheDir ?? IPAM_GC_DEFAULTS.cniCacheDir,
  };
}
