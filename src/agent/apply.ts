// Pure: what the kernel does with each op, applied to an observed state. The
// loop uses it to keep a belief of the kernel between full observations, so a
// peer change costs a plan and one batch, not a re-read of every table.

import { VTEP_NAME } from '../api/types.js';
import { OWNER_ALIAS, type FdbSpec, type NeighbourSpec, type ObservedLink, type ObservedState, type Op } from './model.js';

export function applyOps(state: ObservedState, ops: Op[]): ObservedState {
  // An idle full pass plans no ops: no copy of 4,093 peers' tables.
  if (ops.length === 0) return state;
  const links = new Map(state.links.map((l) => [l.name, { ...l, addresses: [...l.addresses] }]));
  const neighbours = new Map<string, NeighbourSpec>(state.neighbours.map((n) => [n.ip, n]));
  // By MAC, then destination: a MAC may (wrongly) point at several hosts.
  const fdb = new Map<string, Map<string, FdbSpec>>();
  for (const f of state.fdb) fdb.set(f.mac, (fdb.get(f.mac) ?? new Map()).set(f.dst, f));
  const routes = new Map(state.routes.map((r) => [r.dst, r]));
  const dropVtepEntries = (withRoutes: boolean): void => {
    neighbours.clear();
    fdb.clear();
    if (withRoutes) for (const [dst, r] of routes) if (r.dev === VTEP_NAME) routes.delete(dst);
  };
  for (const op of ops) {
    switch (op.kind) {
      case 'link-add': {
        const l = op.link;
        const added: ObservedLink = {
          name: l.name,
          kind: l.kind,
          alias: OWNER_ALIAS,
          mtu: l.mtu,
          mac: l.mac ?? '',
          up: true,
          addresses: [],
        };
        if (l.vxlan) added.vxlan = { ...l.vxlan };
        links.set(l.name, added);
        break;
      }
      case 'link-set': {
        const l = links.get(op.name);
        if (!l) break;
        if (op.mtu) l.mtu = op.mtu;
        if (op.up) l.up = true;
        if (op.mac) {
          l.mac = op.mac;
          if (l.name === VTEP_NAME) dropVtepEntries(false);
        }
        break;
      }
      case 'link-del':
        links.delete(op.name);
        if (op.name === VTEP_NAME) dropVtepEntries(true);
        break;
      case 'addr-add':
        links.get(op.dev)?.addresses.push(op.address);
        break;
      case 'addr-del': {
        const l = links.get(op.dev);
        if (l) l.addresses = l.addresses.filter((a) => a !== op.address);
        break;
      }
      case 'neigh-replace':
        neighbours.set(op.ip, { ip: op.ip, mac: op.mac });
        break;
      case 'neigh-del':
        neighbours.delete(op.ip);
        break;
      case 'fdb-replace':
        fdb.set(op.mac, new Map([[op.dst, { mac: op.mac, dst: op.dst }]]));
        break;
      case 'fdb-del':
        fdb.get(op.mac)?.delete(op.dst);
        break;
      case 'route-replace':
        routes.set(op.dst, { dst: op.dst, via: op.via, dev: VTEP_NAME });
        break;
      case 'route-del':
        routes.delete(op.dst);
        break;
    }
  }
  return {
    links: [...links.values()],
    neighbours: [...neighbours.values()],
    fdb: [...fdb.values()].flatMap((byDst) => [...byDst.values()]),
    routes: [...routes.values()],
  };
}
