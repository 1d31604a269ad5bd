// Pure: the agents' last IPAM check counts (their containers reports) -> the
// cluster-wide summary of GET /overlay-master/ipam.

import type { IpamCounts, IpamSummary } from '../api/types.js';
import type { AgentRecord } from '../store/store.js';

export function ipamSummary(records: readonly Pick<AgentRecord, 'ip' | 'ipam'>[]): IpamSummary {
  const totals: Record<string, IpamCounts> = {};
  const agents = records.map((r) => {
    const overlays = r.ipam ?? {};
    for (const [name, c] of Object.entries(overlays)) {
      const t = totals[name] ?? { used: 0, leaked: 0, suspect: 0, stranded: 0 };
      totals[name] = {
        used: t.used + c.used,
        leaked: t.leaked + c.leaked,
        suspect: t.suspect + c.suspect,
        stranded: t.stranded + c.stranded,
      };
    }
    return { agent: r.ip, overlays };
  });
  return { agents, totals };
}
