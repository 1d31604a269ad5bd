// The agent's level-triggered loop. Watch events only update what the master
// says and wake the loop; every pass re-observes the kernel and applies the
// difference, and a periodic tick repairs drift. Nothing is torn down on stop.

import { join } from 'node:path';
import type { AgentInfo, AgentNetworkConfig, AgentOverlayState, EngineState, WatchEvent } from '../api/types.js';
import { renderConflist, conflistFileName } from './cni-conf.js';
import { containersFromIpam } from './containers.js';
import { applyOps } from './apply.js';
import { computeDesired, type Underlay } from './desired.js';
import type { ObservedState } from './model.js';
import type { Exec } from './linux/exec.js';
import { execute, type OpFailure } from './linux/execute.js';
import { enableSysctl, readIpamFiles, removeConflists, setBridgeNeighbourRetrans, writeFileIfChanged } from './linux/host.js';
import { syncDockerUser } from './docker/docker-user.js';
import type { DockerEngine } from './docker/engine.js';
import { dockerStep } from './docker/sync.js';
import { applyNft, nftTables } from './linux/nft.js';
import { observe } from './linux/observe.js';
import { findUnderlay } from './linux/parse.js';
import type { MasterClient } from './master-client.js';
import { natSubnets, renderNat } from './nat.js';
import { plan } from './plan.js';
import { Reporter } from './reporter.js';
import { SHARED, StatusTracker } from './status.js';

export interface AgentOptions {
  ip: string;
  stateDir: string;
  cniConfDir: string;
  mtu: number;
  vxlanPort: number;
  networkConfig: AgentNetworkConfig;
  maxAttempts: number;
  tickMs: number;
}

export interface AgentDeps {
  exec: Exec;
  master: MasterClient;
  log: (message: string) => void;
  /** Calls back when the kernel changes under vxnet's feet (optional: ticks repair anyway). */
  monitor?: (onChange: () => void, signal: AbortSignal) => void;
  /** The Docker engine whose networks the agent keeps; undefined with --no-docker. */
  docker?: DockerEngine;
}

/** ARP/ND retransmit time on vxnet's bridges (the kernel's default, 1 s, is made for real LANs). */
export const BRIDGE_NEIGH_RETRANS_MS = 10;

/** What identifies an allocation; status changes the agent itself reports are left out. */
const allocationKey = (info: AgentInfo): string => JSON.stringify(info.overlays.map(({ state: _state, ...rest }) => rest));

export class AgentLoop {
  private me: AgentInfo | undefined;
  private readonly peers = new Map<string, AgentInfo>();
  private synced = false;
  private needsRegistration = true;
  private readonly status: StatusTracker;
  private readonly reporter: Reporter;
  private attempts = 0;
  private wakeUp: () => void = () => {};
  /** The kernel state as of the last full observation plus the ops applied since. */
  private believed: ObservedState | undefined;
  private underlay: Underlay | undefined;
  private fullPassDue = true;
  private lastWarnings = '';
  private lastNat = '';
  private lastForward = '';
  private lastDockerWarnings = '';
  private docker: EngineState = { status: 'disabled' };

  constructor(private readonly options: AgentOptions, private readonly deps: AgentDeps) {
    this.status = new StatusTracker(options.maxAttempts);
    this.reporter = new Reporter(deps.master, options.ip, deps.log);
  }

  private get ipamDir(): string {
    return join(this.options.stateDir, 'ipam');
  }

  wake(): void {
    this.wakeUp();
  }

  private setMe(info: AgentInfo): void {
    if (!this.me || allocationKey(this.me) !== allocationKey(info)) {
      this.status.reset(info.overlays.map((o) => o.info.name));
      this.fullPassDue = true;
    }
    this.me = info;
  }

  onWatchEvent(event: WatchEvent): void {
    if (event.type === 'resync') {
      this.peers.clear();
      for (const agent of event.state.agents) this.peers.set(agent.ip, agent);
      this.synced = true;
    } else if (event.type === 'put') {
      this.peers.set(event.agent.ip, event.agent);
    } else {
      this.peers.delete(event.ip);
    }
    const mine = this.peers.get(this.options.ip);
    if (mine) this.setMe(mine);
    else if (this.synced && this.me) this.needsRegistration = true; // deleted at the master
    this.wake();
  }

  /** Runs until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    void this.deps.master.watch((e) => this.onWatchEvent(e), signal);
    this.deps.monitor?.(() => {
      this.fullPassDue = true;
      this.wake();
    }, signal);
    // Engine events (networks, containers, the daemon itself coming and going) need a look at Docker.
    void this.deps.docker?.followEvents(() => {
      this.fullPassDue = true;
      this.wake();
    }, signal);
    signal.addEventListener('abort', () => this.wake(), { once: true });
    while (!signal.aborted) {
      if (this.needsRegistration) await this.register(signal);
      const woken = new Promise<void>((resolve) => {
        const timer = setTimeout(() => { this.fullPassDue = true; resolve(); }, this.options.tickMs);
        this.wakeUp = () => { clearTimeout(timer); resolve(); };
      });
      if (!signal.aborted) {
        await this.pass().catch((err: unknown) => {
          this.believed = undefined;
          this.deps.log(`pass failed: ${String(err)}`);
        });
      }
      await woken;
    }
  }

  private async register(signal: AbortSignal): Promise<void> {
    this.needsRegistration = false;
    const info = await this.deps.master.register({ ip: this.options.ip, network_config: this.options.networkConfig }, signal);
    if (info) {
      this.reporter.forget();
      this.setMe(info);
      this.deps.log(`registered ${this.options.ip} with ${info.overlays.length} overlay(s)`);
    }
  }

  /**
   * One level-triggered pass; waits for the first full state so a restart
   * never removes live peers. Ticks (and anything unusual) re-observe the
   * kernel; a watch event plans against the belief, so a peer change costs
   * one plan and one batch.
   */
  async pass(): Promise<void> {
    const me = this.me;
    if (!me || !this.synced) return;
    if (this.fullPassDue || !this.believed) return this.fullPass(me);
    const { desired } = computeDesired(me, [...this.peers.values()], this.underlay, { ...this.options, bridgeMtu: this.options.mtu });
    const planned = plan(desired, this.believed, this.status.skipped());
    if (planned.ops.length === 0) return;
    this.attempts++;
    const failures = await execute(this.deps.exec, planned.ops);
    this.believed = applyOps(this.believed, planned.ops);
    if (failures.length > 0) {
      this.fullPassDue = true; // record the errors with a full look at the kernel
      this.wake();
    }
  }

  private async fullPass(me: AgentInfo): Promise<void> {
    this.fullPassDue = false;
    this.believed = undefined;
    const errors = new Map<string, string[]>();
    const fail = (scope: string | undefined, message: string): void => {
      errors.set(scope ?? SHARED, [...(errors.get(scope ?? SHARED) ?? []), message]);
    };
    const skipped = this.status.skipped();
    if (!skipped.has(SHARED)) {
      const observed = await observe(this.deps.exec);
      this.underlay = findUnderlay(observed.links, this.options.ip);
      const { desired, problems, warnings } = computeDesired(me, [...this.peers.values()], this.underlay, { ...this.options, bridgeMtu: this.options.mtu });
      if (warnings.join('\n') !== this.lastWarnings) warnings.forEach((w) => this.deps.log(w));
      this.lastWarnings = warnings.join('\n');
      const planned = plan(desired, observed, skipped);
      [...problems, ...planned.problems].forEach((p) => fail(p.scope, p.message));
      let failures: OpFailure[] = [];
      if (planned.ops.length > 0) {
        this.attempts++;
        failures = await execute(this.deps.exec, planned.ops);
        failures.forEach((f) => fail(f.op.scope, `${f.op.kind}: ${f.error}`));
      }
      if (failures.length === 0) this.believed = applyOps(observed, planned.ops);
      await this.ensureHost(me, fail);
      await this.ensureBridges(desired.links.filter((l) => l.kind === 'bridge').map((l) => l.name), fail);
      await this.ensureCni(me, skipped, fail);
      await this.ensureForwarding(me, fail);
    }
    // Docker networks sit on the d- bridges: only where the bridge is in place.
    const blocked = new Set([...skipped, ...errors.keys()]);
    const docker = skipped.has(SHARED) ? undefined : await dockerStep(this.deps.docker, me, { mtu: this.options.mtu, blocked, log: this.deps.log });
    if (docker) {
      this.docker = docker.state;
      docker.failures.forEach((f) => fail(f.scope, f.message));
      const warnings = docker.warnings.join('\n');
      if (warnings !== this.lastDockerWarnings) docker.warnings.forEach((w) => this.deps.log(`warning: ${w}`));
      this.lastDockerWarnings = warnings;
    }
    this.status.record(errors);
    const cni = containersFromIpam(await readIpamFiles(this.ipamDir)).map((c) => ({ ...c, runtime: 'cni' as const }));
    this.reporter.send(this.status.report(), { containers: [...cni, ...(docker?.containers ?? [])], engines: { docker: this.docker } });
  }

  /** vxnet's bridges are one veth hop wide: a 10 ms ARP/ND retry lets a new container answer at once. */
  private async ensureBridges(bridges: string[], fail: (scope: string | undefined, message: string) => void): Promise<void> {
    for (const bridge of bridges) {
      await setBridgeNeighbourRetrans(bridge, BRIDGE_NEIGH_RETRANS_MS).catch((err: unknown) => {
        fail(undefined, `neighbour retransmit time of ${bridge}: ${err instanceof Error ? err.message : String(err)}`);
      });
    }
  }

  /** Overlay traffic through Docker's FORWARD policy (DOCKER-USER), where a dockerd has run. */
  private async ensureForwarding(me: AgentInfo, fail: (scope: string | undefined, message: string) => void): Promise<void> {
    const subnets = natSubnets(me);
    const key = JSON.stringify(subnets);
    try {
      const changed = await syncDockerUser(this.deps.exec, subnets);
      if (changed.length > 0 && key === this.lastForward) this.deps.log('restored vxnet\'s rules in DOCKER-USER');
      this.lastForward = key;
    } catch (err) {
      fail(undefined, err instanceof Error ? err.message : String(err));
    }
  }

  private async ensureHost(me: AgentInfo, fail: (scope: string | undefined, message: string) => void): Promise<void> {
    const subnets = natSubnets(me);
    const script = renderNat(subnets);
    try {
      const tables = await nftTables(this.deps.exec);
      const missing = (subnets.v4.length > 0 && !tables.has('ip')) || (subnets.v6.length > 0 && !tables.has('ip6'));
      if (script !== this.lastNat || missing) {
        await applyNft(this.deps.exec, script);
        this.lastNat = script;
      }
      await enableSysctl('/proc/sys/net/ipv4/ip_forward');
      if (subnets.v6.length > 0) await enableSysctl('/proc/sys/net/ipv6/conf/all/forwarding');
    } catch (err) {
      fail(undefined, err instanceof Error ? err.message : String(err));
    }
  }

  private async ensureCni(me: AgentInfo, skipped: Set<string>, fail: (scope: string | undefined, message: string) => void): Promise<void> {
    const keep = new Set<string>();
    for (const overlay of me.overlays) {
      const name = overlay.info.name;
      const file = conflistFileName(name);
      if (skipped.has(name)) { keep.add(file); continue; }
      if (!this.options.networkConfig.mesos_bridge) continue;
      const text = renderConflist(overlay, { mtu: this.options.mtu, ipamDir: this.ipamDir });
      if (!text) continue;
      keep.add(file);
      try {
        await writeFileIfChanged(join(this.options.cniConfDir, file), this.options.cniConfDir, text);
      } catch (err) {
        fail(name, `writing ${file}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    await removeConflists(this.options.cniConfDir, keep).catch(() => []);
  }

  /** GET /overlay-agent/overlay. */
  state(): AgentOverlayState {
    const overlays = (this.me?.overlays ?? []).map((o) => ({ ...o, state: this.status.statusOf(o.info.name) ?? o.state }));
    return { ip: this.options.ip, overlays, configuration_attempts: this.attempts, engines: { docker: this.docker } };
  }
}
