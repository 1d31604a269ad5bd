// Pure: the JSON of `ip -j -d addr`, `ip -j route`, `ip -j neigh` and
// `bridge -j fdb` -> the observed model. Unknown fields are ignored.

import { VTEP_NAME } from '../../api/types.js';
import type { FdbSpec, NeighbourSpec, ObservedLink, ObservedState } from '../model.js';
import { canonicalCidr, canonicalIp, canonicalIpWithLength, canonicalMac } from '../names.js';

type Json = Record<string, unknown>;

const asArray = (value: unknown): Json[] => (Array.isArray(value) ? value.filter((v): v is Json => !!v && typeof v === 'object') : []);
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** `ip -j -d addr show`: links with their kind, alias, VXLAN parameters and global addresses. */
export function parseLinks(json: unknown): ObservedLink[] {
  return asArray(json).flatMap((entry): ObservedLink[] => {
    const name = str(entry.ifname);
    if (!name) return [];
    const info = (entry.linkinfo ?? {}) as Json;
    const data = (info.info_data ?? {}) as Json;
    const kind = str(info.info_kind) ?? str(entry.link_type) ?? 'unknown';
    const flags = Array.isArray(entry.flags) ? entry.flags : [];
    const addresses = asArray(entry.addr_info)
      .filter((a) => a.scope === 'global')
      .map((a) => canonicalIpWithLength(`${str(a.local)}/${a.prefixlen}`))
      .filter((a): a is string => !!a);
    const link: ObservedLink = {
      name,
      kind,
      mtu: typeof entry.mtu === 'number' ? entry.mtu : 0,
      mac: canonicalMac(entry.address) ?? '',
      up: flags.includes('UP'),
      addresses,
    };
    const alias = str(entry.ifalias);
    if (alias !== undefined) link.alias = alias;
    if (kind === 'vxlan') {
      link.vxlan = {
        vni: Number(data.id),
        port: Number(data.port),
        local: canonicalIp(data.local) ?? str(data.local) ?? '',
        dev: str(data.link) ?? '',
        learning: data.learning === true,
      };
    }
    return [link];
  });
}

/** Permanent neighbour entries on the VTEP from `ip -j neigh show nud permanent`. */
export function parseNeighbours(json: unknown): NeighbourSpec[] {
  return asArray(json).flatMap((n) => {
    const ip = canonicalIp(n.dst);
    const mac = canonicalMac(n.lladdr);
    const state = Array.isArray(n.state) ? n.state : [];
    return n.dev === VTEP_NAME && ip && mac && state.includes('PERMANENT') ? [{ ip, mac }] : [];
  });
}

/** Remote entries on the VTEP from `bridge -j fdb show`. */
export function parseFdb(json: unknown): FdbSpec[] {
  return asArray(json).flatMap((f) => {
    const mac = canonicalMac(f.mac);
    const dst = canonicalIp(f.dst);
    return f.ifname === VTEP_NAME && mac && dst ? [{ mac, dst }] : [];
  });
}

/** `ip -j route show proto N`: gateway routes with their device. */
export function parseRoutes(json: unknown): ObservedState['routes'] {
  return asArray(json).flatMap((r) => {
    const dst = canonicalCidr(r.dst);
    const via = canonicalIp(r.gateway);
    const dev = str(r.dev);
    const mainTable = r.table === undefined || r.table === 'main';
    return dst && via && dev && mainTable ? [{ dst, via, dev }] : [];
  });
}

/** The interface holding `ip` and its MTU, from the parsed links. */
export function findUnderlay(links: ObservedLink[], ip: string): { dev: string; mtu: number } | undefined {
  const link = links.find((l) => l.addresses.some((a) => a.slice(0, a.lastIndexOf('/')) === ip));
  return link ? { dev: link.name, mtu: link.mtu } : undefined;
}
