// One persistent private mount namespace per test host, for dockerd and
// podman: sysfs of the host's network namespace, the cgroup hierarchies again
// (sysfs hides them) and per-host directories over /run, /etc/docker, /opt
// and /var/lib, so that what the engines write outside their roots stays in
// the run's temp dir. Entered with `nsenter --mount=<file> --net=<netns>`.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, runOk, runSyncQuiet } from './exec.js';

/** Paths hidden inside the engine namespace behind a per-host directory (engine path, dir name under `root`). */
export const OVERMOUNTS: readonly (readonly [string, string])[] = [
  ['/run', 'run'],
  ['/etc/docker', 'etc-docker'],
  ['/opt', 'opt'],
  ['/var/lib', 'var-lib'],
];

export interface MountNs {
  /** The host's network namespace name (/run/netns/<netns>). */
  netns: string;
  /** The nsfs bind mount pinning the namespace. */
  file: string;
  /** The namespace's inode (`mnt:[inode]` in /proc/<pid>/ns/mnt), kept after destroy. */
  inode: number;
  /** Per-host directories mounted over OVERMOUNTS inside the namespace. */
  root: string;
  /** The argv running `argv` in this mount namespace and the host's network namespace. */
  enter(argv: readonly string[]): string[];
  /** Where a path under an overmounted directory, as the engines see it, is in the root namespace. */
  outside(path: string): string;
  /** Unmounts the pin (the namespace ends with its last process); safe to call twice. */
  destroy(): Promise<void>;
  destroySync(): void;
}

export interface MountEntry {
  target: string;
  fstype: string;
  /** Super options (after the " - fstype source" separator). */
  superOptions: string[];
}

const unescapeOctal = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** Pure: the entries of a /proc/<pid>/mountinfo text. */
export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const target = left.split(' ')[4];
    const [fstype, , superOpts] = right.split(' ');
    if (!target || !fstype) continue;
    out.push({ target: unescapeOctal(target), fstype, superOptions: (superOpts ?? '').split(',') });
  }
  return out;
}

/** Pure: mount points at or below `dir` (deepest first, so they can be unmounted in order). */
export function mountsUnder(mountinfo: string, dirs: readonly string[]): string[] {
  const hits = parseMountinfo(mountinfo)
    .map((m) => m.target)
    .filter((t) => dirs.some((d) => t === d || t.startsWith(`${d}/`)));
  return [...new Set(hits)].sort((a, b) => b.length - a.length);
}

// Mount flags and v1 hierarchy flags, none of them a controller.
const GENERIC_OPTS = new Set([
  'rw',
  'ro',
  'relatime',
  'noatime',
  'nosuid',
  'nodev',
  'noexec',
  'seclabel',
  'xattr',
  'noprefix',
  'clone_children',
  'cpuset_v2_mode',
  'favordynmods',
  'none',
]);

/**
 * Pure: the argv (to run inside the namespace) that mounts again the cgroup
 * hierarchies found under /sys/fs/cgroup in `mountinfo` (the root
 * namespace's), so v1, hybrid and v2-only hosts are all mirrored. Falls back
 * to the documented v1 layout when none are found.
 */
export function cgroupMountPlan(mountinfo: string): string[][] {
  let found = parseMountinfo(mountinfo).filter((m) => m.target === '/sys/fs/cgroup' || m.target.startsWith('/sys/fs/cgroup/'));
  if (!found.some((m) => m.fstype === 'cgroup' || m.fstype === 'cgroup2')) {
    found = [
      { target: '/sys/fs/cgroup', fstype: 'tmpfs', superOptions: ['mode=755'] },
      ...['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids', 'name=systemd'].map((c) => ({
        target: `/sys/fs/cgroup/${c.replace('name=', '')}`,
        fstype: 'cgroup',
        superOptions: [c],
      })),
      { target: '/sys/fs/cgroup/unified', fstype: 'cgroup2', superOptions: [] },
    ];
  }
  const plan: string[][] = [];
  for (const m of found) {
    if (m.fstype === 'tmpfs') {
      plan.push(['mount', '-t', 'tmpfs', '-o', 'mode=755', 'cgroup', m.target]);
    } else if (m.fstype === 'cgroup') {
      const opts = m.superOptions.filter((o) => o && !GENERIC_OPTS.has(o) && !o.startsWith('release_agent='));
      const controllers = opts.filter((o) => !o.includes('='));
      const named = opts.filter((o) => o.startsWith('name='));
      const o = controllers.length ? [...controllers, ...named] : ['none', ...named];
      if (m.target !== '/sys/fs/cgroup') plan.push(['mkdir', '-p', m.target]);
      plan.push(['mount', '-t', 'cgroup', '-o', o.join(','), 'cgroup', m.target]);
    } else if (m.fstype === 'cgroup2') {
      if (m.target !== '/sys/fs/cgroup') plan.push(['mkdir', '-p', m.target]);
      plan.push(['mount', '-t', 'cgroup2', 'cgroup2', m.target]);
    }
  }
  return plan;
}

/** Pure: the nsenter argv for a mount namespace file and a named network namespace. */
export const nsenterArgv = (file: string, netns: string, argv: readonly string[]): string[] => [
  'nsenter',
  `--mount=${file}`,
  `--net=/run/netns/${netns}`,
  '--',
  ...argv,
];

/**
 * Creates the namespace under `dir` (`dir/pin/mnt`: the pin directory is a
 * private bind mount of itself, since a namespace file cannot be pinned on a
 * shared mount) for host network namespace `netns`.
 */
export async function createMountNs(dir: string, netns: string): Promise<MountNs> {
  const pin = join(dir, 'pin');
  const file = join(pin, 'mnt');
  const root = join(dir, 'root');
  let pinMounted = false;
  let fileMounted = false;
  const enter = (argv: readonly string[]) => nsenterArgv(file, netns, argv);
  const ns: MountNs = {
    netns,
    file,
    inode: 0,
    root,
    enter,
    outside(path) {
      for (const [inside, name] of OVERMOUNTS) {
        if (path === inside || path.startsWith(`${inside}/`)) return join(root, name, path.slice(inside.length));
      }
      return path;
    },
    async destroy() {
      if (fileMounted && (await run(['umount', file])).code !== 0) await run(['umount', '-l', file]);
      fileMounted = false;
      if (pinMounted && (await run(['umount', pin])).code !== 0) await run(['umount', '-l', pin]);
      pinMounted = false;
    },
    destroySync() {
      if (fileMounted && !runSyncQuiet(['umount', file])) runSyncQuiet(['umount', '-l', file]);
      fileMounted = false;
      if (pinMounted && !runSyncQuiet(['umount', pin])) runSyncQuiet(['umount', '-l', pin]);
      pinMounted = false;
    },
  };
  try {
    mkdirSync(pin, { recursive: true });
    await runOk(['mount', '--bind', pin, pin]);
    pinMounted = true;
    await runOk(['mount', '--make-private', pin]);
    writeFileSync(file, '');
    await runOk(['unshare', `--mount=${file}`, '--propagation', 'slave', 'true']);
    fileMounted = true;
    ns.inode = statSync(file).ino;
    // sysfs as this network namespace sees it (mounted from inside it), then the cgroups it hides.
    await runOk(enter(['mount', '-t', 'sysfs', 'sysfs', '/sys']));
    for (const argv of cgroupMountPlan(readFileSync('/proc/self/mountinfo', 'utf8'))) await runOk(enter(argv));
    for (const [inside, name] of OVERMOUNTS) {
      if (!existsSync(inside)) continue; // never create mount points outside the run's temp dir
      const d = join(root, name);
      mkdirSync(d, { recursive: true });
      await runOk(enter(['mount', '--bind', d, inside]));
    }
  } catch (e) {
    await ns.destroy();
    throw e;
  }
  return ns;
}
