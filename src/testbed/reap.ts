// Leftovers of test-bed runs that died without their teardown (SIGKILL, power
// loss): found through their underlay claim, whose owner PID is gone, and
// removed by the next run. Only names carrying the dead run's prefix are touched.
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './exec.js';
import { pidAlive } from './lifecycle.js';
import { runNames } from './names.js';
import { CLAIM_DIR } from './underlay.js';
import { cgroupDirs, engineProcesses, killEngineProcesses, removeCgroupDirs, removePodmanCgroups } from './engine-procs.js';
import { mountsUnder } from './mount-ns.js';

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

/** Pure: the cgroup parents (engines.ts engineCgroupParent) of the run's host namespaces among `netns`. */
export function engineCgroupParents(prefix: string, netns: readonly string[]): string[] {
  return netns
    .map((n) => new RegExp(`^${prefix}-h(\\d+)$`).exec(n))
    .filter((m) => m !== null)
    .map((m) => `vxnet-${prefix}-h${m[1]}`);
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
    .filter((p) =>
      read(`/proc/${p}/cmdline`)
        .split('\0')
        .some((arg) => dirs.some((d) => arg === d || arg.startsWith(`${d}/`))),
    )
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
    const netns = (await run(['ip', 'netns', 'list'])).stdout
      .split('\n')
      .map((l) => l.split(' ')[0] ?? '')
      .filter(Boolean);
    const links = (JSON.parse((await run(['ip', '-j', 'link', 'show'])).stdout || '[]') as { ifname: string }[]).map((l) => l.ifname);
    const owned = ownedBy(claim.prefix, { netns, links, tmpEntries: list(tmpdir()) });
    const tmpDirs = owned.tmpDirs.map((d) => join(tmpdir(), d));
    // Agents, container commands and engines (dockerd, containerd, shims, conmon) live in the run's
    // namespaces; engine containers are their descendants or sit in the run's cgroups.
    const cgroupParents = engineCgroupParents(claim.prefix, owned.netns);
    const mntInodes = tmpDirs
      .flatMap((d) =>
        list(d)
          .filter((h) => /^h\d+$/.test(h))
          .map((h) => {
            try {
              return statSync(join(d, h, 'engines', 'mnt', 'pin', 'mnt')).ino;
            } catch {
              return 0;
            }
          }),
      )
      .filter(Boolean);
    const roots: number[] = [];
    for (const ns of owned.netns) {
      for (const pid of (await run(['ip', 'netns', 'pids', ns])).stdout.split('\n').filter((p) => /^\d+$/.test(p))) roots.push(Number(pid));
    }
    const engineMatch = { roots, cgroupMarkers: cgroupParents, mntInodes };
    for (const pid of engineProcesses(engineMatch)) removed.push(`process ${pid} of ${claim.prefix}`);
    await killEngineProcesses(engineMatch, 5_000);
    for (const pid of pidsUsing(tmpDirs)) {
      kill(pid);
      removed.push(`process ${pid} using ${claim.prefix}'s temp dir`);
    }
    for (const link of owned.links) if ((await run(['ip', 'link', 'del', link])).code === 0) removed.push(`link ${link}`);
    for (const ns of owned.netns) if ((await run(['ip', 'netns', 'del', ns])).code === 0) removed.push(`netns ${ns}`);
    // Engine mount namespaces are pinned by bind mounts in the temp dir: unmount before removing.
    for (const m of mountsUnder(read('/proc/self/mountinfo'), tmpDirs)) {
      if ((await run(['umount', m])).code !== 0) await run(['umount', '-l', m]);
      removed.push(`mount ${m}`);
    }
    for (const marker of cgroupParents) {
      for (const d of cgroupDirs(marker)) removed.push(`cgroup ${d}`);
      removeCgroupDirs(cgroupDirs(marker));
    }
    // The dead run's podman containers (by ID, from its storage) and podman's shared parents when empty.
    removePodmanCgroups(
      tmpDirs.flatMap((d) =>
        list(d).flatMap((h) => [
          ...list(join(d, h, 'engines', 'podman', 'root', 'overlay-containers')),
          ...list(join(d, h, 'engines', 'podman', 'root', 'vfs-containers')),
        ]),
      ),
    );
    for (const d of tmpDirs) {
      rmSync(d, { recursive: true, force: true });
      removed.push(`dir ${d}`);
    }
    rmSync(join(CLAIM_DIR, file), { force: true });
    removed.push(`claim ${join(CLAIM_DIR, file)} of dead PID ${claim.pid}`);
  }
  return removed;
}
