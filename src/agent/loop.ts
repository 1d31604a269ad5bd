// The agent's level-triggered loop. Watch events only update what the master
// says and wake the loop. A pass woken by a watch event plans against its
// belief of the kernel (the last full observation plus the ops applied since);
// a tick, an `ip monitor` or Docker wake, a failure or a new allocation makes
// the next pass a full one, which re-reads the kernel and re-checks the rest
// of the host. Nothing is torn down on stop. The kernel, the host, the master
// and time come in as ports, so every rule here has a unit test (loop.test.ts).

import { join } from 'node:path';
import type {
  AgentInfo,
  AgentNetworkConfig,
  AgentOverlayState,
  ContainerInfo,
  ContainersReport,
  EngineState,
  WatchEvent,
} from '../api/types.js';
import { applyOps } from './apply.js';
import { containersFromIpam, splitByAllocation } from './containers.js';
import { LeaseKeeper, MAX_STRANDED, splitLeaseTerms, withdrawn } from './lease.js';
import { desiredFrom, isEnabled, type Underlay } from './desired.js';
import { dockerStep, type DockerPort } from './docker/sync.js';
import type { OpFailure } from './linux/execute.js';
import { findUnderlay } from './linux/parse.js';
import type { MasterPort } from './master-client.js';
import type { ObservedState } from './model.js';
import { plan } from './plan.js';
import type { Clock, Host, Kernel } from './ports.js';
import { Reporter } from './reporter.js';
import { parseSelf, type Self } from './self.js';
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
  kernel: Kernel;
  host: Host;
  clock: Clock;
  master: MasterPort;
  log: (message: string) => void;
  /** Calls back when the kernel changes under vxnet's feet (optional: ticks repair anyway). */
  monitor?: (onChange: () => void, signal: AbortSignal) => void;
  /** The Docker engine whose networks the agent keeps; undefined with --no-docker. */
  docker?: DockerPort;
  /** The IPAM collector's last counts per overlay (ipam-gc/), sent with the containers report. */
  ipamSummary?: () => ContainersReport['ipam'];
}

/** ARP/ND retransmit time on vxnet's bridges (the kernel's default, 1 s, is made for real LANs). */
export const BRIDGE_NEIGH_RETRANS_MS = 10;

type Fail = (scope: string | undefined, message: string) => void;

/** What identifies an allocation; status changes the agent itself reports are left out. */
const allocationKey = (info: AgentInfo): string => JSON.stringify(info.overlays.map(({ state: _state, ...rest }) => rest));

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export class AgentLoop {
  /** This agent's allocation, parsed when the master sends it. */
  private self: Self | undefined;
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
  private lastStranded = '';
  private lastRetransProblem = '';
  /** The overlays the master's config lists (from the last resync): host-local data of others is removed. */
  private configured: Set<string> | undefined;
  private docker: EngineState = { status: 'disabled' };
  /** Heartbeats and the gate before each pass (lease.ts); with a master port that can renew. */
  private readonly lease: LeaseKeeper | undefined;
  /** Containers on addresses outside this agent's allocation, as the last full pass found them. */
  private stranded: ContainerInfo[] = [];

  constructor(
    private readonly options: AgentOptions,
    private readonly deps: AgentDeps,
  ) {
    this.status = new StatusTracker({ maxAttempts: options.maxAttempts, baseMs: options.tickMs });
    this.reporter = new Reporter(deps.master, options.ip, deps.log);
    const heartbeat = deps.master.heartbeat?.bind(deps.master);
    this.lease = heartbeat && new LeaseKeeper((epoch) => heartbeat(options.ip, epoch), deps.clock, deps.log);
  }

  private get ipamDir(): string {
    return join(this.options.stateDir, 'ipam');
  }

  wake(): void {
    this.wakeUp();
  }

  /** The next pass re-reads the kernel and re-checks the host. */
  private wakeFull(): void {
    this.fullPassDue = true;
    this.wake();
  }

  private setMe(info: AgentInfo): void {
    if (info === this.self?.info) return;
    if (!this.self || allocationKey(this.self.info) !== allocationKey(info)) {
      this.status.reset(info.overlays.filter(isEnabled).map((o) => o.info.name));
      this.fullPassDue = true;
    }
    this.self = parseSelf(info, { mtu: this.options.mtu, networkConfig: this.options.networkConfig, ipamDir: this.ipamDir });
  }

  /** Event types this agent does not know are ignored: the stream may grow. */
  onWatchEvent(event: WatchEvent): void {
    switch (event.type) {
      case 'resync':
        this.peers.clear();
        for (const agent of event.state.agents) this.peers.set(agent.ip, agent);
        // Without the config (a malformed frame) nothing is removed for lack of it.
        this.configured = Array.isArray(event.state.network?.overlays)
          ? new Set(event.state.network.overlays.map((o) => o.name))
          : undefined;
        this.synced = true;
        break;
      case 'put':
        this.peers.set(event.agent.ip, event.agent);
        break;
      case 'delete':
        this.peers.delete(event.ip);
        break;
      default:
        return;
    }
    const mine = this.peers.get(this.options.ip);
    if (mine) this.setMe(mine);
    else if (this.synced && this.self) this.needsRegistration = true; // deleted at the master
    this.wake();
  }

  /** Runs until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    void this.deps.master.watch((e) => this.onWatchEvent(e), signal);
    this.deps.monitor?.(() => this.wakeFull(), signal);
    // Engine events (networks, containers, the daemon itself coming and going) need a look at Docker.
    void this.deps.docker?.followEvents(() => this.wakeFull(), signal);
    signal.addEventListener('abort', () => this.wake(), { once: true });
    void this.lease?.run(signal, () => this.wake());
    while (!signal.aborted) {
      // A lease that ran out (lease.ts): the old allocation leaves this host before anything else runs.
      if ((await this.lease?.gate()) === 'withdraw') await this.withdraw();
      if (this.needsRegistration) await this.register(signal);
      const woken = new Promise<void>((resolve) => {
        const cancel = this.deps.clock.setTimer(this.options.tickMs, () => {
          this.fullPassDue = true;
          resolve();
        });
        this.wakeUp = () => {
          cancel();
          resolve();
        };
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

  /** One pass with no own allocation (its subnets' bridges and addresses go), then a registration for a fresh one. */
  private async withdraw(): Promise<void> {
    if (this.self && this.synced) {
      this.setMe(withdrawn(this.self.info));
      await this.pass().catch((err: unknown) => this.deps.log(`withdrawing the old allocation failed: ${String(err)}`));
    }
    this.needsRegistration = true;
  }

  private async register(signal: AbortSignal): Promise<void> {
    this.needsRegistration = false;
    const sentAt = this.deps.clock.now();
    const answer = await this.deps.master.register({ ip: this.options.ip, network_config: this.options.networkConfig }, signal);
    if (answer) {
      const { info, lease } = splitLeaseTerms(answer);
      this.lease?.granted(lease, sentAt);
      this.reporter.forget();
      this.setMe(info);
      this.deps.log(`registered ${this.options.ip} with ${info.overlays.length} overlay(s)`);
    }
  }

  /**
   * One level-triggered pass; waits for the first full state so a restart
   * never removes live peers. A full pass is due after a tick, a monitor or
   * Docker wake, a failure and a new allocation; otherwise (a watch event)
   * the pass plans against the belief, so a peer change costs one plan and
   * one batch.
   */
  async pass(): Promise<void> {
    const self = this.self;
    if (!self || !this.synced) return;
    if (this.fullPassDue || !this.believed) return this.fullPass(self);
    const { desired } = desiredFrom(self.own, [...this.peers.values()], this.underlay, this.options);
    const planned = plan(desired, this.believed, this.status.skipped(this.deps.clock.now()));
    if (planned.ops.length === 0) return;
    this.attempts++;
    const failures = await this.deps.kernel.execute(planned.ops);
    this.believed = applyOps(this.believed, planned.ops);
    if (failures.length > 0) this.wakeFull(); // record the errors with a full look at the kernel
  }

  private async fullPass(self: Self): Promise<void> {
    this.fullPassDue = false;
    this.believed = undefined;
    const errors = new Map<string, string[]>();
    const fail: Fail = (scope, message) => {
      errors.set(scope ?? SHARED, [...(errors.get(scope ?? SHARED) ?? []), message]);
    };
    const skipped = this.status.skipped(this.deps.clock.now());
    if (!skipped.has(SHARED)) {
      const observed = await this.deps.kernel.observe();
      this.underlay = findUnderlay(observed.links, this.options.ip);
      const { desired, problems, warnings } = desiredFrom(self.own, [...this.peers.values()], this.underlay, this.options);
      if (warnings.join('\n') !== this.lastWarnings) warnings.forEach((w) => this.deps.log(w));
      this.lastWarnings = warnings.join('\n');
      const planned = plan(desired, observed, skipped);
      [...problems, ...planned.problems].forEach((p) => fail(p.scope, p.message));
      let failures: OpFailure[] = [];
      if (planned.ops.length > 0) {
        this.attempts++;
        failures = await this.deps.kernel.execute(planned.ops);
        failures.forEach((f) => fail(f.op.scope, `${f.op.kind}: ${f.error}`));
      }
      if (failures.length === 0) this.believed = applyOps(observed, planned.ops);
      await this.ensureHost(self, fail);
      await this.ensureBridges(desired.links.filter((l) => l.kind === 'bridge').map((l) => l.name));
      await this.ensureCni(self, skipped, fail);
      await this.ensureForwarding(self, fail);
    }
    // Docker networks sit on the d- bridges: only where the bridge is in place.
    const blocked = new Set([...skipped, ...errors.keys()]);
    const docker = skipped.has(SHARED)
      ? undefined
      : await dockerStep(this.deps.docker, { desired: self.docker, overlays: new Set(self.listed) }, { blocked, log: this.deps.log });
    if (docker) {
      this.docker = docker.state;
      docker.failures.forEach((f) => fail(f.scope, f.message));
      const warnings = docker.warnings.join('\n');
      if (warnings !== this.lastDockerWarnings) docker.warnings.forEach((w) => this.deps.log(`warning: ${w}`));
      this.lastDockerWarnings = warnings;
    }
    for (const rest of this.status.record(errors, skipped, this.deps.clock.now())) {
      const what = rest.scope === SHARED ? 'this host' : `overlay ${rest.scope}`;
      this.deps.log(`${what} failed ${rest.failedPasses} passes in a row; next attempt in ${Math.round(rest.retryInMs / 1000)} s`);
    }
    const cni = containersFromIpam(await this.deps.host.readIpamFiles(this.ipamDir)).map((c) => ({ ...c, runtime: 'cni' as const }));
    // The master refuses containers outside this agent's subnets: stranded ones go apart, as `stranded`.
    const { kept, stranded } = splitByAllocation([...cni, ...(docker?.containers ?? [])], self.info);
    const strandedText = stranded.map((c) => `${c.id.slice(0, 12)} ${c.network} ${c.ip}`).join(', ');
    if (strandedText && strandedText !== this.lastStranded)
      this.deps.log(`containers outside this agent's subnets, reported as stranded and not routed: ${strandedText}`);
    this.lastStranded = strandedText;
    const ipam = this.deps.ipamSummary?.();
    this.stranded = stranded;
    this.reporter.send(this.status.report(), {
      containers: kept,
      engines: { docker: this.docker },
      ...(ipam && { ipam }),
      // Reported as stranded (shown, never routed), at most MAX_STRANDED of them.
      ...(stranded.length > 0 && { stranded: stranded.slice(0, MAX_STRANDED) }),
    });
  }

  /**
   * vxnet's bridges are one veth hop wide: a 10 ms ARP/ND retry lets a new
   * container answer at once. Only a speed-up: where /proc/sys is read-only
   * it is logged (once), and the overlays stay OK.
   */
  private async ensureBridges(bridges: string[]): Promise<void> {
    const problems: string[] = [];
    for (const bridge of bridges) {
      await this.deps.host.setBridgeNeighbourRetrans(bridge, BRIDGE_NEIGH_RETRANS_MS).catch((err: unknown) => {
        problems.push(`${bridge}: ${messageOf(err)}`);
      });
    }
    const text = problems.join('; ');
    if (text && text !== this.lastRetransProblem)
      this.deps.log(`warning: cannot set the neighbour retransmit time (${text}); new containers may answer up to 1 s later`);
    this.lastRetransProblem = text;
  }

  /** Overlay traffic through Docker's FORWARD policy (DOCKER-USER), where a dockerd has run. */
  private async ensureForwarding(self: Self, fail: Fail): Promise<void> {
    const key = JSON.stringify(self.nat);
    try {
      const changed = await this.deps.host.syncDockerUser(self.nat);
      if (changed.length > 0 && key === this.lastForward) this.deps.log("restored vxnet's rules in DOCKER-USER");
      this.lastForward = key;
    } catch (err) {
      fail(undefined, messageOf(err));
    }
  }

  private async ensureHost(self: Self, fail: Fail): Promise<void> {
    const { nat, natScript } = self;
    try {
      const tables = await this.deps.host.nftTables();
      const missing = (nat.v4.length > 0 && !tables.has('ip')) || (nat.v6.length > 0 && !tables.has('ip6'));
      if (natScript !== this.lastNat || missing) {
        await this.deps.host.applyNft(natScript);
        this.lastNat = natScript;
      }
      await this.deps.host.enableSysctl('/proc/sys/net/ipv4/ip_forward');
      if (nat.v6.length > 0) await this.deps.host.enableSysctl('/proc/sys/net/ipv6/conf/all/forwarding');
    } catch (err) {
      fail(undefined, messageOf(err));
    }
  }

  private async ensureCni(self: Self, skipped: Set<string>, fail: Fail): Promise<void> {
    const keep = new Set<string>();
    for (const { overlay, file, text } of self.conflists) {
      if (skipped.has(overlay)) {
        keep.add(file);
        continue;
      }
      if (text === undefined) continue;
      keep.add(file);
      try {
        await this.deps.host.writeFileIfChanged(join(this.options.cniConfDir, file), this.options.cniConfDir, text);
      } catch (err) {
        fail(overlay, `writing ${file}: ${messageOf(err)}`);
      }
    }
    await this.deps.host.removeConflists(this.options.cniConfDir, keep).catch(() => []);
    // Host-local data of overlays deleted from the config (a disabled one keeps its reservations).
    if (this.configured) {
      const removed = await this.deps.host.removeIpamDirs?.(this.ipamDir, this.configured).catch((err: unknown) => {
        this.deps.log(`warning: removing host-local data of deleted overlays: ${messageOf(err)}`);
        return [];
      });
      if (removed?.length) this.deps.log(`removed host-local data of deleted overlay(s): ${removed.join(', ')}`);
    }
  }

  /** GET /overlay-agent/overlay. */
  state(): AgentOverlayState {
    const overlays = (this.self?.info.overlays ?? []).map((o) => ({ ...o, state: this.status.statusOf(o.info.name) ?? o.state }));
    const lease = this.lease?.state();
    return {
      ip: this.options.ip,
      overlays,
      configuration_attempts: this.attempts,
      engines: { docker: this.docker },
      ...(this.stranded.length > 0 && { stranded: this.stranded }),
      ...(lease && { lease }),
    };
  }
}
