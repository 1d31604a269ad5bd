// Pure: the nftables ruleset vxnet owns. Traffic from a masqueraded overlay
// (config `masquerade`, default true) to anything that is not an overlay
// subnet leaves with the host's address; overlay-to-overlay keeps its source.
// With no overlay masqueraded a family gets no table, so the kernel tracks no
// connections for vxnet there. The whole table is replaced in one transaction.

import type { AgentInfo } from '../api/types.js';
import { parseCidr } from '../net/ip.js';
import { canonicalCidr } from './names.js';

export const NAT_TABLE = 'vxnet';

export interface NatSubnets {
  /** Every overlay subnet: traffic between them keeps its source. */
  v4: string[];
  v6: string[];
  /** The subnets of the overlays whose traffic to the outside is masqueraded. */
  masqueraded4: string[];
  masqueraded6: string[];
}

/** Every overlay subnet the cluster uses, from this agent's overlay info, and which of them are masqueraded. */
export function natSubnets(me: AgentInfo): NatSubnets {
  const all = { 4: new Set<string>(), 6: new Set<string>() };
  const masqueraded = { 4: new Set<string>(), 6: new Set<string>() };
  for (const overlay of me.overlays) {
    for (const subnet of [overlay.info?.subnet, overlay.info?.subnet6]) {
      const canonical = canonicalCidr(subnet);
      if (!canonical) continue;
      const r = parseCidr(canonical);
      if (!r.ok) continue;
      all[r.cidr.family].add(canonical);
      if (overlay.info?.masquerade !== false) masqueraded[r.cidr.family].add(canonical);
    }
  }
  const sorted = (set: Set<string>) => [...set].sort();
  return { v4: sorted(all[4]), v6: sorted(all[6]), masqueraded4: sorted(masqueraded[4]), masqueraded6: sorted(masqueraded[6]) };
}

function family(nftFamily: 'ip' | 'ip6', overlays: string[], masqueraded: string[]): string {
  // "add" then "delete" makes the delete safe when the table is absent.
  const reset = `add table ${nftFamily} ${NAT_TABLE}\ndelete table ${nftFamily} ${NAT_TABLE}\n`;
  if (masqueraded.length === 0) return reset;
  const type = nftFamily === 'ip' ? 'ipv4_addr' : 'ipv6_addr';
  const set = (name: string, elements: string[]) =>
    `  set ${name} {\n    type ${type}\n    flags interval\n    auto-merge\n    elements = { ${elements.join(', ')} }\n  }\n`;
  return (
    reset +
    `table ${nftFamily} ${NAT_TABLE} {\n` +
    set('overlays', overlays) +
    set('masqueraded', masqueraded) +
    `  chain postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n` +
    `    ${nftFamily} saddr @masqueraded ${nftFamily} daddr != @overlays masquerade\n  }\n}\n`
  );
}

/** One `nft -f` script that replaces both of vxnet's tables (or removes them when unused). */
export function renderNat(subnets: NatSubnets): string {
  return family('ip', subnets.v4, subnets.masqueraded4) + family('ip6', subnets.v6, subnets.masqueraded6);
}

/** The script that removes vxnet's tables, whether or not they exist. */
export const removeNatScript = (): string => renderNat({ v4: [], v6: [], masqueraded4: [], masqueraded6: [] });
