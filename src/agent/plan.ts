// Pure: desired + observed kernel state -> the operations that turn one into
// the other. Only entries vxnet owns are ever changed or removed. Order:
// links, addresses, stale routes/neighbours/FDB, then neighbour and FDB before
// the routes that rely on them, and stale links last.

import { VTEP_NAME } from '../api/types.js';
import type { DesiredState, LinkSpec, ObservedLink, ObservedState, Op } from './model.js';
import { OWNER_ALIAS } from './model.js';
import type { Problem } from './desired.js';

export interface PlanResult {
  ops: Op[];
  /** Links with our names that vxnet did not create: left alone, reported. */
  problems: Problem[];
}

const byKey = <T>(items: T[], key: (item: T) => string): Map<string, T> => {
  const map = new Map<string, T>();
  for (const item of items) if (!map.has(key(item))) map.set(key(item), item);
  return map;
};
const sortedKeys = <T>(map: Map<string, T>): string[] => [...map.keys()].sort();

function sameVxlan(link: LinkSpec, observed: ObservedLink): boolean {
  const a = link.vxlan;
  const b = observed.vxlan;
  return !!a && !!b && a.vni === b.vni && a.port === b.port && a.local === b.local && a.dev === b.dev && a.learning === b.learning;
}

interface LinkPlan {
  early: Op[];
  addresses: Op[];
  /** The VTEP is (re)created: its entries and routes vanish. */
  vtepRecreated: boolean;
  /** The VTEP gets a new MAC: the kernel drops its neighbour entries. */
  vtepNewMac: boolean;
}

function planLink(link: LinkSpec, observed: ObservedLink | undefined, problems: Problem[]): LinkPlan {
  const scope = link.scope;
  const fresh = (): LinkPlan => ({
    early: [{ kind: 'link-add', link, scope }],
    addresses: link.addresses.map((address) => ({ kind: 'addr-add', dev: link.name, address, scope })),
    vtepRecreated: link.kind === 'vxlan',
    vtepNewMac: false,
  });
  if (!observed) return fresh();
  if (observed.alias !== OWNER_ALIAS) {
    problems.push({ scope, message: `interface ${link.name} exists but was not created by vxnet: remove it or rename it` });
    return { early: [], addresses: [], vtepRecreated: false, vtepNewMac: false };
  }
  if (observed.kind !== link.kind || (link.kind === 'vxlan' && !sameVxlan(link, observed))) {
    const plan = fresh();
    plan.early.unshift({ kind: 'link-del', name: link.name, scope });
    return plan;
  }
  const set: Extract<Op, { kind: 'link-set' }> = { kind: 'link-set', name: link.name, scope };
  if (observed.mtu !== link.mtu) set.mtu = link.mtu;
  if (link.mac && observed.mac !== link.mac) set.mac = link.mac;
  if (!observed.up) set.up = true;
  const early: Op[] = Object.keys(set).length > 3 ? [set] : [];
  const have = new Set(observed.addresses);
  const want = new Set(link.addresses);
  const addresses: Op[] = [
    ...observed.addresses
      .filter((a) => !want.has(a))
      .sort()
      .map((address): Op => ({ kind: 'addr-del', dev: link.name, address, scope })),
    ...link.addresses.filter((a) => !have.has(a)).map((address): Op => ({ kind: 'addr-add', dev: link.name, address, scope })),
  ];
  return { early, addresses, vtepRecreated: false, vtepNewMac: link.kind === 'vxlan' && set.mac !== undefined };
}

/** Skips ops of overlays in `skipScopes` (resting after failures, see status.ts). */
export function plan(desired: DesiredState, observed: ObservedState, skipScopes: ReadonlySet<string> = new Set()): PlanResult {
  const problems: Problem[] = [];
  const observedLinks = byKey(observed.links, (l) => l.name);
  const desiredLinks = byKey(desired.links, (l) => l.name);
  const early: Op[] = [];
  const addresses: Op[] = [];
  let vtepRecreated = false;
  let vtepNewMac = false;
  for (const link of desired.links) {
    const p = planLink(link, observedLinks.get(link.name), problems);
    early.push(...p.early);
    addresses.push(...p.addresses);
    vtepRecreated ||= p.vtepRecreated;
    vtepNewMac ||= p.vtepNewMac;
  }
  const staleLinks = observed.links
    .filter((l) => l.alias === OWNER_ALIAS && !desiredLinks.has(l.name) && !desired.keep?.includes(l.name))
    .map((l) => l.name)
    .sort();
  const vtepWanted = desiredLinks.has(VTEP_NAME);
  const vtepVanishes = vtepRecreated || !vtepWanted;
  const vtepIsOurs = vtepRecreated || observedLinks.get(VTEP_NAME)?.alias === OWNER_ALIAS;

  // Entries on a VTEP that is about to be recreated or deleted vanish with it;
  // a new MAC flushes its neighbour and FDB entries.
  const seenNeigh = byKey(vtepVanishes || vtepNewMac ? [] : observed.neighbours, (n) => n.ip);
  const seenFdb = vtepVanishes || vtepNewMac ? [] : observed.fdb;
  const seenRoutes = byKey(
    observed.routes.filter((r) => !(vtepVanishes && r.dev === VTEP_NAME)),
    (r) => r.dst,
  );
  const wantNeigh = byKey(vtepWanted && vtepIsOurs ? desired.neighbours : [], (n) => n.ip);
  const wantFdb = byKey(vtepWanted && vtepIsOurs ? desired.fdb : [], (f) => f.mac);
  const wantRoutes = byKey(vtepWanted && vtepIsOurs ? desired.routes : [], (r) => r.dst);

  const routeDel: Op[] = [];
  const routeAdd: Op[] = [];
  for (const dst of sortedKeys(seenRoutes)) {
    const seen = seenRoutes.get(dst)!;
    const want = wantRoutes.get(dst);
    if (!want) routeDel.push({ kind: 'route-del', dst, via: seen.via, dev: seen.dev, scope: seen.scope });
  }
  for (const dst of sortedKeys(wantRoutes)) {
    const want = wantRoutes.get(dst)!;
    const seen = seenRoutes.get(dst);
    if (!seen || seen.via !== want.via || seen.dev !== VTEP_NAME)
      routeAdd.push({ kind: 'route-replace', dst, via: want.via, scope: want.scope });
  }

  const neighDel: Op[] = [];
  const neighAdd: Op[] = [];
  for (const ip of sortedKeys(seenNeigh)) if (!wantNeigh.has(ip)) neighDel.push({ kind: 'neigh-del', ip });
  for (const ip of sortedKeys(wantNeigh)) {
    const want = wantNeigh.get(ip)!;
    if (seenNeigh.get(ip)?.mac !== want.mac) neighAdd.push({ kind: 'neigh-replace', ip, mac: want.mac });
  }

  const fdbDel: Op[] = [];
  const fdbAdd: Op[] = [];
  const seenFdbKeys = new Set(seenFdb.map((f) => `${f.mac} ${f.dst}`));
  for (const f of [...seenFdb].sort((a, b) => (a.mac === b.mac ? (a.dst < b.dst ? -1 : 1) : a.mac < b.mac ? -1 : 1))) {
    if (wantFdb.get(f.mac)?.dst !== f.dst) fdbDel.push({ kind: 'fdb-del', mac: f.mac, dst: f.dst });
  }
  for (const mac of sortedKeys(wantFdb)) {
    const want = wantFdb.get(mac)!;
    if (!seenFdbKeys.has(`${mac} ${want.dst}`)) fdbAdd.push({ kind: 'fdb-replace', mac, dst: want.dst });
  }

  const linkDel: Op[] = staleLinks.map((name) => ({ kind: 'link-del', name }));
  const ops = [...early, ...addresses, ...routeDel, ...neighDel, ...fdbDel, ...fdbAdd, ...neighAdd, ...routeAdd, ...linkDel].filter(
    (op) => !(op.scope && skipScopes.has(op.scope)),
  );
  return { ops, problems };
}
