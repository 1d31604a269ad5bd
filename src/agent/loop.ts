// The agent's level-triggered loop. Watch events only update what the master
// says and wake the loop (the echo of a report, which changes only an
// agent's `state`, does neither: peers.ts). Passes plan against a belief of the kernel (the
// last full observation plus the ops applied since, plus the tables re-read
// since). What a pass reads depends on what woke it: a watch event reads
// nothing; an `ip monitor` event re-reads only the table it names; a tick
// (--tick-ms) re-checks the host's files (sysctls, conflists, host-local
// containers); a full pass re-reads the whole kernel and re-checks nftables,
// DOCKER-USER and Docker too, every --resync-ms, after a failure, a link
// change or a new allocation. An idle agent thus spawns no process between
// two full passes. Nothing is torn down on stop. The kernel, the host, the
// master and time come in as ports, so every rule here has a unit test
// (loop.test.ts).

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
import { type DesiredResult, desiredFrom, isEnabled, type Underlay } from './desired.js';
import { dockerStep, type DockerPort } from './docker/sync.js';
import type { OpFailure } from './linux/execute.js';
import { findUnderlay } from './linux/parse.js';
import { deletedEntry, removalsOf } from './linux/monitor.js';
import type { MasterPort } from './master-client.js';
import type { DesiredState, ObservedState } from './model.js';
import { plan } from './plan.js';
import type { Clock, Host, Kernel, KernelTable } from './ports.js';
import { Reporter } from './reporter.js';
import { afterResync, changesProgramming } from './peers.js';
import { parseSelf, type Self, type SelfOptions } from './self.js';
import { clusterMtuOf, describeMtu, type MtuFlag, ownMtuOf } from './mtu.js';
import { SHARED, StatusTracker } from './status.js';

export interface AgentOptions {
  ip: string;
  stateDir: string;
  cniConfDir: string;
  /** --mtu (mtu.ts). */
  mtu: MtuFlag;
  vxlanPort: number;
  networkConfig: AgentNetworkConfig;
  maxAttempts: number;
  tickMs: number;
  /** How often the whole kernel is re-read (and nftables, DOCKER-USER, Docker re-checked); default RESYNC_MS. */
  resyncMs?: number;
}

export interface AgentDeps {
  kernel: Kernel;
  host: Host;
  clock: Clock;
  master: MasterPort;
  log: (message: string) => void;
  /** Calls back with the tables that changed under vxnet's feet (`links`: re-read all); optional, full passes repair anyway. */
  monitor?: (onChange: (changed: (KernelTable | 'links')[], line: string) => void, signal: AbortSignal) => void;
  /** The Docker engine whose networks the agent keeps; undefined with --no-docker. */
  docker?: DockerPort;
  /** The IPAM collector's last counts per overlay (ipam-gc/), sent with the containers report. */
  ipamSummary?: () => ContainersReport['ipam'];
}

/** ARP/ND retransmit time on vxnet's bridges (the kernel's default, 1 s, is made for real LANs). */
export const BRIDGE_NEIGH_RETRANS_MS = 10;

/** The full re-read's period: `ip monitor` repairs drift in between, so this is only a safety net. */
export const RESYNC_MS = 30_000;

/** What the next pass must look at besides the master's changes. */
interface Due {
  /** Tables to re-read into the belief, or `all`: a full pass. */
  kernel: 'all' | Set<KernelTable>;
  /** The master's view changed: plan against the belief. */
  plan: boolean;
  /** The host's files (a tick). */
  host: boolean;
  /** nftables, DOCKER-USER and Docker (processes or the engine's API: not on every tick). */
  tools: boolean;
}
const nothingDue = (): Due => ({ kernel: new Set(), plan: false, host: false, tools: false });

type Fail = (scope: string | undefined, message: string) => void;

/** Adds each failure to `errors` under its overlay (SHARED: every overlay). */
const failInto =
  (errors: Map<string, string[]>): Fail =>
  (scope, message) => {
    errors.set(scope ?? SHARED, [...(errors.get(scope ?? SHARED) ?? []), message]);
  };

/** What identifies an allocation; status changes the agent itself reports are left out. */
const allocationKey = (info: AgentInfo): string => JSON.stringify(info.overlays.map(({ state: _state, ...rest }) => rest));

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export class AgentLoop {
  /** This agent's allocation, parsed when the master sends it. */
  private self: Self | undefined;
  private peers = new Map<string, AgentInfo>();
  private synced = false;
  private needsRegistration = true;
  private readonly status: StatusTracker;
  private readonly reporter: Reporter;
  private attempts = 0;
  private wakeUp: () => void = () => {};
  /** The kernel state as of the last full observation plus the ops applied since. */
  private believed: ObservedState | undefined;
  /** What the last full pass planned nothing from: the same (memoised) objects again need no plan. */
  private idleFrom: { desired: DesiredState; observed: ObservedState } | undefined;
  private underlay: Underlay | undefined;
  private due: Due = { kernel: 'all', plan: true, host: true, tools: true };
  /** What the last batch deleted, as `ip monitor` names it: its echo on the monitor is not drift. */
  private removing = new Set<string>();
  private nextTickAt = Number.NEGATIVE_INFINITY;
  private lastFullAt = Number.NEGATIVE_INFINITY;
  /** The last recorded pass had errors or left an overlay resting: every tick is a full pass until it heals. */
  private failing = false;
  /** Counts changes to `peers`, for the desired-state cache. */
  private peersVersion = 0;
  private desiredCache: { key: { own: Self['own']; version: number; underlay: string }; result: DesiredResult } | undefined;
  /** vxnet's bridges as the last full pass desired them. */
  private bridges: string[] = [];
  /** Docker's containers as the last Docker step found them. */
  private dockerContainers: ContainerInfo[] = [];
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
  /** What this host's underlay carries and the cluster's lowest, as last seen (mtu.ts). */
  private readonly mtu: { own?: number; cluster?: number } = {};

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
    this.due.kernel = 'all';
    this.wake();
  }

  /**
   * `ip monitor` saw vxnet's tables change: re-read just those (a link:
   * everything), unless the line is one of the deletions the agent itself
   * made last (a peer that left would otherwise cost every host three re-reads).
   */
  private kernelChanged(changed: (KernelTable | 'links')[], line = ''): void {
    const entry = deletedEntry(line);
    if (entry !== undefined && this.removing.has(entry)) return;
    const tables = this.due.kernel;
    if (changed.includes('links')) this.due.kernel = 'all';
    else if (tables !== 'all') for (const t of changed) if (t !== 'links') tables.add(t);
    this.wake();
  }

  /** Once per --tick-ms: the host's files; the whole kernel every --resync-ms, or while something fails. */
  private tick(now: number): void {
    this.due.host = true;
    if (this.failing || now - this.lastFullAt >= (this.options.resyncMs ?? RESYNC_MS)) this.due.kernel = 'all';
  }

  /** True when what this host programs may have changed (not for the echo of its own status report). */
  private setMe(info: AgentInfo): boolean {
    if (info === this.self?.info) return false;
    const allocated = !this.self || allocationKey(this.self.info) !== allocationKey(info);
    if (allocated) {
      this.status.reset(info.overlays.filter(isEnabled).map((o) => o.info.name));
      this.due.kernel = 'all';
    }
    const own = this.self?.own;
    this.self = this.parsed(info);
    return allocated || this.self.own !== own;
  }

  /** `parseSelf`, keeping the old `own` when it is the same: the desired state is cached by it. */
  private parsed(info: AgentInfo): Self {
    const self = parseSelf(info, this.selfOptions());
    const own = this.self?.own;
    return own && JSON.stringify(own) === JSON.stringify(self.own) ? { ...self, own } : self;
  }

  private selfOptions(): SelfOptions {
    const { own: ownMtu, cluster: clusterMtu } = this.mtu;
    return { mtu: this.options.mtu, ownMtu, clusterMtu, networkConfig: this.options.networkConfig, ipamDir: this.ipamDir };
  }

  /** Notes a new underlay or cluster MTU; true when that changed the MTUs (`self` is parsed again with them). */
  private seeMtu(key: 'own' | 'cluster', value: number | undefined): boolean {
    if (value === undefined || this.mtu[key] === value) return false;
    this.mtu[key] = value;
    const before = this.self?.mtu;
    if (!this.self) return false;
    this.self = this.parsed(this.self.info);
    if (before?.container === this.self.mtu.container && before.vxlan === this.self.mtu.vxlan) return false;
    this.deps.log(describeMtu(this.self.mtu));
    return true;
  }

  /** Event types this agent does not know are ignored: the stream may grow. */
  onWatchEvent(event: WatchEvent): void {
    // Whether a peer's programming changed (peers.ts): a report's echo changes nothing.
    let peersChanged: boolean;
    switch (event.type) {
      case 'resync': {
        const next = afterResync(this.peers, event.state.agents, this.options.ip);
        this.peers = next.peers;
        peersChanged = next.changed || !this.synced;
        // Without the config (a malformed frame) nothing is removed for lack of it.
        this.configured = Array.isArray(event.state.network?.overlays)
          ? new Set(event.state.network.overlays.map((o) => o.name))
          : undefined;
        this.synced = true;
        break;
      }
      case 'put': {
        const ip = event.agent.ip;
        peersChanged = ip !== this.options.ip && changesProgramming(this.peers.get(ip), event.agent);
        if (peersChanged || ip === this.options.ip) this.peers.set(ip, event.agent);
        break;
      }
      case 'delete':
        peersChanged = this.peers.delete(event.ip) && event.ip !== this.options.ip;
        break;
      case 'mtu':
        // Bridges, conflists and Docker networks: a full pass.
        if (this.seeMtu('cluster', clusterMtuOf(event))) this.wakeFull();
        return;
      default:
        return;
    }
    const mine = this.peers.get(this.options.ip);
    const meChanged = mine ? this.setMe(mine) : false;
    if (!mine && this.synced && this.self) this.needsRegistration = true; // deleted at the master
    if (peersChanged) this.peersVersion++;
    if (!peersChanged && !meChanged && !this.needsRegistration) return;
    this.due.plan = true;
    this.wake();
  }

  /** Runs until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    void this.deps.master.watch((e) => this.onWatchEvent(e), signal);
    this.deps.monitor?.((changed, line) => this.kernelChanged(changed, line), signal);
    // Engine events (networks, containers, the daemon itself coming and going) need a look at Docker, not at the kernel.
    void this.deps.docker?.followEvents(() => {
      this.due.tools = this.due.host = true;
      this.wake();
    }, signal);
    signal.addEventListener('abort', () => this.wake(), { once: true });
    void this.lease?.run(signal, () => this.wake());
    while (!signal.aborted) {
      // A lease that ran out (lease.ts): the old allocation leaves this host before anything else runs.
      if ((await this.lease?.gate()) === 'withdraw') await this.withdraw();
      if (this.needsRegistration) await this.register(signal);
      // Ticks keep their cadence however often events wake the loop.
      const now = this.deps.clock.now();
      if (now >= this.nextTickAt) {
        this.tick(now);
        this.nextTickAt = now + this.options.tickMs;
      }
      const woken = new Promise<void>((resolve) => {
        const cancel = this.deps.clock.setTimer(this.nextTickAt - now, resolve);
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
   * never removes live peers. A full pass when one is due (see `Due`);
   * otherwise the tables `ip monitor` named are re-read into the belief, the
   * master's changes planned against it (one plan and one batch for a peer
   * change), and on a tick the host's files re-checked.
   */
  async pass(): Promise<void> {
    const self = this.self;
    if (!self || !this.synced) return;
    const due = this.due;
    this.due = nothingDue();
    if (due.kernel === 'all' || !this.believed || ((due.host || due.tools) && this.failing)) return this.fullPass(self);
    if (due.kernel.size > 0) this.believed = { ...this.believed, ...(await this.deps.kernel.read(due.kernel)) };
    if (due.plan || due.kernel.size > 0) await this.planOnBelief(self, this.believed);
    if (due.host || due.tools) await this.checkHost(self, new Map(), this.status.skipped(this.deps.clock.now()), due.tools);
  }

  private async planOnBelief(self: Self, believed: ObservedState): Promise<void> {
    const { desired } = this.desiredOf(self);
    const planned = plan(desired, believed, this.status.skipped(this.deps.clock.now()));
    if (planned.ops.length === 0) return;
    this.attempts++;
    this.removing = removalsOf(planned.ops);
    const failures = await this.deps.kernel.execute(planned.ops);
    this.believed = applyOps(believed, planned.ops);
    if (failures.length > 0) this.wakeFull(); // record the errors with a full look at the kernel
  }

  /** The desired state, worked out again only when the master's view or the underlay changed (not on every full pass). */
  private desiredOf(self: Self): DesiredResult {
    const key = { own: self.own, version: this.peersVersion, underlay: JSON.stringify(this.underlay ?? null) };
    const c = this.desiredCache;
    if (c && c.key.own === key.own && c.key.version === key.version && c.key.underlay === key.underlay) return c.result;
    const result = desiredFrom(self.own, [...this.peers.values()], this.underlay, this.options);
    this.desiredCache = { key, result };
    return result;
  }

  private async fullPass(self: Self): Promise<void> {
    this.believed = undefined;
    this.lastFullAt = this.deps.clock.now();
    const errors = new Map<string, string[]>();
    const fail = failInto(errors);
    const skipped = this.status.skipped(this.deps.clock.now());
    if (!skipped.has(SHARED)) {
      const observed = await this.deps.kernel.observe();
      this.underlay = findUnderlay(observed.links, this.options.ip);
      if (this.seeMtu('own', ownMtuOf(this.underlay, this.options.ip))) self = this.self!;
      const { desired, problems, warnings } = this.desiredOf(self);
      if (warnings.join('\n') !== this.lastWarnings) warnings.forEach((w) => this.deps.log(w));
      this.lastWarnings = warnings.join('\n');
      const idle = this.idleFrom?.desired === desired && this.idleFrom.observed === observed && skipped.size === 0;
      const planned = idle ? { ops: [], problems: [] } : plan(desired, observed, skipped);
      const nothing = planned.ops.length === 0 && planned.problems.length === 0 && skipped.size === 0;
      this.idleFrom = nothing ? { desired, observed } : undefined;
      [...problems, ...planned.problems].forEach((p) => fail(p.scope, p.message));
      let failures: OpFailure[] = [];
      if (planned.ops.length > 0) {
        this.attempts++;
        this.removing = removalsOf(planned.ops);
        failures = await this.deps.kernel.execute(planned.ops);
        failures.forEach((f) => fail(f.op.scope, `${f.op.kind}: ${f.error}`));
      }
      if (failures.length === 0) this.believed = applyOps(observed, planned.ops);
      this.bridges = desired.links.filter((l) => l.kind === 'bridge').map((l) => l.name);
    }
    await this.checkHost(self, errors, skipped, true);
  }

  /**
   * The rest of the host after the kernel part of a pass (whose `errors` it
   * adds to): files always, `tools` (nftables, DOCKER-USER, Docker) only on
   * full passes and Docker events. Records the status and reports to the master.
   */
  private async checkHost(self: Self, errors: Map<string, string[]>, skipped: Set<string>, tools: boolean): Promise<void> {
    const fail = failInto(errors);
    if (!tools) await this.checkUnderlayMtu();
    if (!skipped.has(SHARED)) {
      await this.ensureHost(self, fail, tools);
      await this.ensureBridges(this.bridges);
      await this.ensureCni(self, skipped, fail);
      if (tools) await this.ensureForwarding(self, fail);
    }
    // Docker networks sit on the d- bridges: only where the bridge is in place.
    const blocked = new Set([...skipped, ...errors.keys()]);
    const docker =
      skipped.has(SHARED) || !tools
        ? undefined
        : await dockerStep(this.deps.docker, { desired: self.docker, overlays: new Set(self.listed) }, { blocked, log: this.deps.log });
    if (docker) {
      this.docker = docker.state;
      this.dockerContainers = docker.containers;
      docker.failures.forEach((f) => fail(f.scope, f.message));
      const warnings = docker.warnings.join('\n');
      if (warnings !== this.lastDockerWarnings) docker.warnings.forEach((w) => this.deps.log(`warning: ${w}`));
      this.lastDockerWarnings = warnings;
    }
    for (const rest of this.status.record(errors, skipped, this.deps.clock.now())) {
      const what = rest.scope === SHARED ? 'this host' : `overlay ${rest.scope}`;
      this.deps.log(`${what} failed ${rest.failedPasses} passes in a row; next attempt in ${Math.round(rest.retryInMs / 1000)} s`);
    }
    this.failing = errors.size > 0 || this.status.skipped(this.deps.clock.now()).size > 0;
    const cni = containersFromIpam(await this.deps.host.readIpamFiles(this.ipamDir)).map((c) => ({ ...c, runtime: 'cni' as const }));
    // The master refuses containers outside this agent's subnets: stranded ones go apart, as `stranded`.
    const { kept, stranded } = splitByAllocation([...cni, ...this.dockerContainers], self.info);
    const strandedText = stranded.map((c) => `${c.id.slice(0, 12)} ${c.network} ${c.ip}`).join(', ');
    if (strandedText && strandedText !== this.lastStranded)
      this.deps.log(`containers outside this agent's subnets, reported as stranded and not routed: ${strandedText}`);
    this.lastStranded = strandedText;
    const ipam = this.deps.ipamSummary?.();
    this.stranded = stranded;
    this.reporter.send(
      { ...this.status.report(), ...(this.mtu.own !== undefined && { mtu: this.mtu.own }) },
      {
        containers: kept,
        engines: { docker: this.docker },
        ...(ipam && { ipam }),
        // Reported as stranded (shown, never routed), at most MAX_STRANDED of them.
        ...(stranded.length > 0 && { stranded: stranded.slice(0, MAX_STRANDED) }),
      },
    );
  }

  /**
   * vxnet's bridges are one veth hop wide: a 10 ms ARP/ND retry lets a new
   * container answer at once. Only a speed-up: where /proc/sys is read-only
   * it is logged (once), and the overlays stay OK.
   */
  /**
   * The underlay's MTU, read from sysfs on a tick (no process): `ip monitor`
   * wakes the loop for vxnet's own links only, so a changed underlay MTU would
   * otherwise wait for the next full re-read (--resync-ms) to lower the overlays.
   */
  private async checkUnderlayMtu(): Promise<void> {
    const underlay = this.underlay;
    if (!underlay || !this.deps.host.linkMtu) return;
    const mtu = await this.deps.host.linkMtu(underlay.dev);
    if (mtu !== undefined && mtu !== underlay.mtu) {
      this.due.kernel = 'all';
      this.wake();
    }
  }

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

  /** NAT (its tables are looked for only with `tools`: that costs an `nft` process) and the forwarding sysctls. */
  private async ensureHost(self: Self, fail: Fail, tools: boolean): Promise<void> {
    const { nat, natScript } = self;
    try {
      if (tools || natScript !== this.lastNat) {
        const tables = await this.deps.host.nftTables();
        const missing = (nat.masqueraded4.length > 0 && !tables.has('ip')) || (nat.masqueraded6.length > 0 && !tables.has('ip6'));
        if (natScript !== this.lastNat || missing) {
          await this.deps.host.applyNft(natScript);
          this.lastNat = natScript;
        }
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
      ...(this.self && {
        mtu: {
          ...this.self.mtu,
          ...(this.mtu.own !== undefined && { underlay: this.mtu.own }),
          ...(this.mtu.cluster !== undefined && { cluster: this.mtu.cluster }),
        },
      }),
    };
  }
}
