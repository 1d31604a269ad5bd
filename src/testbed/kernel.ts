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
    neighbours: neigh.filter((n) => n.state?.includes('PERMANENT')).map((n) => `${n.dst} ${n.lladdr}`).sort(),
    fdb: fdb.filter((f) => f.dst).map((f) => `${f.mac} ${f.dst}`).sort(),
  };
}
