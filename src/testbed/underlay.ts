// The test underlay: a bridge in its own namespace joining N host namespaces
// (host i = <net>.i), an optional "outside" host (<net>.200) and the root
// namespace (<net>.254). Only this /24 is reachable from root; overlay ranges
// never leave the test namespaces.
import { run, runOk, runSyncQuiet } from './exec.js';
import type { RunNames } from './names.js';

export const UNDERLAY_IFNAME = 'ul0';
export const OUTSIDE_HOST_OCTET = 200;
export const ROOT_OCTET = 254;

export interface Underlay {
  names: RunNames;
  /** e.g. "198.18.37" */
  net: string;
  hosts: { ns: string; ip: string }[];
  outside?: { ns: string; ip: string };
  rootIp: string;
  /** Deletes every namespace and link this underlay created; safe to call twice. */
  destroy(): Promise<void>;
  destroySync(): void;
  /** Namespaces and links of this run still present (empty after destroy). */
  leftovers(): Promise<string[]>;
}

/** Third octets of 198.18.x.0/24 already holding addresses in the root namespace. */
async function usedOctets(): Promise<Set<number>> {
  const out = await runOk(['ip', '-j', '-4', 'addr', 'show']);
  const used = new Set<number>();
  for (const link of JSON.parse(out) as { addr_info?: { local?: string }[] }[]) {
    for (const a of link.addr_info ?? []) {
      const m = /^198\.18\.(\d+)\./.exec(a.local ?? '');
      if (m) used.add(Number(m[1]));
    }
  }
  return used;
}

/** Picks 198.18.<octet>.0/24 free in root: `prefer` when free, otherwise a random free one. */
export async function pickUnderlayNet(prefer?: number): Promise<string> {
  const used = await usedOctets();
  if (prefer !== undefined && !used.has(prefer)) return `198.18.${prefer}`;
  const free = Array.from({ length: 255 }, (_, i) => i + 1).filter((o) => !used.has(o));
  const octet = free[Math.floor(Math.random() * free.length)];
  if (octet === undefined) throw new Error('no free 198.18.x.0/24 left for a test underlay');
  return `198.18.${octet}`;
}

export async function createUnderlay(opts: { names: RunNames; hosts: number; outside?: boolean; preferOctet?: number }): Promise<Underlay> {
  const { names } = opts;
  const net = await pickUnderlayNet(opts.preferOctet);
  const created: string[] = [];
  let rootLinkMade = false;
  const hostList = Array.from({ length: opts.hosts }, (_, k) => ({ ns: names.hostNs(k + 1), ip: `${net}.${k + 1}` }));
  const outside = opts.outside ? { ns: names.outsideNs, ip: `${net}.${OUTSIDE_HOST_OCTET}` } : undefined;
  const allNs = () => [...created].reverse();

  const underlay: Underlay = {
    names,
    net,
    hosts: hostList,
    outside,
    rootIp: `${net}.${ROOT_OCTET}`,
    // The root link goes first: a namespace's veths vanish asynchronously after `netns del`.
    async destroy() {
      if (rootLinkMade) await run(['ip', 'link', 'del', names.rootLink]);
      for (const ns of allNs()) await run(['ip', 'netns', 'del', ns]);
      created.length = 0;
      rootLinkMade = false;
    },
    destroySync() {
      if (rootLinkMade) runSyncQuiet(['ip', 'link', 'del', names.rootLink]);
      for (const ns of allNs()) runSyncQuiet(['ip', 'netns', 'del', ns]);
      created.length = 0;
      rootLinkMade = false;
    },
    leftovers: () => leftovers(names),
  };

  const addNs = async (ns: string) => {
    await runOk(['ip', 'netns', 'add', ns]);
    created.push(ns);
    await runOk(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  };
  const attach = async (ns: string, port: string, ip: string) => {
    await runOk(['ip', 'link', 'add', UNDERLAY_IFNAME, 'netns', ns, 'type', 'veth', 'peer', 'name', port, 'netns', names.underlayNs]);
    await runOk(['ip', '-n', names.underlayNs, 'link', 'set', port, 'master', 'br0', 'up']);
    await runOk(['ip', '-n', ns, 'addr', 'add', `${ip}/24`, 'dev', UNDERLAY_IFNAME]);
    await runOk(['ip', '-n', ns, 'link', 'set', UNDERLAY_IFNAME, 'up']);
  };

  try {
    await addNs(names.underlayNs);
    await runOk(['ip', '-n', names.underlayNs, 'link', 'add', 'br0', 'type', 'bridge']);
    await runOk(['ip', '-n', names.underlayNs, 'link', 'set', 'br0', 'up']);
    for (const [k, h] of hostList.entries()) {
      await addNs(h.ns);
      await attach(h.ns, names.underlayPort(k + 1), h.ip);
      await runOk(['ip', 'netns', 'exec', h.ns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    }
    if (outside) {
      await addNs(outside.ns);
      await attach(outside.ns, names.underlayPort(0), outside.ip);
    }
    await runOk(['ip', 'link', 'add', names.rootLink, 'type', 'veth', 'peer', 'name', 'root', 'netns', names.underlayNs]);
    rootLinkMade = true;
    await runOk(['ip', '-n', names.underlayNs, 'link', 'set', 'root', 'master', 'br0', 'up']);
    await runOk(['ip', 'addr', 'add', `${underlay.rootIp}/24`, 'dev', names.rootLink]);
    await runOk(['ip', 'link', 'set', names.rootLink, 'up']);
  } catch (e) {
    await underlay.destroy();
    throw e;
  }
  return underlay;
}

/** Namespaces and root links whose names carry this run's prefix. */
export async function leftovers(names: RunNames): Promise<string[]> {
  const found: string[] = [];
  const ns = await run(['ip', 'netns', 'list']);
  for (const line of ns.stdout.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    if (name.startsWith(`${names.prefix}-`)) found.push(`netns ${name}`);
  }
  const links = await run(['ip', '-j', 'link', 'show']);
  for (const l of JSON.parse(links.stdout || '[]') as { ifname: string }[]) {
    if (l.ifname.startsWith(names.prefix)) found.push(`link ${l.ifname}`);
  }
  return found;
}
