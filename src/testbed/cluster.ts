// A whole test cluster: underlay, a real master in the root namespace, a real
// `vxnet agent` per host namespace. Torn down on teardown(), on process exit
// and on SIGINT/SIGTERM; processes are stopped by PID.
import { existsSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MasterState } from '../api/types.js';
import { DEFAULT_NETWORK_CONFIG, type NetworkConfig } from '../config/types.js';
import { inHostNetns, inNetns, run, runOk, runSyncQuiet, type RunResult } from './exec.js';
import { forwardTcp, freePort, type Forwarder } from './forward.js';
import { makeRunPrefix, runNames, type RunNames } from './names.js';
import { killSync, startProcess, stopProcess, type Proc } from './process.js';
import { createUnderlay, type Underlay } from './underlay.js';
import { sleep, WaitAborted, waitFor } from './wait.js';
import { pidAlive, registerTeardown } from './lifecycle.js';
import { loadRecord } from '../cni/records.js';
import { isRunning } from '../cni/runtime.js';
import { reapDeadRuns } from './reap.js';
import {
  BUSYBOX_IMAGE,
  mountsBelow,
  startHostEngines,
  type DockerEngine,
  type DockerOption,
  type HostEngines,
  type PodmanEngine,
} from './engines.js';

/**
 * The compiled CLI, from src/testbed (tsx) and dist/testbed alike; VXNET_CLI
 * pins another build (a long bench in a tree where others rebuild dist/).
 */
export const CLI = process.env.VXNET_CLI || fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
export const AGENT_PORT = 5051;

export interface ClusterOptions {
  hosts: number;
  config?: NetworkConfig;
  /** Add an extra namespace on the underlay outside every overlay (<net>.200). */
  outside?: boolean;
  /** Where the master listens; hosts reach it through a forwarder when it is not on the underlay. */
  masterListen?: { host: string; port: number };
  preferOctet?: number;
  /** Extra `vxnet agent` arguments (a function: per host). */
  agentArgs?: string[] | ((h: Host) => string[]);
  /** Extra `vxnet master` arguments (e.g. --agent-ttl 2s). */
  masterArgs?: string[];
  startAgents?: boolean;
  /** The run prefix (default: random); names of namespaces and links start with it. */
  prefix?: string;
  /** Told what was removed of runs that died without their teardown (they are always removed). */
  onReap?: (removed: string[]) => void;
  /** A real dockerd per host (its own roots and socket; agents get `--docker-host unix://<socket>`). */
  docker?: DockerOption;
  /** A real podman per host (CNI backend reading the host's cniConfDir). */
  podman?: boolean;
  /** MTU of the underlay links (default 1500). */
  underlayMtu?: number;
}

export interface Host {
  index: number;
  ns: string;
  ip: string;
  stateDir: string;
  cniConfDir: string;
  containersDir: string;
  agent?: Proc;
  /** With `docker`: the host's dockerd. */
  docker?: DockerEngine;
  /** With `podman`: the host's podman. */
  podman?: PodmanEngine;
  /** With `docker` or `podman`: the host's engine mount namespace and teardown. */
  engines?: HostEngines;
}

export interface Cluster {
  names: RunNames;
  underlay: Underlay;
  tmpDir: string;
  /** The master URL as hosts see it. */
  masterUrl: string;
  /** The master URL as the root namespace sees it. */
  localMasterUrl: string;
  master: Proc;
  hosts: Host[];
  /** Stops the master by PID and starts it again on the same store and address. */
  restartMaster(downMs?: number): Promise<void>;
  startAgent(h: Host): Promise<Proc>;
  stopAgent(h: Host): Promise<void>;
  /** Runs the vxnet CLI in host h's network namespace (and this mount namespace: see inHostNetns). */
  vxnet(h: Host, args: string[]): Promise<RunResult>;
  /** `vxnet container run` on host h; resolves with the container's IP. Removed on teardown. */
  runContainer(h: Host, name: string, network: string, cmd?: string[]): Promise<string>;
  removeContainer(h: Host, name: string): Promise<void>;
  /**
   * `docker run -d --name NAME --network NET` on host h's dockerd (needs `docker`);
   * its network namespace gets the name `ns` (a name of this run), so host
   * tools run in it with `ip netns exec`. Removed on teardown.
   */
  runDockerContainer(h: Host, name: string, network: string, cmd?: string[]): Promise<{ ip: string; ns: string }>;
  state(): Promise<MasterState>;
  /** Waits until the master lists every running agent with all overlays STATUS_OK. */
  waitAllOk(timeoutMs?: number): Promise<MasterState>;
  teardown(): Promise<void>;
  leftovers(): Promise<string[]>;
}

export const containerDirs = (h: Host): string[] => ['--cni-conf-dir', h.cniConfDir, '--state-dir', h.containersDir];

/** Stops a container's command (checked against its recorded start time) and drops its netns. */
function dropContainer(h: Host, name: string): void {
  const rec = loadRecord(h.containersDir, name);
  if (rec?.pid && isRunning(rec)) {
    try {
      process.kill(-rec.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  runSyncQuiet(['ip', 'netns', 'del', name]);
}

export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  const reaped = await reapDeadRuns();
  if (reaped.length > 0) opts.onReap?.(reaped);
  const names = runNames(opts.prefix ?? makeRunPrefix());
  const tmpDir = mkdtempSync(join(tmpdir(), `vxnet-${names.prefix}-`));
  const procs = new Set<Proc>();
  const containers = new Map<string, Host>();
  const inFlight = new Set<Promise<RunResult>>();
  // Containers die with their namespace; their commands are stopped by recorded PID.
  const dropContainers = () => {
    for (const [name, h] of containers) dropContainer(h, name);
    containers.clear();
  };
  let underlay: Underlay | undefined;
  let forwarder: Forwarder | undefined;
  // Engines stop after the agents (which talk to them) and before the namespaces go.
  const engineSets: HostEngines[] = [];
  const entry = {
    sync() {
      dropContainers();
      for (const p of procs) killSync(p);
      for (const e of engineSets) e.stopSync();
      underlay?.destroySync();
      rmSync(tmpDir, { recursive: true, force: true });
    },
    async async() {
      // A `container run` still going (its test timed out) would make its netns after the teardown.
      await Promise.allSettled([...inFlight]);
      dropContainers();
      await Promise.all([...procs].map((p) => stopProcess(p)));
      procs.clear();
      const engineErrors = (await Promise.allSettled(engineSets.map((e) => e.stop()))).filter((r) => r.status === 'rejected');
      await forwarder?.close();
      await underlay?.destroy();
      rmSync(tmpDir, { recursive: true, force: true });
      registration.release();
      if (engineErrors.length) throw (engineErrors[0] as PromiseRejectedResult).reason;
    },
  };
  const registration = registerTeardown(entry);

  try {
    underlay = await createUnderlay({
      names,
      hosts: opts.hosts,
      outside: opts.outside,
      preferOctet: opts.preferOctet,
      ...(opts.underlayMtu !== undefined && { mtu: opts.underlayMtu }),
    });
    const ul = underlay;
    const configFile = join(tmpDir, 'config.json');
    writeFileSync(configFile, JSON.stringify(opts.config ?? DEFAULT_NETWORK_CONFIG, null, 2));
    const listen = opts.masterListen ?? { host: ul.rootIp, port: await freePort(ul.rootIp) };
    const localMasterUrl = `http://${listen.host}:${listen.port}`;
    let masterUrl = localMasterUrl;
    if (listen.host !== ul.rootIp) {
      forwarder = await forwardTcp({ host: ul.rootIp, port: listen.port }, listen);
      masterUrl = `http://${ul.rootIp}:${listen.port}`;
    }
    const dataDir = join(tmpDir, 'master');
    mkdirSync(dataDir);
    const startMaster = async (): Promise<Proc> => {
      const m = startProcess(
        'master',
        // Agents reach a master behind the forwarder by the underlay address, which its Host check must accept.
        [
          'node',
          CLI,
          'master',
          '--config',
          configFile,
          '--data',
          dataDir,
          '--listen',
          `${listen.host}:${listen.port}`,
          '--allowed-host',
          ul.rootIp,
          ...(opts.masterArgs ?? []),
        ],
        join(tmpDir, 'master.log'),
      );
      procs.add(m);
      await waitFor(
        'the master to answer /healthz',
        async () => {
          if (!m.isRunning()) throw new WaitAborted(`master exited:\n${m.log().slice(-2000)}`);
          return (await fetch(`${localMasterUrl}/healthz`)).ok;
        },
        { timeoutMs: 20_000, intervalMs: 100 },
      );
      return m;
    };
    const master = await startMaster();

    const hosts: Host[] = ul.hosts.map((h, k) => {
      const dir = join(tmpDir, `h${k + 1}`);
      const host = {
        index: k + 1,
        ns: h.ns,
        ip: h.ip,
        stateDir: join(dir, 'state'),
        cniConfDir: join(dir, 'cni'),
        containersDir: join(dir, 'containers'),
      };
      for (const d of [host.stateDir, host.cniConfDir, host.containersDir]) mkdirSync(d, { recursive: true });
      return host;
    });
    if (opts.docker || opts.podman) {
      const started = await Promise.allSettled(
        hosts.map((h) =>
          startHostEngines({
            prefix: names.prefix,
            index: h.index,
            ns: h.ns,
            dir: join(tmpDir, `h${h.index}`),
            cniConfDir: h.cniConfDir,
            cacheDir: tmpDir,
            docker: opts.docker,
            podman: opts.podman,
          }),
        ),
      );
      for (const [k, r] of started.entries()) {
        if (r.status !== 'fulfilled') continue;
        engineSets.push(r.value);
        Object.assign(hosts[k]!, { engines: r.value, docker: r.value.docker, podman: r.value.podman });
      }
      const failed = started.find((r) => r.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
    }

    const cluster: Cluster = {
      names,
      underlay: ul,
      tmpDir,
      masterUrl,
      localMasterUrl,
      master,
      hosts,
      async restartMaster(downMs = 0) {
        await stopProcess(cluster.master);
        procs.delete(cluster.master);
        await sleep(downMs);
        cluster.master = await startMaster();
      },
      async startAgent(h) {
        if (h.agent?.isRunning()) return h.agent;
        const argv = inNetns(h.ns, [
          'node',
          // e.g. --cpu-prof for a bench (NODE_OPTIONS refuses it).
          ...(process.env.VXNET_AGENT_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
          CLI,
          'agent',
          '--master',
          masterUrl,
          '--ip',
          h.ip,
          '--listen',
          `${h.ip}:${AGENT_PORT}`,
          '--state-dir',
          h.stateDir,
          '--cni-conf-dir',
          h.cniConfDir,
          ...(h.docker ? ['--docker-host', h.docker.host] : []),
          ...(typeof opts.agentArgs === 'function' ? opts.agentArgs(h) : (opts.agentArgs ?? [])),
        ]);
        h.agent = startProcess(`agent-h${h.index}`, argv, join(tmpDir, `agent-h${h.index}.log`));
        procs.add(h.agent);
        return h.agent;
      },
      async stopAgent(h) {
        if (!h.agent) return;
        await stopProcess(h.agent);
        procs.delete(h.agent);
      },
      vxnet: (h, args) => run(inHostNetns(h.ns, ['node', CLI, ...args]), { timeoutMs: 60_000 }),
      async runContainer(h, name, network, cmd = []) {
        containers.set(name, h);
        const running = cluster.vxnet(h, [
          'container',
          'run',
          ...containerDirs(h),
          name,
          '--network',
          network,
          ...(cmd.length ? ['--', ...cmd] : []),
        ]);
        inFlight.add(running);
        const r = await running.finally(() => inFlight.delete(running));
        if (r.code !== 0) throw new Error(`container run ${name} on ${h.ns} failed: ${r.stderr.trim()}`);
        return r.stdout.trim();
      },
      async runDockerContainer(h, name, network, cmd = ['sleep', '3600']) {
        if (!h.docker) throw new Error(`host ${h.ns} has no dockerd: start the cluster with docker: true`);
        await h.docker.dockerOk(['run', '-d', '--name', name, '--network', network, BUSYBOX_IMAGE, ...cmd]);
        const ip = (
          await h.docker.dockerOk(['inspect', '-f', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, name])
        ).trim();
        const pid = (await h.docker.dockerOk(['inspect', '-f', '{{.State.Pid}}', name])).trim();
        const ns = names.container(name);
        // Named like vxnet's own containers, so the teardown drops the name with theirs.
        containers.set(ns, h);
        await runOk(['ip', 'netns', 'attach', ns, pid]);
        return { ip, ns };
      },
      async removeContainer(h, name) {
        const r = await cluster.vxnet(h, ['container', 'rm', ...containerDirs(h), name]);
        if (r.code !== 0) throw new Error(`container rm ${name} on ${h.ns} failed: ${r.stderr.trim()}`);
        containers.delete(name);
      },
      async state() {
        const r = await fetch(`${localMasterUrl}/overlay-master/state`);
        if (!r.ok) throw new Error(`GET /overlay-master/state: ${r.status}`);
        return (await r.json()) as MasterState;
      },
      async waitAllOk(timeoutMs = 30_000) {
        const running = hosts.filter((h) => h.agent?.isRunning()).map((h) => h.ip);
        let last = 'no answer from the master';
        try {
          return await waitFor(
            'every agent to report all overlays STATUS_OK',
            async () => {
              for (const h of hosts)
                if (h.agent && !h.agent.isRunning()) throw new WaitAborted(`agent on ${h.ns} exited:\n${h.agent.log().slice(-2000)}`);
              const s = await cluster.state();
              last = JSON.stringify(s.agents.map((a) => [a.ip, a.overlays.map((o) => o.state)]));
              const ok = running.every((ip) => s.agents.find((a) => a.ip === ip)?.overlays.every((o) => o.state.status === 'STATUS_OK'));
              return ok ? s : undefined;
            },
            { timeoutMs, intervalMs: 200 },
          );
        } catch (e) {
          const logs = hosts.map((h) => `--- ${h.agent?.name} log:\n${h.agent?.log().slice(-1200) ?? ''}`).join('\n');
          throw new Error(`${(e as Error).message}\nmaster state: ${last}\n${logs}`);
        }
      },
      teardown: () => entry.async(),
      async leftovers() {
        const found = await ul.leftovers();
        if (existsSync(tmpDir)) found.push(`dir ${tmpDir}`);
        for (const p of [cluster.master, ...hosts.map((h) => h.agent)])
          if (p && pidAlive(p.pid)) found.push(`process ${p.name} pid ${p.pid}`);
        for (const e of engineSets) found.push(...e.leftovers());
        for (const m of mountsBelow([tmpDir])) found.push(`mount ${m}`);
        return found;
      },
    };
    if (opts.startAgents ?? true) for (const h of hosts) await cluster.startAgent(h);
    return cluster;
  } catch (e) {
    await entry.async();
    throw e;
  }
}
