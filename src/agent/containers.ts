// Pure: host-local IPAM files -> the containers attached on this host.
// host-local keeps one file per address, named after it, holding
// "<container id>\r\n<interface>" (older versions: the id alone).

import type { ContainerInfo } from '../api/types.js';
import { canonicalIp } from './names.js';
import { parseIp } from '../net/ip.js';

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
