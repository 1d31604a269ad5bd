// Leftovers of test-bed runs that died without their teardown (SIGKILL, power
// loss): found through their underlay claim, whose owner PID is gone, and
// removed by the next run. Only names carrying the dead run's prefix are touched.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './exec.js';
import { pidAlive } from './lifecycle.js';
import { runNames } from './names.js';
import { CLAIM_DIR } from './underlay.js';

export interface Claim {
  pid: number;
  prefix: string;
}

/** Pure: a claim file's text ("<pid> <prefix>") or undefined when it is not one. */
export function parseClaim(text: string): Claim | undefined {
  const m = /^(\d+) ([a-z][a-z0-9]{1,7})$/.exec(text.trim());
  return m ? { pid: Number(m[1]), prefix: m[2]! } : undefined;
}

/** Pure: which of the present names belong to run `prefix`. */
export function ownedBy(prefix: string, present: { netns: string[]; links: string[]; tmpEntries: string[] }) {
  const names = runNames(prefix);
  return {
    netns: present.netns.filter((n) => n.startsWith(`${prefix}-`)),
    links: present.links.filter((l) => l === names.rootLink),
    tmpDirs: present.tmpEntries.filter((d) => d.startsWith(`vxnet-${prefix}-`)),
  };
}

const list = (dir: string): string[] => {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
};

const read = (file: string): string => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
};

/** PIDs in the root namespace whose command line names a path inside one of `dirs` (the dead run's master). */
function pidsUsing(dirs: string[]): number[] {
  if (dirs.length === 0) return [];
  return list('/proc')
    .filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid)
    .filter((p) => read(`/proc/${p}/cmdline`).split('\0').some((arg) => dirs.some((d) => arg === d || arg.startsWith(`${d}/`))))
    .map(Number);
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

/** Removes what dead runs left behind; returns one line per thing removed. */
export async function reapDeadRuns(): Promise<string[]> {
  const removed: string[] = [];
  for (const file of list(CLAIM_DIR)) {
    const claim = parseClaim(read(join(CLAIM_DIR, file)));
    if (!claim || pidAlive(claim.pid)) continue;
    const netns = (await run(['ip', 'netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0] ?? '').filter(Boolean);
    const links = (JSON.parse((await run(['ip', '-j', 'link', 'show'])).stdout || '[]') as { ifname: string }[]).map((l) => l.ifname);
    const owned = ownedBy(claim.prefix, { netns, links, tmpEntries: list(tmpdir()) });
    const tmpDirs = owned.tmpDirs.map((d) => join(tmpdir(), d));
    // Agents and container commands live in the run's namespaces; its master names its temp dir.
    for (const ns of owned.netns) {
      for (const pid of (await run(['ip', 'netns', 'pids', ns])).stdout.split('\n').filter((p) => /^\d+$/.test(p))) {
        kill(Number(pid));
        removed.push(`process ${pid} in ${ns}`);
      }
    }
    for (const pid of pidsUsing(tmpDirs)) {
      kill(pid);
      removed.push(`process ${pid} using ${claim.prefix}'s temp dir`);
    }
    for (const link of owned.links) if ((await run(['ip', 'link', 'del', link])).code === 0) removed.push(`link ${link}`);
    for (const ns of owned.netns) if ((await run(['ip', 'netns', 'del', ns])).code === 0) removed.push(`netns ${ns}`);
    for (const d of tmpDirs) {
      rmSync(d, { recursive: true, force: true });
      removed.push(`dir ${d}`);
    }
    rmSync(join(CLAIM_DIR, file), { force: true });
    removed.push(`claim ${join(CLAIM_DIR, file)} of dead PID ${claim.pid}`);
  }
  return removed;
}
