// Utilisation per overlay and per agent, from the stored records and the
// config: agent subnets and VTEP addresses held and free, and container
// addresses used and free from the agents' containers reports. Pure.
//
// Capacity of an agent's subnet: each bridge half it has (CNI containers use
// the lower half, m-<name>; Docker the upper, d-<name>) gives its usable
// addresses (network, gateway and, IPv4, broadcast excluded; config/plan.ts).

import type { UseCount, UtilisationView } from '../api/types.js';
import type { CanonicalConfig } from '../config/canonical.js';
import { familyCapacity } from '../config/plan.js';
import { contains, formatCidr, parseCidr, parseIp } from '../net/ip.js';
import type { AgentRecord } from '../store/store.js';
import { poolKeysOf, poolsOf, quarantinedKeysOf } from './pool-thresholds.js';

export function useCount(used: number, total: number): UseCount {
  return { used, free: Math.max(0, total - used), total, percent: total > 0 ? Math.round((used / total) * 1000) / 10 : 0 };
}

const FAMILY_FIELD = { 4: 'subnet', 6: 'subnet6' } as const;

/** Containers the agent reports in `subnet` (one overlay, one family). */
function containersIn(record: AgentRecord, overlay: string, subnet: string, family: 4 | 6): number {
  const parsed = parseCidr(subnet);
  if (!parsed.ok) return 0;
  let n = 0;
  for (const c of record.containers) {
    if (c.network !== overlay) continue;
    const text = family === 4 ? c.ip : c.ip6;
    const ip = text ? parseIp(text) : undefined;
    if (ip && contains(parsed.cidr, ip)) n += 1;
  }
  return n;
}

/**
 * `records`: every stored agent, expired ones included (their blocks are
 * held until their quarantine ends). Containers count for live agents only.
 */
export function utilisation(config: CanonicalConfig, records: readonly AgentRecord[], revision: number): UtilisationView {
  const pools = poolsOf(config);
  const held = new Map<string, number>();
  const quarantined = new Map<string, number>();
  for (const r of records) {
    for (const key of poolKeysOf(r)) held.set(key, (held.get(key) ?? 0) + 1);
    for (const key of quarantinedKeysOf(r)) quarantined.set(key, (quarantined.get(key) ?? 0) + 1);
  }
  const live = records.filter((r) => !r.expired);
  const agents: UtilisationView['agents'] = live.map((r) => ({ ip: r.ip, overlays: [] }));
  const overlays: UtilisationView['overlays'] = config.overlays.map((o) => ({
    name: o.name,
    enabled: o.enabled,
    families: [o.v4, o.v6].flatMap((range) => {
      if (!range) return [];
      const family = range.subnet.family;
      const key = `overlay ${o.name} ${family}`;
      const perHalf = Number(familyCapacity(range.subnet, range.prefix).containersPerBridgeHalf);
      let used = 0;
      let total = 0;
      live.forEach((r, i) => {
        const subnet = r.overlays[o.name]?.[FAMILY_FIELD[family]];
        if (!subnet) return;
        const halves = (r.networkConfig.mesos_bridge ? 1 : 0) + (r.networkConfig.docker_bridge ? 1 : 0);
        const count = useCount(containersIn(r, o.name, subnet, family), halves * perHalf);
        agents[i]!.overlays.push({ name: o.name, family, subnet, containers: count });
        used += count.used;
        total += count.total;
      });
      return [
        {
          family,
          cidr: formatCidr(range.subnet),
          prefix: range.prefix,
          subnets: { ...useCount(held.get(key) ?? 0, pools.get(key)?.total ?? 0), quarantined: quarantined.get(key) ?? 0 },
          containers: useCount(used, total),
        },
      ];
    }),
  }));
  const vtep = [...pools.values()]
    .filter((p) => p.pool === 'vtep')
    .map((p) => ({ family: p.family, cidr: p.cidr, ...useCount(held.get(p.key) ?? 0, p.total) }));
  return { revision, vtep, overlays, agents };
}
