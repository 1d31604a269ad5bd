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
import { removeDockerUser } from './docker/docker-user.js';
import { describeEngineError, type DockerEngine } from './docker/engine.js';
import { OWNER_LABEL, type ObservedDockerNetwork } from './docker/networks.js';

export interface CleanupResult {
  removed: string[];
  errors: string[];
}

/**
 * vxnet's Docker networks go first (Docker would otherwise hold on to the
 * d- bridges). Containers still on one make the whole cleanup refuse, naming
 * them, unless `force`: then they are disconnected.
 */
async function cleanupDocker(docker: DockerEngine, force: boolean, removed: string[]): Promise<string[]> {
  let networks: ObservedDockerNetwork[];
  try {
    networks = await docker.networks(new Set());
  } catch (err) {
    const why = describeEngineError(docker.endpoint, err);
    if (why.startsWith('not found')) return []; // no engine: nothing of ours in it can be in use
    return [`docker: ${why}: start the engine or pass the right --docker-host, then run cleanup again`];
  }
  const ours = networks.filter((n) => n.labels[OWNER_LABEL] !== undefined);
  const busy = ours.filter((n) => n.containers.length > 0);
  if (busy.length > 0 && !force) {
    const list = busy.map((n) => `${n.name} (${n.containers.map((c) => c.name || c.id.slice(0, 12)).join(', ')})`).join('; ');
    return [
      `containers still use vxnet's Docker networks: ${list}; stop them first, or pass --force to disconnect them; nothing was removed`,
    ];
  }
  const errors: string[] = [];
  for (const n of ours) {
    try {
      for (const c of n.containers) await docker.disconnect(n.id, c.id);
      await docker.removeNetwork(n.id);
      removed.push(`docker network ${n.name}`);
    } catch (err) {
      errors.push(`docker network ${n.name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return errors;
}

export async function cleanup(
  exec: Exec,
  dirs: { stateDir: string; cniConfDir: string },
  options: { docker?: DockerEngine; force?: boolean } = {},
): Promise<CleanupResult> {
  const removed: string[] = [];
  const errors: string[] = [];
  if (options.docker) {
    const dockerErrors = await cleanupDocker(options.docker, options.force === true, removed);
    if (dockerErrors.length > 0) return { removed, errors: dockerErrors };
  }
  try {
    const rules = await removeDockerUser(exec);
    if (rules > 0) removed.push(`${rules} rule(s) in DOCKER-USER`);
  } catch (err) {
    errors.push(err instanceof Error ? err.message : String(err));
  }
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
  if (
    await stat(ipam).then(
      () => true,
      () => false,
    )
  ) {
    await rm(ipam, { recursive: true, force: true });
    removed.push(ipam);
  }
  return { removed, errors };
}
