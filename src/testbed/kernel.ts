// Reads what the agent programmed for its peers in a host namespace.
import { runOk } from './exec.js';

export interface PeerEntries {
  /** Route destinations via the VTEP, e.g. "192.168.1.0/24". */
  routes: string[];
  /** Neighbour entries on the VTEP: "ip lladdr". */
  neighbours: string[];
  /** FDB entries on the VTEP: "mac dst". */
  fdb: string[];
}

export async function peerEntries(ns: string, vtep = 'vtep1024'): Promise<PeerEntries> {
  const json = async <T>(argv: string[]): Promise<T[]> => JSON.parse((await runOk(argv)) || '[]') as T[];
  const routes = await json<{ dst: string }>(['ip', '-n', ns, '-j', 'route', 'show', 'dev', vtep]);
  const neigh = await json<{ dst: string; lladdr?: string; state?: string[] }>(['ip', '-n', ns, '-j', 'neigh', 'show', 'dev', vtep]);
  const fdb = await json<{ mac: string; dst?: string }>(['bridge', '-n', ns, '-j', 'fdb', 'show', 'dev', vtep]);
  return {
    routes: routes.map((r) => r.dst).sort(),
    neighbours: neigh
      .filter((n) => n.state?.includes('PERMANENT'))
      .map((n) => `${n.dst} ${n.lladdr}`)
      .sort(),
    fdb: fdb
      .filter((f) => f.dst)
      .map((f) => `${f.mac} ${f.dst}`)
      .sort(),
  };
}

// The underlay's own IPv6 link-local address appears some time after the link
// comes up; it is not the agent's doing, so snapshots leave it out.
const underlayIpv6 = (line: string) => /\bul0\b/.test(line) && /fe80|ff00|inet6/.test(line);

/** Everything in a host namespace an agent could add, as comparable text. */
export async function hostSnapshot(ns: string): Promise<Record<string, string[]>> {
  const lines = async (argv: string[]) =>
    (await runOk(argv))
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !underlayIpv6(l))
      .sort();
  return {
    links: await lines(['ip', '-n', ns, '-o', 'link', 'show']).then((l) => l.map((x) => x.split(':')[1]!.trim().split('@')[0]!)),
    addresses: await lines(['ip', '-n', ns, '-o', 'addr', 'show']).then((l) => l.map((x) => x.split(/\s+/).slice(1, 4).join(' '))),
    routes: await lines(['ip', '-n', ns, 'route', 'show', 'table', 'all']),
    neighbours: await lines(['ip', '-n', ns, 'neigh', 'show', 'nud', 'permanent']),
    fdb: await lines(['bridge', '-n', ns, 'fdb', 'show']),
    nftables: await lines(['ip', 'netns', 'exec', ns, 'nft', 'list', 'ruleset']),
  };
}
