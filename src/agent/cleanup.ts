// `vxnet agent cleanup`: removes what the agent created on this host, and
// nothing else. Planning against an empty desired state deletes exactly the
// owned links and routes; the kernel drops the VTEP's entries with it.

import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Exec } from './linux/exec.js';
import { execute } from './linux/execute.js';
import { removeConflists } from './linux/host.js';
import { applyNft, nftTables } from './linux/nft.js';
import { observe } from './linux/observe.js';
import { removeNatScript } from './nat.js';
import { plan } from './plan.js';

export interface CleanupResult {
  removed: string[];
  errors: string[];
}

export async function cleanup(exec: Exec, dirs: { stateDir: string; cniConfDir: string }): Promise<CleanupResult> {
  const removed: string[] = [];
  const errors: string[] = [];
  const observed = await observe(exec);
  const { ops } = plan({ links: [], neighbours: [], fdb: [], routes: [] }, observed);
  const failures = await execute(exec, ops);
  const failed = new Set(failures.map((f) => f.op));
  for (const op of ops) {
    if (!failed.has(op)) removed.push(op.kind === 'link-del' ? `link ${op.name}` : op.kind === 'route-del' ? `route ${op.dst}` : op.kind);
  }
  errors.push(...failures.map((f) => `${f.op.kind}: ${f.error}`));
  try {
    const tables = await nftTables(exec);
    if (tables.size > 0) {
      await applyNft(exec, removeNatScript());
      removed.push(...[...tables].sort().map((family) => `nftables table ${family} vxnet`));
    }
  } catch (err) {
    errors.push(err instanceof Error ? err.message : String(err));
  }
  for (const file of await removeConflists(dirs.cniConfDir, new Set())) removed.push(join(dirs.cniConfDir, file));
  const ipam = join(dirs.stateDir, 'ipam');
  if (await stat(ipam).then(() => true, () => false)) {
    await rm(ipam, { recursive: true, force: true });
    removed.push(ipam);
  }
  return { removed, errors };
}
