// Pure: the nftables ruleset vxnet owns. Traffic from an overlay subnet to
// anything that is not an overlay subnet is masqueraded; overlay-to-overlay
// keeps its source. The whole table is replaced in one transaction.

import type { AgentInfo } from '../api/types.js';
import { parseCidr } from '../net/ip.js';
import { canonicalCidr } from './names.js';

export const NAT_TABLE = 'vxnet';

export interface NatSubnets {
  v4: string[];
  v6: string[];
}

/** Every overlay subnet the cluster uses, from this agent's overlay info. */
export function natSubnets(me: AgentInfo): NatSubnets {
  const v4 = new Set<string>();
  const v6 = new Set<string>();
  for (const overlay of me.overlays) {
    for (const subnet of [overlay.info?.subnet, overlay.info?.subnet6]) {
      const canonical = canonicalCidr(subnet);
      if (!canonical) continue;
      const r = parseCidr(canonical);
      if (r.ok) (r.cidr.family === 4 ? v4 : v6).add(canonical);
    }
  }
  return { v4: [...v4].sort(), v6: [...v6].sort() };
}

function family(nftFamily: 'ip' | 'ip6', subnets: string[]): string {
  // "add" then "delete" makes the delete safe when the table is absent.
  const reset = `add table ${nftFamily} ${NAT_TABLE}\ndelete table ${nftFamily} ${NAT_TABLE}\n`;
  if (subnets.length === 0) return reset;
  const type = nftFamily === 'ip' ? 'ipv4_addr' : 'ipv6_addr';
  return (
    reset +
    `table ${nftFamily} ${NAT_TABLE} {\n` +
    `  set overlays {\n    type ${type}\n    flags interval\n    auto-merge\n    elements = { ${subnets.join(', ')} }\n  }\n` +
    `  chain postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n` +
    `    ${nftFamily} saddr @overlays ${nftFamily} daddr != @overlays masquerade\n  }\n}\n`
  );
}

/** One `nft -f` script that replaces both of vxnet's tables (or removes them when unused). */
export function renderNat(subnets: NatSubnets): string {
  return family('ip', subnets.v4) + family('ip6', subnets.v6);
}

/** The script that removes vxnet's tables, whether or not they exist. */
export const removeNatScript = (): string => renderNat({ v4: [], v6: [] });
