// Pure: the agent's command-line values -> validated options, with every
// problem naming the flag, the value and the fix.

import { parseListen } from '../api/listen.js';
import { parseIp } from '../net/ip.js';
import { CONFLIST_PLUGINS } from './cni-conf.js';
import { checkIpamGcFlags, type IpamGcRawFlags, type IpamGcSettings } from './ipam-gc/flags.js';
import type { MtuFlag } from './mtu.js';

export interface RawAgentFlags extends IpamGcRawFlags {
  master?: string;
  ip?: string;
  listen: string;
  stateDir: string;
  cniConfDir: string;
  mtu: string;
  vxlanPort: string;
  maxAttempts: string;
  tickMs: string;
  /** --resync-ms; optional so callers without it keep the default. */
  resyncMs?: string;
}

export interface Listen {
  host: string;
  port: number;
}

export interface CheckedFlags {
  masters: string[];
  ip: string;
  listen: Listen;
  /** A container MTU, or `auto`: from the underlay and the cluster's lowest (mtu.ts). */
  mtu: MtuFlag;
  vxlanPort: number;
  maxAttempts: number;
  tickMs: number;
  resyncMs: number;
  ipamGc: IpamGcSettings;
}

function integer(flag: string, value: string, min: number, max: number, errors: string[]): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(n >= min && n <= max)) errors.push(`${flag} ${JSON.stringify(value)} is not valid: use a whole number from ${min} to ${max}`);
  return n;
}

/** --mtu: `auto` or a whole number the VXLAN device and bridges accept. */
function mtuFlag(value: string, errors: string[]): MtuFlag {
  if (value.trim().toLowerCase() === 'auto') return 'auto';
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(n >= 552 && n <= 9000))
    errors.push(
      `--mtu ${JSON.stringify(value)} is not valid: use auto (the underlay's MTU minus 50, lowered to the cluster's lowest) or a whole number from 552 to 9000`,
    );
  return n;
}

/** --listen as the master reads it (src/api/listen.ts), or undefined. */
function listenOf(text: string): Listen | undefined {
  try {
    return parseListen(text);
  } catch {
    return undefined;
  }
}

export function checkAgentFlags(raw: RawAgentFlags): { flags?: CheckedFlags; errors: string[] } {
  const errors: string[] = [];
  const masters = (raw.master ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (masters.length === 0) errors.push('--master is missing: pass the master URL(s), e.g. --master http://198.18.0.254:5050');
  for (const url of masters) {
    let ok = false;
    try {
      ok = ['http:', 'https:'].includes(new URL(url).protocol);
    } catch {
      ok = false;
    }
    if (!ok) errors.push(`--master ${JSON.stringify(url)} is not an http(s) URL: use e.g. http://198.18.0.254:5050`);
  }
  const ip = parseIp(raw.ip ?? '');
  if (!raw.ip) errors.push("--ip is missing: pass this host's underlay IPv4 address, e.g. --ip 198.18.0.1");
  else if (ip?.family !== 4)
    errors.push(`--ip ${JSON.stringify(raw.ip)} is not an IPv4 address: pass this host's underlay IPv4 address, e.g. --ip 198.18.0.1`);
  const listen = listenOf(raw.listen);
  if (!listen) errors.push(`--listen ${JSON.stringify(raw.listen)} is not HOST:PORT: use e.g. :5051 or 127.0.0.1:5051`);
  const mtu = mtuFlag(raw.mtu, errors);
  const vxlanPort = integer('--vxlan-port', raw.vxlanPort, 1, 65535, errors);
  const maxAttempts = integer('--max-attempts', raw.maxAttempts, 1, 1000, errors);
  const tickMs = integer('--tick-ms', raw.tickMs, 50, 60_000, errors);
  const resyncMs = integer('--resync-ms', raw.resyncMs ?? '30000', 1000, 3_600_000, errors);
  const ipamGc = checkIpamGcFlags(raw, errors);
  if (errors.length > 0 || !listen) return { errors };
  return { flags: { masters, ip: raw.ip!, listen, mtu, vxlanPort, maxAttempts, tickMs, resyncMs, ipamGc }, errors };
}

/** Problems with --cni-bin-dir: each plugin the conflists use must be an executable there. */
export function checkCniBinDir(dir: string, isExecutable: (path: string) => boolean): string[] {
  const missing = CONFLIST_PLUGINS.filter((p) => !isExecutable(`${dir.replace(/\/+$/, '')}/${p}`));
  if (missing.length === 0) return [];
  return [
    `--cni-bin-dir ${JSON.stringify(dir)} lacks the CNI plugin(s) ${missing.join(', ')} that the agent's conflists use: ` +
      'pass the directory holding them (Debian: apt-get install containernetworking-plugins, then --cni-bin-dir /usr/lib/cni)',
  ];
}

/**
 * Problems with --ip against the host's IPv4 addresses (`ip -j -4 addr show`):
 * peers send VXLAN packets to it, so it must be one of them.
 */
export function checkIpOnHost(ip: string, addrJson: string): string[] {
  let local: string[];
  try {
    local = (JSON.parse(addrJson) as { addr_info?: { local?: string }[] }[]).flatMap((l) => (l.addr_info ?? []).map((a) => a.local ?? ''));
  } catch {
    return []; // unreadable: the agent's own kernel reads will say what is wrong
  }
  if (local.includes(ip)) return [];
  const shown = local.filter((a) => a && !a.startsWith('127.'));
  return [
    `--ip ${JSON.stringify(ip)} is not an address of this host (it has ${shown.length ? shown.join(', ') : 'no IPv4 address besides loopback'}): ` +
      'pass the underlay IPv4 address peers reach this host on, as shown by `ip -4 addr`',
  ];
}
