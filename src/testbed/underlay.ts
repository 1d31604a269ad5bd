// The test underlay: a bridge in its own namespace joining N host namespaces
// (host i = <net>.i), an optional "outside" host (<net>.200) and the root
// namespace (<net>.254). Only this /24 is reachable from root; overlay ranges
// never leave the test namespaces.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, runOk, runSyncQuiet } from './exec.js';
import { pidAlive } from './lifecycle.js';
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

export const CLAIM_DIR = '/run/vxnet-testbed';
const claimFile = (octet: number) => join(CLAIM_DIR, `underlay-${octet}`);

function readClaim(file: string): string {
  try {
    return readFileSync(join(CLAIM_DIR, file), 'utf8');
  } catch {
    return '';
  }
}

/** Claims an octet with an exclusive file holding our PID; a dead owner's claim is taken over. */
function claim(octet: number, prefix: string): boolean {
  mkdirSync(CLAIM_DIR, { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(claimFile(octet), `${process.pid} ${prefix}`, { flag: 'wx' });
      return true;
    } catch {
      const owner = Number(readClaim(`underlay-${octet}`).split(' ')[0]);
      if (owner && pidAlive(owner)) return false;
      rmSync(claimFile(octet), { force: true });
    }
  }
  return false;
}

/**
 * Picks and claims 198.18.<octet>.0/24, free in root and unclaimed by another
 * run (two runs racing for one /24 would break each other's routes):
 * `prefer` when free, otherwise a random free one.
 */
export async function pickUnderlayNet(prefix: string, prefer?: number): Promise<{ net: string; release(): void }> {
  const used = await usedOctets();
  const free = Array.from({ length: 255 }, (_, i) => i + 1).filter((o) => !used.has(o));
  for (let i = free.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [free[i], free[j]] = [free[j]!, free[i]!];
  }
  if (prefer !== undefined && !used.has(prefer)) free.unshift(prefer);
  for (const octet of free) {
    if (claim(octet, prefix)) return { net: `198.18.${octet}`, release: () => rmSync(claimFile(octet), { force: true }) };
  }
  throw new Error('no free 198.18.x.0/24 left for a test underlay');
}

export async function createUnderlay(opts: {
  names: RunNames;
  hosts: number;
  outside?: boolean;
  preferOctet?: number;
  /** MTU of every underlay link (default the kernel's 1500), e.g. 9000 for jumbo frames. */
  mtu?: number;
}): Promise<Underlay> {
  const { names } = opts;
  const picked = await pickUnderlayNet(names.prefix, opts.preferOctet);
  const net = picked.net;
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
      picked.release();
    },
    destroySync() {
      if (rootLinkMade) runSyncQuiet(['ip', 'link', 'del', names.rootLink]);
      for (const ns of allNs()) runSyncQuiet(['ip', 'netns', 'del', ns]);
      created.length = 0;
      rootLinkMade = false;
      picked.release();
    },
    leftovers: () => leftovers(names),
  };

  const addNs = async (ns: string) => {
    await runOk(['ip', 'netns', 'add', ns]);
    created.push(ns);
    await runOk(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  };
  const mtu = opts.mtu === undefined ? [] : ['mtu', String(opts.mtu)];
  const attach = async (ns: string, port: string, ip: string) => {
    await runOk([
      'ip',
      'link',
      'add',
      UNDERLAY_IFNAME,
      'netns',
      ns,
      ...mtu,
      'type',
      'veth',
      'peer',
      'name',
      port,
      'netns',
      names.underlayNs,
      ...mtu,
    ]);
    await runOk(['ip', '-n', names.underlayNs, 'link', 'set', port, 'master', 'br0', 'up']);
    await runOk(['ip', '-n', ns, 'addr', 'add', `${ip}/24`, 'dev', UNDERLAY_IFNAME]);
    await runOk(['ip', '-n', ns, 'link', 'set', UNDERLAY_IFNAME, 'up']);
  };

  try {
    await addNs(names.underlayNs);
    await runOk(['ip', '-n', names.underlayNs, 'link', 'add', 'br0', ...mtu, 'type', 'bridge']);
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
    await runOk(['ip', 'link', 'add', names.rootLink, ...mtu, 'type', 'veth', 'peer', 'name', 'root', 'netns', names.underlayNs, ...mtu]);
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
  for (const f of existsSync(CLAIM_DIR) ? readdirSync(CLAIM_DIR) : []) {
    if (readClaim(f).endsWith(` ${names.prefix}`)) found.push(`claim ${join(CLAIM_DIR, f)}`);
  }
  const links = await run(['ip', '-j', 'link', 'show']);
  for (const l of JSON.parse(links.stdout || '[]') as { ifname: string }[]) {
    if (l.ifname.startsWith(names.prefix)) found.push(`link ${l.ifname}`);
  }
  return found;
}
