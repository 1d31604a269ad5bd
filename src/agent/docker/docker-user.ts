// Adapter: keeps vxnet's rules at the top of DOCKER-USER with one
// `iptables-restore --noflush` transaction per family. Nothing happens where
// the chain does not exist (no dockerd has run in this namespace).

import type { Exec } from '../linux/exec.js';
import { DOCKER_USER, forwardRules, forwardScript } from './forward.js';

const TOOLS = { 4: ['iptables', 'iptables-restore'], 6: ['ip6tables', 'ip6tables-restore'] } as const;

/** Ensures the rules for these subnets; returns the families it changed. Throws with the tool's error. */
export async function syncDockerUser(exec: Exec, subnets: { v4: string[]; v6: string[] }): Promise<number[]> {
  const changed: number[] = [];
  for (const family of [4, 6] as const) {
    const [list, restore] = TOOLS[family];
    const listing = await exec(list, ['-w', '5', '-S', DOCKER_USER]);
    if (listing.code !== 0) continue; // no such chain (or no such tool): Docker does not filter this family here
    const script = forwardScript(listing.stdout, forwardRules(family === 4 ? subnets.v4 : subnets.v6));
    if (!script) continue;
    const r = await exec(restore, ['--noflush', '-w', '5'], script);
    if (r.code !== 0) throw new Error(`${restore} (${DOCKER_USER}): ${r.stderr.trim() || `exit ${r.code}`}`);
    changed.push(family);
  }
  return changed;
}

/** Removes vxnet's rules from DOCKER-USER (cleanup); returns how many it removed. */
export async function removeDockerUser(exec: Exec): Promise<number> {
  let removed = 0;
  for (const family of [4, 6] as const) {
    const [list, restore] = TOOLS[family];
    const listing = await exec(list, ['-w', '5', '-S', DOCKER_USER]);
    if (listing.code !== 0) continue;
    const script = forwardScript(listing.stdout, []);
    if (!script) continue;
    const r = await exec(restore, ['--noflush', '-w', '5'], script);
    if (r.code !== 0) throw new Error(`${restore} (${DOCKER_USER}): ${r.stderr.trim() || `exit ${r.code}`}`);
    removed += script.split('\n').filter((l) => l.startsWith('-D ')).length;
  }
  return removed;
}
