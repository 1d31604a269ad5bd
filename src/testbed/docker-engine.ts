// A real Debian dockerd (20.10) inside a test host: the host's network
// namespace, the host's engine mount namespace (mount-ns.ts), its own
// data-root, exec-root, pidfile and socket under the run's temp dir. dockerd
// starts its own containerd, whose config, state, socket and root then live in
// exec-root/containerd and data-root/containerd: nothing is shared between hosts.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, type RunResult } from './exec.js';
import { pidAlive } from './lifecycle.js';
import type { MountNs } from './mount-ns.js';
import { startProcess, type Proc } from './process.js';
import { sleep, WaitAborted, waitFor } from './wait.js';
import { BUSYBOX_IMAGE } from './busybox-image.js';

export const DOCKERD = '/usr/sbin/dockerd';
/** Debian's client when present (matches the daemon), else whatever `docker` is on PATH. */
export const dockerCli = (): string => (existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker');

export interface DockerEngineOptions {
  /** The host's network namespace. */
  ns: string;
  /** Where roots, socket, pidfile, logs go (inside the run's temp dir). */
  dir: string;
  mnt: MountNs;
  /** Relative cgroup parent: containers stay inside the test process's cgroup. */
  cgroupParent: string;
  liveRestore?: boolean;
  /** A rootfs tar imported as BUSYBOX_IMAGE when the engine has no such image. */
  imageTar?: string;
  /** Label for logs, e.g. "h1". */
  label?: string;
}

export interface DockerEngine {
  ns: string;
  dir: string;
  /** The socket path, and its URL (for `--docker-host`, DOCKER_HOST). */
  socket: string;
  host: string;
  dataRoot: string;
  execRoot: string;
  pidFile: string;
  logFile: string;
  cgroupParent: string;
  liveRestore: boolean;
  /** dockerd's PID (from its pidfile) while it runs. */
  pid(): number | undefined;
  /** containerd's PID (dockerd's child, from exec-root/containerd/containerd.pid) while it runs. */
  containerdPid(): number | undefined;
  /** The docker CLI against this engine (`docker -H unix://<socket> ...args`); never rejects for a non-zero exit. */
  docker(args: readonly string[], opts?: { timeoutMs?: number; input?: string }): Promise<RunResult>;
  /** Like docker(), but throws with stderr on failure and resolves with stdout. */
  dockerOk(args: readonly string[], opts?: { timeoutMs?: number; input?: string }): Promise<string>;
  /** Starts dockerd (roots kept) and waits until `docker info` answers. */
  start(): Promise<void>;
  /** Removes every container (`docker rm -f`), then stops dockerd and containerd by PID. */
  stop(): Promise<void>;
  /** Stops dockerd by PID (containers stay: with liveRestore they keep running) and starts it again on the same roots. */
  restart(): Promise<void>;
  log(): string;
}

const readPid = (file: string): number | undefined => {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return n > 0 && pidAlive(n) ? n : undefined;
  } catch {
    return undefined;
  }
};

/** SIGTERM, then SIGKILL after `graceMs`; resolves once `pid` is gone. */
async function stopPid(pid: number, proc: Proc | undefined, graceMs: number): Promise<void> {
  const gone = async (ms: number) => {
    if (proc && proc.pid === pid) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<boolean>((r) => {
        timer = setTimeout(() => r(false), ms);
      });
      return Promise.race([proc.exited.then(() => true), late]).finally(() => clearTimeout(timer));
    }
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (!pidAlive(pid)) return true;
      await sleep(50);
    }
    return !pidAlive(pid);
  };
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  if (await gone(graceMs)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  await gone(5_000);
}

/** Pure: dockerd's argv (without the namespace wrapper). */
export function dockerdArgv(o: {
  dataRoot: string;
  execRoot: string;
  pidFile: string;
  socket: string;
  cgroupParent: string;
  configFile: string;
  liveRestore?: boolean;
}): string[] {
  return [
    DOCKERD,
    '--data-root',
    o.dataRoot,
    '--exec-root',
    o.execRoot,
    '--pidfile',
    o.pidFile,
    '-H',
    `unix://${o.socket}`,
    '--config-file',
    o.configFile,
    '--cgroup-parent',
    o.cgroupParent,
    '--iptables=true',
    ...(o.liveRestore ? ['--live-restore'] : []),
  ];
}

export async function startDockerEngine(o: DockerEngineOptions): Promise<DockerEngine> {
  if (o.cgroupParent.startsWith('/')) throw new Error(`cgroupParent must be relative, not ${o.cgroupParent}`);
  const dataRoot = join(o.dir, 'data');
  const execRoot = join(o.dir, 'exec');
  const cliConfig = join(o.dir, 'cli');
  const configFile = join(o.dir, 'daemon.json');
  for (const d of [dataRoot, execRoot, cliConfig]) mkdirSync(d, { recursive: true });
  writeFileSync(configFile, '{}\n');
  const socket = join(o.dir, 'docker.sock');
  const pidFile = join(o.dir, 'docker.pid');
  const logFile = join(o.dir, 'dockerd.log');
  let proc: Proc | undefined;
  let pid: number | undefined;

  const e: DockerEngine = {
    ns: o.ns,
    dir: o.dir,
    socket,
    host: `unix://${socket}`,
    dataRoot,
    execRoot,
    pidFile,
    logFile,
    cgroupParent: o.cgroupParent,
    liveRestore: o.liveRestore ?? false,
    pid: () => readPid(pidFile) ?? (pid && proc?.isRunning() ? pid : undefined),
    containerdPid: () => readPid(join(execRoot, 'containerd', 'containerd.pid')),
    docker: (args, opts = {}) =>
      run([dockerCli(), '--config', cliConfig, '-H', e.host, ...args], { timeoutMs: opts.timeoutMs ?? 120_000, input: opts.input }),
    async dockerOk(args, opts) {
      const r = await e.docker(args, opts);
      if (r.code !== 0) throw new Error(`docker ${args.join(' ')} on ${o.ns} failed (exit ${r.code}): ${r.stderr.trim()}`);
      return r.stdout;
    },
    async start() {
      if (e.pid()) return;
      proc = startProcess(
        `dockerd-${o.label ?? o.ns}`,
        o.mnt.enter(
          dockerdArgv({ dataRoot, execRoot, pidFile, socket, cgroupParent: o.cgroupParent, configFile, liveRestore: o.liveRestore }),
        ),
        logFile,
      );
      const p = proc;
      await waitFor(
        `dockerd in ${o.ns} to answer docker info`,
        async () => {
          if (!p.isRunning()) throw new WaitAborted(`dockerd in ${o.ns} exited:\n${p.log().slice(-3000)}`);
          return (await e.docker(['info', '--format', '{{.ID}}'], { timeoutMs: 10_000 })).code === 0;
        },
        { timeoutMs: 60_000, intervalMs: 100 },
      );
      pid = readPid(pidFile) ?? p.pid;
      if (o.imageTar && (await e.docker(['image', 'inspect', BUSYBOX_IMAGE])).code !== 0) {
        await e.dockerOk(['import', o.imageTar, BUSYBOX_IMAGE]);
      }
    },
    async stop() {
      const cur = e.pid();
      if (cur) {
        const ids = (await e.docker(['ps', '-aq'], { timeoutMs: 30_000 })).stdout.split('\n').filter(Boolean);
        if (ids.length) await e.docker(['rm', '-f', ...ids], { timeoutMs: 120_000 });
      }
      const containerd = e.containerdPid();
      if (cur) await stopPid(cur, proc, 15_000);
      if (containerd && pidAlive(containerd)) await stopPid(containerd, undefined, 5_000);
      if (proc?.isRunning()) await stopPid(proc.pid, proc, 1_000);
      pid = undefined;
    },
    async restart() {
      const cur = e.pid();
      if (cur) await stopPid(cur, proc, 15_000);
      pid = undefined;
      await e.start();
    },
    log: () => {
      try {
        return readFileSync(logFile, 'utf8');
      } catch {
        return '';
      }
    },
  };
  // dockerd sets the FORWARD policy to DROP only when it has to turn ip_forward on itself (as
  // on a freshly booted host); the test bed turned it on already, so hand that step back.
  const sysctl = (v: 0 | 1) => run(o.mnt.enter(['sysctl', '-qw', `net.ipv4.ip_forward=${v}`]));
  await sysctl(0);
  try {
    await e.start();
  } finally {
    await sysctl(1);
  }
  return e;
}
