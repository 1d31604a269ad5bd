// A real Debian podman (4.3, CNI backend) inside a test host: every call
// enters the host's engine mount namespace and network namespace (a
// persistent one: podman bind-mounts container netns under /run/netns, which
// later calls must see for CNI DEL), with a private containers.conf and
// storage roots under the run's temp dir.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, type RunResult } from './exec.js';
import type { MountNs } from './mount-ns.js';
import { BUSYBOX_IMAGE } from './busybox-image.js';

export interface PodmanOptions {
  ns: string;
  dir: string;
  mnt: MountNs;
  /** Where podman reads CNI conflists (the agent writes vxnet-<overlay>.conflist there). */
  cniConfDir: string;
  imageTar?: string;
  /** Storage driver: overlay works on this machine's ext4; vfs anywhere. */
  storageDriver?: 'overlay' | 'vfs';
}

export interface PodmanEngine {
  ns: string;
  dir: string;
  /** The private containers.conf (CONTAINERS_CONF). */
  conf: string;
  root: string;
  runroot: string;
  cniConfDir: string;
  /** podman against this host's storage, in its namespaces; never rejects for a non-zero exit. */
  podman(args: readonly string[], opts?: { timeoutMs?: number; input?: string }): Promise<RunResult>;
  podmanOk(args: readonly string[], opts?: { timeoutMs?: number; input?: string }): Promise<string>;
  /** `podman rm -f -t 0` of every container (CNI DEL releases their addresses). */
  stop(): Promise<void>;
  /** IDs of the containers in this host's storage (read from disk, without podman). */
  containerIds(): string[];
}

const toml = (s: string): string => JSON.stringify(s);

/** Pure: the containers.conf of one host. */
export function containersConf(o: {
  cniConfDir: string;
  tmpDir: string;
  staticDir: string;
  volumePath: string;
  eventsLog: string;
}): string {
  return [
    '[containers]',
    // Rootful podman asks for more than this machine's hard limits ("error setting rlimit type 7").
    'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]',
    '',
    '[network]',
    'network_backend = "cni"',
    'cni_plugin_dirs = ["/usr/lib/cni"]',
    `network_config_dir = ${toml(o.cniConfDir)}`,
    '',
    '[engine]',
    'cgroup_manager = "cgroupfs"',
    'events_logger = "file"',
    `events_logfile_path = ${toml(o.eventsLog)}`,
    'runtime = "runc"',
    `tmp_dir = ${toml(o.tmpDir)}`,
    // shm locks live in /dev/shm, shared by every podman on the machine.
    'lock_type = "file"',
    `static_dir = ${toml(o.staticDir)}`,
    `volume_path = ${toml(o.volumePath)}`,
    '',
  ].join('\n');
}

/** Pure: storage.conf of one host. */
export const storageConf = (o: { driver: string; root: string; runroot: string }): string =>
  ['[storage]', `driver = ${toml(o.driver)}`, `graphroot = ${toml(o.root)}`, `runroot = ${toml(o.runroot)}`, ''].join('\n');

export async function startPodman(o: PodmanOptions): Promise<PodmanEngine> {
  const root = join(o.dir, 'root');
  const runroot = join(o.dir, 'runroot');
  const tmpDir = join(o.dir, 'tmp');
  for (const d of [root, runroot, tmpDir, o.cniConfDir]) mkdirSync(d, { recursive: true });
  const conf = join(o.dir, 'containers.conf');
  const storage = join(o.dir, 'storage.conf');
  const driver = o.storageDriver ?? 'overlay';
  writeFileSync(
    conf,
    containersConf({
      cniConfDir: o.cniConfDir,
      tmpDir,
      staticDir: join(root, 'libpod'),
      volumePath: join(root, 'volumes'),
      eventsLog: join(o.dir, 'events.log'),
    }),
  );
  writeFileSync(storage, storageConf({ driver, root, runroot }));
  const p: PodmanEngine = {
    ns: o.ns,
    dir: o.dir,
    conf,
    root,
    runroot,
    cniConfDir: o.cniConfDir,
    podman: (args, opts = {}) =>
      run(
        o.mnt.enter([
          'env',
          `CONTAINERS_CONF=${conf}`,
          `CONTAINERS_STORAGE_CONF=${storage}`,
          'podman',
          '--root',
          root,
          '--runroot',
          runroot,
          '--storage-driver',
          driver,
          ...args,
        ]),
        { timeoutMs: opts.timeoutMs ?? 120_000, input: opts.input },
      ),
    async podmanOk(args, opts) {
      const r = await p.podman(args, opts);
      if (r.code !== 0) throw new Error(`podman ${args.join(' ')} on ${o.ns} failed (exit ${r.code}): ${r.stderr.trim()}`);
      return r.stdout;
    },
    containerIds() {
      try {
        return readdirSync(join(root, `${driver}-containers`)).filter((d) => /^[0-9a-f]{64}$/.test(d));
      } catch {
        return [];
      }
    },
    async stop() {
      const ids = (await p.podman(['ps', '-aq'], { timeoutMs: 30_000 })).stdout.split('\n').filter(Boolean);
      if (ids.length) await p.podman(['rm', '-f', '-t', '0', ...ids], { timeoutMs: 120_000 });
    },
  };
  await p.podmanOk(['info', '--format', '{{.Host.NetworkBackend}}'], { timeoutMs: 60_000 });
  if (o.imageTar && (await p.podman(['image', 'exists', BUSYBOX_IMAGE])).code !== 0) {
    await p.podmanOk(['import', o.imageTar, BUSYBOX_IMAGE]);
  }
  return p;
}
