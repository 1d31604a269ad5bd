// The container engines of one test host: a persistent mount namespace
// (mount-ns.ts), optionally a dockerd (docker-engine.ts) and podman
// (podman.ts), all stopped by PID and removed with every mount they made.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { busyboxRootfsTar } from './busybox-image.js';
import { startDockerEngine, type DockerEngine } from './docker-engine.js';
import {
  cgroupDirs,
  engineProcesses,
  removePodmanCgroups,
  killEngineProcesses,
  killEngineProcessesSync,
  removeCgroupDirs,
  type EngineMatch,
} from './engine-procs.js';
import { createMountNs, mountsUnder, type MountNs } from './mount-ns.js';
import { startPodman, type PodmanEngine } from './podman.js';

export { BUSYBOX_IMAGE } from './busybox-image.js';
export type { DockerEngine } from './docker-engine.js';
export type { PodmanEngine } from './podman.js';
export type { MountNs } from './mount-ns.js';

export type DockerOption = boolean | { liveRestore?: boolean };

export interface HostEnginesOptions {
  prefix: string;
  /** Host number (1-based). */
  index: number;
  /** The host's network namespace. */
  ns: string;
  /** The host's directory in the run's temp dir; engines go to <dir>/engines. */
  dir: string;
  cniConfDir: string;
  /** Where the busybox rootfs tar is cached (the run's temp dir). */
  cacheDir: string;
  docker?: DockerOption;
  podman?: boolean;
}

export interface HostEngines {
  mnt: MountNs;
  docker?: DockerEngine;
  podman?: PodmanEngine;
  /** The relative cgroup parent of the host's Docker containers. */
  cgroupParent: string;
  /** Removes containers, stops the engines by PID, kills what is left of them, unmounts, removes their cgroups. */
  stop(): Promise<void>;
  /** Best effort for process 'exit': SIGKILL and unmount. */
  stopSync(): void;
  /** Engine processes still alive and engine cgroups still present. */
  leftovers(): string[];
}

/** Pure: the relative cgroup parent of host `index`'s containers in run `prefix`. */
export const engineCgroupParent = (prefix: string, index: number): string => `vxnet-${prefix}-h${index}`;

const comm = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
};

/** Mount points at or under `dirs` in this mount namespace. */
export function mountsBelow(dirs: readonly string[]): string[] {
  return mountsUnder(readFileSync('/proc/self/mountinfo', 'utf8'), dirs);
}

let libpodParentBefore: boolean | undefined;

export async function startHostEngines(o: HostEnginesOptions): Promise<HostEngines> {
  const base = join(o.dir, 'engines');
  const mnt = await createMountNs(join(base, 'mnt'), o.ns);
  const cgroupParent = engineCgroupParent(o.prefix, o.index);
  const match: EngineMatch = { mntInodes: [mnt.inode], cgroupMarkers: [cgroupParent] };
  if (o.podman && libpodParentBefore === undefined)
    libpodParentBefore = existsSync('/sys/fs/cgroup/memory/libpod_parent') || existsSync('/sys/fs/cgroup/libpod_parent');
  let stopped = false;
  const h: HostEngines = {
    mnt,
    cgroupParent,
    async stop() {
      if (stopped) return;
      stopped = true;
      const errors: unknown[] = [];
      const attempt = async (f: () => Promise<void>) => {
        try {
          await f();
        } catch (e) {
          errors.push(e);
        }
      };
      if (h.podman) await attempt(() => h.podman!.stop());
      if (h.docker) await attempt(() => h.docker!.stop());
      await killEngineProcesses(match);
      await mnt.destroy();
      removeCgroupDirs(cgroupDirs(cgroupParent));
      // Shared by every podman on the machine: removed only when this process made it and it is empty.
      if (o.podman && !libpodParentBefore) removePodmanCgroups([]);
      if (errors.length) throw new AggregateError(errors, `stopping the engines of ${o.ns}`);
    },
    stopSync() {
      stopped = true;
      killEngineProcessesSync(match);
      mnt.destroySync();
      removeCgroupDirs(cgroupDirs(cgroupParent));
      if (h.podman) removePodmanCgroups(h.podman.containerIds());
    },
    leftovers() {
      const found = engineProcesses(match).map((p) => `engine process ${p} (${comm(p)}) of ${o.ns}`);
      for (const d of cgroupDirs(cgroupParent)) found.push(`cgroup ${d}`);
      return found;
    },
  };
  try {
    const tar = await busyboxRootfsTar(o.cacheDir);
    if (o.docker) {
      h.docker = await startDockerEngine({
        ns: o.ns,
        dir: join(base, 'docker'),
        mnt,
        cgroupParent,
        label: `h${o.index}`,
        imageTar: tar,
        liveRestore: typeof o.docker === 'object' ? o.docker.liveRestore : false,
      });
    }
    if (o.podman) h.podman = await startPodman({ ns: o.ns, dir: join(base, 'podman'), mnt, cniConfDir: o.cniConfDir, imageTar: tar });
  } catch (e) {
    await h.stop().catch(() => undefined);
    throw e;
  }
  return h;
}
