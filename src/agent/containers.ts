// Pure: host-local IPAM files -> the containers attached on this host.
// host-local keeps one file per address, named after it, holding
// "<container id>\r\n<interface>" (older versions: the id alone).

import type { AgentInfo, ContainerInfo } from '../api/types.js';
import { canonicalIp } from './names.js';
import { type Cidr, contains, parseCidr, parseIp } from '../net/ip.js';

export interface IpamFile {
  network: string;
  /** The file name: the address. */
  name: string;
  content: string;
}

export function containersFromIpam(files: IpamFile[]): ContainerInfo[] {
  const byKey = new Map<string, ContainerInfo>();
  for (const file of files) {
    const ip = canonicalIp(file.name);
    if (!ip) continue; // lock, last_reserved_ip.0, ...
    const [id = '', iface = 'eth0'] = file.content.split(/\r?\n/).map((s) => s.trim());
    if (!id) continue;
    const key = `${file.network}\0${id}\0${iface}`;
    const entry = byKey.get(key) ?? { id, network: file.network, ip: '', interface: iface };
    if (parseIp(ip)!.family === 4) entry.ip = ip;
    else entry.ip6 = ip;
    byKey.set(key, entry);
  }
  return [...byKey.values()]
    .map((c) => (c.ip === '' && c.ip6 ? { ...c, ip: c.ip6 } : c))
    .sort((a, b) => a.network.localeCompare(b.network) || a.id.localeCompare(b.id) || a.interface.localeCompare(b.interface));
}

/**
 * Splits the containers into those inside this agent's subnet of their overlay
 * (reported to the master, which refuses anything else) and the stranded rest:
 * left-overs of an older allocation or an overlay this host no longer holds.
 */
export function splitByAllocation(containers: ContainerInfo[], me: AgentInfo): { kept: ContainerInfo[]; stranded: ContainerInfo[] } {
  const subnets = new Map<string, Cidr[]>();
  for (const o of me.overlays) {
    const held = [o.subnet, o.subnet6].flatMap((s) => {
      const r = s === undefined ? undefined : parseCidr(s);
      return r?.ok ? [r.cidr] : [];
    });
    subnets.set(o.info.name, held);
  }
  const inside = (c: ContainerInfo): boolean => {
    const held = subnets.get(c.network) ?? [];
    return [c.ip, c.ip6].every((text) => {
      if (text === undefined) return true;
      const ip = parseIp(text);
      return ip !== undefined && held.some((cidr) => contains(cidr, ip));
    });
  };
  const kept: ContainerInfo[] = [];
  const stranded: ContainerInfo[] = [];
  for (const c of containers) (inside(c) ? kept : stranded).push(c);
  return { kept, stranded };
}
