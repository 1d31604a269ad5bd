// Applies vxnet's nftables tables as one transaction (`nft -f -`).

import { VxnetError } from '../../errors.js';
import { NAT_TABLE } from '../nat.js';
import type { Exec } from './exec.js';

export async function applyNft(exec: Exec, script: string): Promise<void> {
  const r = await exec('nft', ['-f', '-'], script);
  if (r.code !== 0) throw new VxnetError('KERNEL', `nft: ${r.stderr.trim() || `exited with ${r.code}`}`);
}

/** Families ("ip", "ip6") in which vxnet's table currently exists. */
export async function nftTables(exec: Exec): Promise<Set<string>> {
  const r = await exec('nft', ['-j', 'list', 'tables']);
  if (r.code !== 0) throw new VxnetError('KERNEL', `nft list tables: ${r.stderr.trim()}`);
  const found = new Set<string>();
  try {
    const parsed = JSON.parse(r.stdout) as { nftables?: { table?: { family?: string; name?: string } }[] };
    for (const item of parsed.nftables ?? []) if (item.table?.name === NAT_TABLE && item.table.family) found.add(item.table.family);
  } catch {
    throw new VxnetError('KERNEL', `nft -j list tables printed no JSON`);
  }
  return found;
}
