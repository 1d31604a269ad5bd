// Finding the processes of a host's container engines (for stopping them by
// PID and for leftovers()): everything in the engines' mount namespace
// (dockerd, containerd, shims, conmon), everything in their cgroups, and
// every descendant of those (container processes live in their own mount
// namespaces under a shim or conmon).
import { readdirSync, readFileSync, readlinkSync, rmdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from './wait.js';

/** Pure: `roots` and all their descendants, given each process's parent. */
export function withDescendants(roots: Iterable<number>, parentOf: ReadonlyMap<number, number>): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of parentOf) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  const seen = new Set<number>();
  const stack = [...roots];
  while (stack.length) {
    const pid = stack.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return [...seen].sort((a, b) => a - b);
}

/** Pure: the parent PID in a /proc/<pid>/stat text (the command may hold spaces and parentheses). */
export function parentFromStat(stat: string): number | undefined {
  const m = /\)\s+\S+\s+(\d+)/.exec(stat.slice(stat.lastIndexOf(')')));
  return m ? Number(m[1]) : undefined;
}

const read = (f: string): string => {
  try {
    return readFileSync(f, 'utf8');
  } catch {
    return '';
  }
};

const pids = (): number[] => {
  try {
    return readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .map(Number)
      .filter((p) => p !== process.pid);
  } catch {
    return [];
  }
};

export interface EngineMatch {
  /** Mount namespace inodes of the engines. */
  mntInodes?: number[];
  /** Cgroup path components (e.g. the relative --cgroup-parent) marking the engines' containers. */
  cgroupMarkers?: string[];
  /** Extra roots (e.g. the PIDs found in a dead run's network namespaces). */
  roots?: number[];
}

/** Live PIDs of the engines described by `m`, with their descendants. */
export function engineProcesses(m: EngineMatch): number[] {
  const parentOf = new Map<number, number>();
  const roots = new Set<number>(m.roots ?? []);
  const mnts = new Set((m.mntInodes ?? []).filter(Boolean).map((i) => `mnt:[${i}]`));
  const markers = (m.cgroupMarkers ?? []).filter(Boolean);
  for (const pid of pids()) {
    const ppid = parentFromStat(read(`/proc/${pid}/stat`));
    if (ppid === undefined) continue; // gone
    parentOf.set(pid, ppid);
    if (mnts.size) {
      try {
        if (mnts.has(readlinkSync(`/proc/${pid}/ns/mnt`))) roots.add(pid);
      } catch {
        /* gone or a kernel thread */
      }
    }
    if (markers.length) {
      const cg = read(`/proc/${pid}/cgroup`);
      if (markers.some((k) => cg.includes(`/${k}/`) || cg.includes(`/${k}\n`))) roots.add(pid);
    }
  }
  return withDescendants(roots, parentOf).filter((p) => p !== process.pid && parentOf.has(p));
}

export function killPids(list: readonly number[]): void {
  for (const pid of list) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

/** SIGKILLs the engines' processes until none is left (or `timeoutMs` passes); returns what is still alive. */
export async function killEngineProcesses(m: EngineMatch, timeoutMs = 10_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = engineProcesses(m);
    if (left.length === 0 || Date.now() > deadline) return left;
    killPids(left);
    await sleep(100);
  }
}

/** Synchronous, for process 'exit': SIGKILL until none is left, for at most `timeoutMs`. */
export function killEngineProcessesSync(m: EngineMatch, timeoutMs = 3_000): void {
  const deadline = Date.now() + timeoutMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    const left = engineProcesses(m);
    if (left.length === 0 || Date.now() > deadline) return;
    killPids(left);
    Atomics.wait(pause, 0, 0, 50);
  }
}

/**
 * Directories named `marker` in every cgroup hierarchy of this process (where a
 * relative --cgroup-parent puts the containers), deepest first.
 */
export function cgroupDirs(marker: string): string[] {
  const out: string[] = [];
  const mounts = read('/proc/self/mountinfo')
    .split('\n')
    .map((l) => l.split(' - '))
    .filter(([, r]) => r && /^cgroup2? /.test(r));
  for (const line of read('/proc/self/cgroup').split('\n')) {
    const [, ctrls, path] = line.split(':');
    if (ctrls === undefined || path === undefined) continue;
    const wanted = ctrls === '' ? null : ctrls.split(',');
    for (const [left, right] of mounts) {
      const target = left!.split(' ')[4]!;
      const opts = right!.split(' ')[2]?.split(',') ?? [];
      const isV2 = right!.startsWith('cgroup2 ');
      if (wanted === null ? !isV2 : isV2 || !wanted.every((c) => opts.includes(c))) continue;
      const d = join(target, path, marker);
      if (existsSync(d)) out.push(d);
    }
  }
  return [...new Set(out)];
}

/** Removes cgroup directories (children first); cgroups with processes stay. Returns those left. */
export function removeCgroupDirs(dirs: readonly string[]): string[] {
  const left: string[] = [];
  const rm = (d: string): boolean => {
    let entries: string[] = [];
    try {
      entries = readdirSync(d, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name);
    } catch {
      return true;
    }
    let ok = true;
    for (const e of entries) ok = rm(join(d, e)) && ok;
    try {
      rmdirSync(d);
      return ok;
    } catch {
      return false;
    }
  };
  for (const d of dirs) if (!rm(d)) left.push(d);
  return left;
}

/**
 * podman's cgroupfs manager puts containers under /libpod_parent/libpod-<id> at the root of
 * every hierarchy and conmons under /libpod_parent/conmon, shared by every podman on the
 * machine. Removes the cgroups of containers `ids`, then conmon and libpod_parent when empty.
 */
export function removePodmanCgroups(ids: readonly string[]): void {
  const parents = read('/proc/self/mountinfo')
    .split('\n')
    .map((l) => l.split(' - '))
    .filter(([, r]) => r && /^cgroup2? /.test(r))
    .map(([left]) => join(left!.split(' ')[4]!, 'libpod_parent'));
  for (const p of parents) {
    if (!existsSync(p)) continue;
    removeCgroupDirs(
      ids
        .filter((id) => /^[0-9a-f]{64}$/.test(id))
        .map((id) => join(p, `libpod-${id}`))
        .filter((d) => existsSync(d)),
    );
    rmdirQuiet([join(p, 'conmon'), p]);
  }
}

/** rmdir of each directory (a cgroup still holding cgroups or processes stays). */
export function rmdirQuiet(dirs: readonly string[]): void {
  for (const d of dirs) {
    try {
      rmdirSync(d);
    } catch {
      /* busy, or absent */
    }
  }
}
