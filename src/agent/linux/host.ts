// Files on the host: CNI conflists (written atomically, only when changed),
// forwarding sysctls, and the host-local IPAM store.

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { IpamFile } from '../containers.js';
import { staleIpamDirs } from '../ipam-dirs.js';
import { isInterfaceName } from '../names.js';

const readOrUndefined = (path: string): Promise<string | undefined> => readFile(path, 'utf8').catch(() => undefined);

/** A sysctl or sysfs file: a few bytes read on the loop, cheaper once a second than four thread-pool hops. */
const readSmallOrUndefined = async (path: string): Promise<string | undefined> => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

/**
 * The kernel keeps a retransmit time in jiffies and rounds up (10 ms reads
 * back as 12 at HZ=250): a value up to one jiffy (10 ms at HZ=100) above
 * the wanted one is already set; writing it again would never stick.
 */
export const retransIsSet = (current: string, ms: number): boolean => {
  const value = Number(current.trim());
  return value >= ms && value < ms + 10;
};

/** Writes via a temp file and rename; returns false when the content was already there. */
export async function writeFileIfChanged(path: string, dir: string, content: string): Promise<boolean> {
  if ((await readOrUndefined(path)) === content) return false;
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `.vxnet-${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(temp, content, { mode: 0o644 });
    await rename(temp, path);
  } finally {
    await rm(temp, { force: true });
  }
  return true;
}

/** Removes `vxnet-*.conflist` files in `dir` except those named in `keep`. */
export async function removeConflists(dir: string, keep: ReadonlySet<string>): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const stale = names.filter((n) => /^vxnet-.+\.conflist$/.test(n) && !keep.has(n));
  await Promise.all(stale.map((n) => rm(join(dir, n), { force: true })));
  return stale;
}

/** Sets a forwarding sysctl of this network namespace to 1 when it is not. */
export async function enableSysctl(path: '/proc/sys/net/ipv4/ip_forward' | '/proc/sys/net/ipv6/conf/all/forwarding'): Promise<void> {
  if ((await readSmallOrUndefined(path))?.trim() === '1') return;
  await writeFile(path, '1\n');
}

/**
 * Sets the ARP (and, when the bridge has IPv6, ND) retransmit time of a
 * bridge; the name was validated as an interface name before it got here.
 */
export async function setBridgeNeighbourRetrans(bridge: string, ms: number): Promise<void> {
  for (const family of ['ipv4', 'ipv6']) {
    const path = `/proc/sys/net/${family}/neigh/${bridge}/retrans_time_ms`;
    const current = await readSmallOrUndefined(path);
    if (current === undefined) continue; // no IPv6 on this host, or the bridge is being recreated
    if (!retransIsSet(current, ms)) await writeFile(path, `${ms}\n`);
  }
}

/** Removes the host-local dirs of overlays the master's config no longer lists (see ../ipam-dirs.ts). */
export async function removeIpamDirs(ipamDir: string, configured: ReadonlySet<string>): Promise<string[]> {
  const entries = await readdir(ipamDir, { withFileTypes: true }).catch(() => []);
  const stale = staleIpamDirs(
    entries.filter((e) => e.isDirectory()).map((e) => e.name),
    configured,
  );
  await Promise.all(stale.map((name) => rm(join(ipamDir, name), { recursive: true, force: true })));
  return stale;
}

/** Every address file under `<ipamDir>/<network>/`. */
export async function readIpamFiles(ipamDir: string): Promise<IpamFile[]> {
  const networks = await readdir(ipamDir, { withFileTypes: true }).catch(() => []);
  const files: IpamFile[] = [];
  for (const network of networks) {
    if (!network.isDirectory()) continue;
    const dir = join(ipamDir, network.name);
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (!/^[0-9a-fA-F.:]+$/.test(name)) continue;
      const content = await readOrUndefined(join(dir, name));
      if (content !== undefined) files.push({ network: network.name, name, content });
    }
  }
  return files;
}

/** A link's MTU from sysfs (the agent's /sys is its network namespace's), or undefined for a bad name or no such link. */
export async function linkMtu(dev: string): Promise<number | undefined> {
  if (!isInterfaceName(dev)) return undefined;
  const mtu = Number((await readSmallOrUndefined(join('/sys/class/net', dev, 'mtu')))?.trim());
  return Number.isInteger(mtu) && mtu > 0 ? mtu : undefined;
}
