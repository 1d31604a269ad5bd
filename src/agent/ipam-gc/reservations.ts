// Pure: host-local files -> reservations, and the checks every name passes
// before it is used in a path, a CNI call or an unlink.

import type { AgentInfo } from '../../api/types.js';
import { type Cidr, contains, parseCidr, parseIp } from '../../net/ip.js';
import type { IpamFile } from '../containers.js';
import { canonicalIp, isInterfaceName, overlayNameProblem } from '../names.js';
import type { Reservation } from './classify.js';

/** Container ids as runtimes make them (vxnet names, podman's 64 hex digits): safe in a file name. */
const CONTAINER_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,255}$/;

export const isContainerId = (id: string): boolean => CONTAINER_ID_RE.test(id);

/**
 * One reservation per address file. Files that are not addresses (`lock`,
 * `last_reserved_ip.0`), in a directory that is no overlay name, or whose
 * container id or interface could not be used safely, are left out: they
 * are never touched.
 */
export function reservationsFrom(files: readonly IpamFile[]): Reservation[] {
  const out: Reservation[] = [];
  for (const f of files) {
    if (overlayNameProblem(f.network) !== undefined) continue;
    if (canonicalIp(f.name) !== f.name) continue;
    const [container = '', ifname = 'eth0'] = f.content.split(/\r?\n/).map((s) => s.trim());
    if (!isContainerId(container) || !isInterfaceName(ifname)) continue;
    out.push({ overlay: f.network, ip: f.name, container, ifname });
  }
  return out.sort((a, b) => a.overlay.localeCompare(b.overlay) || a.ip.localeCompare(b.ip, 'en', { numeric: true }));
}

/** The agent's subnets per overlay, as a membership test. */
export function subnetTest(me: AgentInfo | undefined): (r: Reservation) => boolean {
  const held = new Map<string, Cidr[]>();
  for (const o of me?.overlays ?? []) {
    const cidrs = [o.subnet, o.subnet6].flatMap((s) => {
      const parsed = s === undefined ? undefined : parseCidr(s);
      return parsed?.ok ? [parsed.cidr] : [];
    });
    held.set(o.info.name, cidrs);
  }
  return (r) => {
    const ip = parseIp(r.ip);
    return ip !== undefined && (held.get(r.overlay) ?? []).some((c) => contains(c, ip));
  };
}
