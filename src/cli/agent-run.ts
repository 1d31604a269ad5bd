// What `vxnet agent` and `vxnet agent cleanup` run: the agent's wiring.
// Loaded only by those commands (src/cli/agent.ts), so no other command pays for it.

import { accessSync, constants } from 'node:fs';
import { join, resolve } from 'node:path';
import { cleanup } from '../agent/cleanup.js';
import { buildAgentHttp } from '../agent/http.js';
import { execFileArgv, type Exec } from '../agent/linux/exec.js';
import {
  enableSysctl,
  linkMtu,
  readIpamFiles,
  removeConflists,
  removeIpamDirs,
  setBridgeNeighbourRetrans,
  writeFileIfChanged,
} from '../agent/linux/host.js';
import { linuxKernel } from '../agent/linux/kernel.js';
import { persistentBatches } from '../agent/linux/batch-process.js';
import { monitorKernel } from '../agent/linux/monitor.js';
import { applyNft, nftTables } from '../agent/linux/nft.js';
import { AgentLoop } from '../agent/loop.js';
import { keepHeapSmall } from '../agent/heap.js';
import { MasterClient } from '../agent/master-client.js';
import { type CheckedFlags, checkAgentFlags, checkCniBinDir, checkIpOnHost, type RawAgentFlags } from '../agent/options.js';
import { systemClock, type Host } from '../agent/ports.js';
import { syncDockerUser } from '../agent/docker/docker-user.js';
import { DockerEngine, parseDockerHost, type DockerEndpoint } from '../agent/docker/engine.js';
import { fileCredentialStore } from '../agent/credential.js';
import { fail as failWith, readFlagFile, readToken } from './common.js';
import { IpamCollector } from '../agent/ipam-gc/collector.js';
import { probe } from '../agent/ipam-gc/probes.js';
import { releaseLeaked } from '../agent/ipam-gc/release.js';
import { reservationsFrom } from '../agent/ipam-gc/reservations.js';

const log = (message: string): void => {
  process.stderr.write(`${new Date().toISOString()} vxnet-agent: ${message}\n`);
};

const fail = (message: string): void => failWith('vxnet agent', message);

/** --docker-host, else $DOCKER_HOST, else Docker's default socket. */
function dockerEndpoint(flag: string | undefined): DockerEndpoint | Error {
  const text = flag ?? process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  const source = flag !== undefined ? '--docker-host' : process.env.DOCKER_HOST !== undefined ? '$DOCKER_HOST' : 'the default Docker host';
  const parsed = parseDockerHost(text);
  if (typeof parsed === 'string')
    return new Error(`${source} ${parsed}: pass e.g. --docker-host unix:///var/run/docker.sock, or --no-docker`);
  return parsed;
}

/** The host the loop keeps, besides the kernel's tables: nftables, sysctls, files, DOCKER-USER. */
const linuxHost = (exec: Exec): Host => ({
  nftTables: () => nftTables(exec),
  applyNft: (script) => applyNft(exec, script),
  enableSysctl,
  setBridgeNeighbourRetrans,
  writeFileIfChanged,
  removeConflists,
  readIpamFiles,
  removeIpamDirs,
  linkMtu,
  syncDockerUser: (subnets) => syncDockerUser(exec, subnets),
});

export interface AgentCliOptions extends RawAgentFlags {
  tokenFile?: string;
  ca?: string;
  tlsCert?: string;
  tlsKey?: string;
  dockerHost?: string;
  docker: boolean;
  cniBinDir: string;
  subnet: boolean;
  mesosBridge: boolean;
  dockerBridge: boolean;
}

/** Root and the kernel tools, checked once so a missing one is named instead of failing every pass. */
const isExecutable = (path: string): boolean => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

async function preconditions(ip: string, cniBinDir: string): Promise<string[]> {
  const problems: string[] = [];
  if (process.getuid && process.getuid() !== 0) problems.push("vxnet agent changes the kernel's network configuration: run it as root");
  const tools = [
    ['ip', ['-V'], 'iproute2'],
    ['bridge', ['-V'], 'iproute2'],
    ['nft', ['--version'], 'nftables'],
  ] as const;
  for (const [tool, args, pkg] of tools) {
    const r = await execFileArgv(tool, args);
    if (r.code !== 0)
      problems.push(`${tool} is missing or broken (${r.stderr.trim() || `exit ${r.code}`}): install it with apt-get install ${pkg}`);
  }
  if (problems.length > 0) return problems;
  const addrs = await execFileArgv('ip', ['-j', '-4', 'addr', 'show']);
  if (addrs.code === 0) problems.push(...checkIpOnHost(ip, addrs.stdout));
  problems.push(...checkCniBinDir(cniBinDir, isExecutable));
  return problems;
}

/** --ca, --tls-cert, --tls-key read, or undefined when none is given. */
async function agentTls(opts: AgentCliOptions): Promise<{ ca?: Buffer; cert?: Buffer; key?: Buffer } | undefined> {
  if ((opts.tlsCert === undefined) !== (opts.tlsKey === undefined))
    throw new Error("--tls-cert and --tls-key go together: give the client certificate (with this agent's IP as IP SAN) and its key");
  if (opts.ca === undefined && opts.tlsCert === undefined) return undefined;
  return {
    ...(opts.ca !== undefined && { ca: await readFlagFile('--ca', opts.ca) }),
    ...(opts.tlsCert !== undefined && { cert: await readFlagFile('--tls-cert', opts.tlsCert) }),
    ...(opts.tlsKey !== undefined && { key: await readFlagFile('--tls-key', opts.tlsKey) }),
  };
}

/** The leaked-address collector (src/agent/ipam-gc/) on this host's files, records, libcni cache and podman. */
function ipamCollector(flags: CheckedFlags, opts: AgentCliOptions, loop: AgentLoop, log: (m: string) => void): IpamCollector {
  const ipamDir = join(resolve(opts.stateDir), 'ipam');
  const gc = flags.ipamGc;
  return new IpamCollector(
    { ip: flags.ip, graceMs: gc.graceMs, intervalMs: gc.intervalMs },
    {
      readReservations: async () => reservationsFrom(await readIpamFiles(ipamDir)),
      probe: (reservations) =>
        probe(
          { ipamDir, containerStateDir: resolve(gc.containerStateDir), cniCacheDir: resolve(gc.cniCacheDir), podmanArgv: gc.podmanArgv },
          reservations,
        ),
      release: (v, recorded) =>
        releaseLeaked({ ipamDir, cniConfDir: resolve(opts.cniConfDir), cniBinDir: resolve(opts.cniBinDir) }, v, recorded),
    },
    { self: () => loop.state(), clock: systemClock, log },
  );
}

export async function runAgent(opts: AgentCliOptions): Promise<void> {
  keepHeapSmall(); // src/agent/heap.ts: issue 10 (i)
  const { flags, errors } = checkAgentFlags(opts);
  if (errors.length === 0 && flags) errors.push(...(await preconditions(flags.ip, opts.cniBinDir)));
  const token = opts.tokenFile === undefined ? undefined : await readToken(opts.tokenFile).catch((e: Error) => e);
  if (token instanceof Error) errors.push(token.message);
  const tls = await agentTls(opts).catch((e: Error) => e);
  if (tls instanceof Error) errors.push(tls.message);
  // Docker networks live on the d- bridges: no bridges, no Docker.
  const endpoint = opts.docker && opts.dockerBridge ? dockerEndpoint(opts.dockerHost) : undefined;
  if (endpoint instanceof Error) errors.push(endpoint.message);
  if (!flags || errors.length > 0 || endpoint instanceof Error || tls instanceof Error) return fail(errors.join('\n'));
  const docker = endpoint && new DockerEngine(endpoint);
  const master = new MasterClient({
    urls: flags.masters,
    ...(typeof token === 'string' ? { token } : {}),
    ...(tls && { tls }),
    credentials: fileCredentialStore(resolve(opts.stateDir)),
    log,
  });
  // Kernel changes go to `ip`/`bridge -batch` processes that stay running (linux/batch-process.ts).
  const batches = persistentBatches(execFileArgv);
  const loop = new AgentLoop(
    {
      ip: flags.ip,
      // Absolute: the conflist hands the IPAM dir to CNI plugins run from anywhere.
      stateDir: resolve(opts.stateDir),
      cniConfDir: resolve(opts.cniConfDir),
      mtu: flags.mtu,
      vxlanPort: flags.vxlanPort,
      networkConfig: { allocate_subnet: opts.subnet, mesos_bridge: opts.mesosBridge, docker_bridge: opts.dockerBridge },
      maxAttempts: flags.maxAttempts,
      tickMs: flags.tickMs,
      resyncMs: flags.resyncMs,
    },
    {
      kernel: linuxKernel(batches),
      host: linuxHost(execFileArgv),
      clock: systemClock,
      master,
      log,
      monitor: monitorKernel,
      ...(docker && { docker }),
      ipamSummary: () => collector.summary(),
    },
  );
  const collector = ipamCollector(flags, opts, loop, log);
  const app = buildAgentHttp(
    () => loop.state(),
    (mode) => collector.check(mode),
  );
  try {
    await app.listen({ host: flags.listen.host, port: flags.listen.port });
  } catch (err) {
    return fail(`cannot listen on ${opts.listen}: ${(err as Error).message}: choose another --listen HOST:PORT`);
  }
  log(`listening on ${opts.listen}, masters ${flags.masters.join(', ')}, docker ${endpoint ? endpoint.url : 'off'}`);
  const stop = new AbortController();
  // The data plane stays in place on exit, so containers keep talking across a restart.
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => stop.abort());
  void collector.run(stop.signal);
  await loop.run(stop.signal);
  await batches.close();
  await app.close();
  await docker?.close();
  log('stopped; data plane left in place');
}

/** `vxnet agent cleanup`, with the flags already resolved between `agent` and `cleanup`. */
export async function runCleanup(flags: {
  stateDir: string;
  cniConfDir: string;
  dockerHost: string | undefined;
  force: boolean;
}): Promise<void> {
  const endpoint = dockerEndpoint(flags.dockerHost);
  if (endpoint instanceof Error) return fail(endpoint.message);
  const docker = new DockerEngine(endpoint);
  try {
    const result = await cleanup(execFileArgv, { stateDir: flags.stateDir, cniConfDir: flags.cniConfDir }, { docker, force: flags.force });
    for (const item of result.removed) process.stdout.write(`removed ${item}\n`);
    if (result.removed.length === 0 && result.errors.length === 0) process.stdout.write('nothing to remove\n');
    if (result.errors.length > 0) fail(result.errors.join('\n'));
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  } finally {
    await docker.close();
  }
}
