// The leader's behaviour over a Store: recovery, registration, reports and
// deletion. Reads (answers, /state, the watch) come from its StateReplica,
// which follows the store. No HTTP and no metrics library here; latencies go
// to an observer so the shell decides what to do with them.

import type { ContainersReport, StatusReport } from '../api/types.js';
import { Allocator, type PoolUsage } from '../alloc/allocator.js';
import { epochOf, leasesOfRecord, quarantineKey, registeredRecord } from '../alloc/lease-record.js';
import { type CanonicalConfig, canonicalize } from '../config/canonical.js';
import type { NetworkConfig } from '../config/types.js';
import { isVxnetError, VxnetError } from '../errors.js';
import type { AgentRecord, Change, Snapshot, Store } from '../store/store.js';
import type { AgentAccess, RegisterAccess } from './access.js';
import { historyOfChanges } from './history-events.js';
import { KeyedLock } from './keyed-lock.js';
import { type ConfigChangeSummary, canonical, planConfigChange } from './reload.js';
import { checkAgentAddress, checkContainers, containerAddresses, keepingHeldSubnets } from './request-checks.js';
import type { ParsedRegister } from './requests.js';
import { StateReplica } from './replica.js';
import type { WatchStreamsOptions } from './watch-streams.js';
import { checkRenewal, type LeaseSettings, returningRecord } from './leases.js';
import { freshAllocation, type LeaseHost, leaseAnswer, LeaseWrites, refuseExpired } from './lease-writes.js';

export interface MasterObserver {
  /** Seconds from request to (durable) answer of each successful registration. */
  registration?(seconds: number): void;
  /** Seconds one store commit took. */
  commit?(seconds: number): void;
}

export interface MasterServiceOptions {
  /** The `vxnet network delete` flags naming this store (`--data DIR`), for the fix text of refusals. */
  storeArgs: string;
  observer?: MasterObserver;
  watch?: WatchStreamsOptions;
  /** Milliseconds, monotonic. */
  now?: () => number;
  /** Agent leases (`--agent-ttl`, `--agent-quarantine`); off when absent. */
  leases?: LeaseSettings;
  /** Wall-clock milliseconds (stored expiry and quarantine times); default Date.now. */
  wallNow?: () => number;
  /** Reads and checks the master's --config again (CONFIG_INVALID naming every issue), for a reload. */
  loadConfig?: () => Promise<NetworkConfig>;
}

const storeError = (e: unknown): VxnetError =>
  isVxnetError(e)
    ? e
    : new VxnetError(
        'STORE_UNAVAILABLE',
        `could not write to the store: ${e instanceof Error ? e.message : String(e)}; retry later`,
        undefined,
        { cause: e },
      );

/**
 * An allocator holding every stored allocation, checked against `config`
 * (RECONCILE_REFUSED when two records claim one block). Start and reload build
 * it the same way, so whatever a record holds is held after either.
 */
export function allocatorFor(config: CanonicalConfig, records: readonly AgentRecord[]): Allocator {
  const allocator = new Allocator(config);
  // Quarantined leases (src/master/leases.ts) are held too, under `${ip}@${epoch}`.
  for (const record of records) for (const { key, lease } of leasesOfRecord(record)) allocator.occupy(key, lease);
  return allocator;
}

/** How long the allocator holds the event loop at a start before it lets I/O run. */
const ALLOCATOR_SLICE_MS = 5;

/**
 * allocatorFor, giving the event loop back every ALLOCATOR_SLICE_MS: a
 * master reserving 100,000 stored allocations (about a second) keeps
 * answering reads from its replica meanwhile, and a 75 MB /state answer
 * leaves at the socket's pace, not one buffer per slice. Throws as allocatorFor.
 */
export async function allocatorInSlices(config: CanonicalConfig, records: readonly AgentRecord[]): Promise<Allocator> {
  const allocator = new Allocator(config);
  let sliceStart = performance.now();
  for (let i = 0; i < records.length; i++) {
    for (const { key, lease } of leasesOfRecord(records[i]!)) allocator.occupy(key, lease);
    if ((i & 127) === 127 && performance.now() - sliceStart >= ALLOCATOR_SLICE_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
  }
  return allocator;
}

const sameRecords = (a: readonly AgentRecord[], b: readonly AgentRecord[]): boolean =>
  a.length === b.length && a.every((r, i) => r === b[i]);

/** The registration answer: the AgentInfo JSON with the agent's new credential added (the DC/OS shape otherwise unchanged). */
const withCredential = (agentJson: string, secret: string): string => `{"credential":${JSON.stringify(secret)},${agentJson.slice(1)}`;

export class MasterService {
  /** What the allocator decided per agent; answers come from `reads`. */
  private readonly records = new Map<string, AgentRecord>();
  private readonly locks = new KeyedLock();
  /** Which agent reports each container address (canonical text), so no two report the same. */
  private readonly containerOwners = new Map<string, string>();
  private applyTail: Promise<void> = Promise.resolve();
  private nextSeq: number;
  /** Agent leases (expiry, quarantine), when `--agent-ttl` is set. */
  private readonly leases: LeaseWrites | undefined;

  private constructor(
    private readonly store: Store,
    /** Replaced, with `allocator` and `parsed`, by a reload. */
    public config: NetworkConfig,
    private allocator: Allocator,
    records: AgentRecord[],
    /** The state as the store has it: every read of the leader. */
    readonly reads: StateReplica,
    private readonly options: MasterServiceOptions,
    /** `config` parsed, for the checks of requests against it. */
    private parsed: CanonicalConfig,
  ) {
    for (const r of records) this.applyPut(r);
    this.nextSeq = records.reduce((max, r) => Math.max(max, r.seq), 0) + 1;
    this.leases = options.leases && new LeaseWrites(this.leaseHost(), options.leases, options.wallNow ?? Date.now);
  }

  /**
   * Eager recovery: snapshot, reconcile against `config`, reserve every stored
   * allocation, record the config. `standbyReads`, the replica this master
   * served reads from while standing by or starting on `store`, is kept;
   * `taken`, the snapshot it was started from, saves reading the store again
   * when nothing was committed since. Throws RECONCILE_REFUSED (with every
   * refusal's message) when the store contradicts the config.
   */
  static async start(
    store: Store,
    config: NetworkConfig,
    options: MasterServiceOptions,
    standbyReads?: StateReplica,
    taken?: Snapshot,
  ): Promise<MasterService> {
    const snap = taken && standbyReads?.revision === taken.revision ? taken : await store.snapshot();
    // Parsed once here; stored and shown as its text (`network`).
    const parsed = canonicalize(config);
    // Reserved in slices first, so reads keep being answered; a refusal is kept for planConfigChange, whose
    // own checks of the config come first and list every refusal at once.
    const prebuilt = await allocatorInSlices(parsed, snap.agents).then(
      (allocator) => () => allocator,
      (e: unknown) => () => {
        throw e;
      },
    );
    const reserve = (next: CanonicalConfig, records: readonly AgentRecord[]): Allocator =>
      next === parsed && sameRecords(records, snap.agents) ? prebuilt() : allocatorFor(next, records);
    // The rules of a reload without force (reload.ts): existing agents get added or re-enabled overlays now.
    const { allocator, records, changes } = planConfigChange(snap, parsed, { storeArgs: options.storeArgs, allocatorFor: reserve });
    // Before the service exists, so not through commitInOrder: the history is derived the same way.
    const byIp = new Map(snap.agents.map((r) => [r.ip, r]));
    const history = historyOfChanges(changes, (ip) => byIp.get(ip), new Date((options.wallNow ?? Date.now)()).toISOString());
    if (changes.length > 0) await store.commit(changes, history).catch((e: unknown) => Promise.reject(storeError(e)));
    // A standby's replica follows this same store: its watchers stay connected through the promotion.
    const reads = standbyReads ?? (await StateReplica.start(store, parsed.network, options.watch, snap));
    return new MasterService(store, parsed.network, allocator, records, reads, options, parsed);
  }

  get revision(): number {
    return this.reads.revision;
  }

  /** Live agents (expired ones are held apart), as a standby counts them. */
  get agentCount(): number {
    return this.reads.agentCount;
  }

  usage(): PoolUsage[] {
    return this.allocator.usage();
  }

  get watchers(): number {
    return this.reads.streams.clientCount;
  }

  /** Why store writes fail right now (e.g. a full disk), or undefined; /healthz reports it. */
  get storeTrouble(): string | undefined {
    return this.store.writeTrouble?.();
  }

  /**
   * Same IP, same answer (AgentInfo JSON); the allocation is durable before
   * this resolves. With `access` (a master with tokens) the caller must speak
   * for the IP, and the answer carries a new `credential` whose hash replaces
   * the record's, so the previous one stops working with this commit.
   */
  async register(req: ParsedRegister, access?: RegisterAccess): Promise<string> {
    const started = this.now();
    const answer = await this.locks.run(req.ip, async () => {
      const existing = this.records.get(req.ip);
      access?.check(req.ip, existing);
      checkAgentAddress(req.ip, this.parsed);
      const kept = keepingHeldSubnets(req, existing);
      const issued = access?.issue();
      const before = this.allocator.leaseOf(req.ip);
      this.leases?.renew(req.ip);
      // An expired agent that comes back gets a fresh allocation; its old one stays quarantined (lease-writes.ts).
      const fresh = existing?.expired ? freshAllocation(this.allocator, existing, kept.networkConfig.allocate_subnet) : undefined;
      const allocated = registeredRecord(
        { ...kept, seq: this.nextSeq },
        fresh?.lease ?? this.allocator.register(req.ip, kept.networkConfig.allocate_subnet),
        existing,
      );
      const registered = fresh ? returningRecord(existing as Parameters<typeof returningRecord>[0], allocated, this.nextSeq) : allocated;
      const next = issued ? { ...registered, credential: issued.hash } : registered;
      const answerOf = (json: string): string =>
        leaseAnswer(issued ? withCredential(json, issued.secret) : json, epochOf(next), this.leases?.ttlSeconds);
      if (existing && canonical(existing) === canonical(next)) return answerOf(this.jsonOf(req.ip));
      if (!existing || fresh) this.nextSeq++;
      try {
        await this.commitInOrder([{ type: 'put', record: next }], () => this.applyPut(next));
      } catch (e) {
        if (fresh) fresh.undo();
        else if (before) this.allocator.occupy(req.ip, before);
        else this.allocator.release(req.ip);
        throw storeError(e);
      }
      return answerOf(this.jsonOf(req.ip));
    });
    this.options.observer?.registration?.((this.now() - started) / 1000);
    return answer;
  }

  /** Records each named overlay's state as the agent reports it; answers the AgentInfo JSON. */
  async reportStatus(ip: string, report: StatusReport, access?: AgentAccess): Promise<string> {
    report.overlays.forEach((o, i) => this.checkOverlayName(o.name, `overlays[${i}].name`));
    return this.update(ip, access, (r) => {
      const status = { ...r.status };
      for (const o of report.overlays) status[o.name] = o.error !== undefined ? { status: o.status, error: o.error } : { status: o.status };
      // A report without `mtu` (an older agent) leaves the last one in place.
      return { ...r, status, ...(report.mtu !== undefined && { mtu: report.mtu }) };
    });
  }

  /** Replaces the list of containers attached on the agent; each must be inside its allocation (request-checks.ts). */
  async reportContainers(ip: string, report: ContainersReport, access?: AgentAccess): Promise<string> {
    return this.update(ip, access, (r) => {
      checkContainers(r, report, this.parsed, (address) => this.containerOwners.get(address));
      const { engines: _old, ipam: _oldIpam, stranded: _oldStranded, ...rest } = r;
      return {
        ...rest,
        containers: report.containers,
        ...(report.engines && { engines: report.engines }),
        ...(report.ipam && { ipam: report.ipam }),
        // Outside the allocation, so not checked against it: shown, never routed (leases.ts).
        ...(report.stranded && report.stranded.length > 0 && { stranded: report.stranded }),
      };
    });
  }

  /** Frees the agents' allocations durably (unknown IPs are ignored); answers the full state's JSON. */
  async deleteAgents(ips: readonly string[]): Promise<string> {
    await this.locks.runAll(ips, async () => {
      const known = ips.filter((ip) => this.records.has(ip));
      // One commit per agent: each delete gets its own revision in the watch.
      await Promise.all(known.map((ip) => this.commitInOrder([{ type: 'delete', ip }], () => this.applyDelete(ip)))).catch((e: unknown) =>
        Promise.reject(storeError(e)),
      );
    });
    return this.reads.stateJson();
  }

  /**
   * Takes `config` over while everything runs, as start would (reload.ts),
   * all or nothing: RECONCILE_REFUSED with every refusal changes nothing.
   * Holds the whole service, so no request sees half of it; the config and
   * every changed record are one commit, and watchers get a resync.
   */
  async reload(config: NetworkConfig, opts: { force: boolean }): Promise<ConfigChangeSummary & { revision: number }> {
    return this.locks.exclusive(async () => {
      const parsed = canonicalize(config);
      const plan = planConfigChange({ config: this.config, agents: [...this.records.values()] }, parsed, {
        storeArgs: this.options.storeArgs,
        force: opts.force,
        allocatorFor,
      });
      if (plan.changes.length === 0) return { ...plan.summary, revision: this.revision };
      const revision = await this.commitInOrder(plan.changes, () => {
        this.config = parsed.network;
        this.parsed = parsed;
        this.allocator = plan.allocator;
        for (const change of plan.changes) if (change.type === 'put') this.applyPut(change.record);
      }).catch((e: unknown) => Promise.reject(storeError(e)));
      return { ...plan.summary, revision };
    });
  }

  /** Re-reads the master's --config (`options.loadConfig`) and reloads it. */
  async reloadConfigFile(opts: { force: boolean }): Promise<ConfigChangeSummary & { revision: number }> {
    if (!this.options.loadConfig) throw new VxnetError('PRECONDITION', 'this master was started without a config file to re-read');
    return this.reload(await this.options.loadConfig(), opts);
  }

  /**
   * POST /overlay-master/agents/{ip}/heartbeat: renews the agent's lease of
   * `epoch` (in memory, no store write), or throws NOT_FOUND / STALE_EPOCH so
   * the agent registers again. Answers the lease's terms (no `ttl_seconds`: leases are off).
   */
  async heartbeat(ip: string, epoch: number, access?: AgentAccess): Promise<string> {
    await this.locks.run(ip, async () => {
      const record = this.records.get(ip);
      access?.check(ip, record);
      checkRenewal(ip, record, epoch);
      this.leases?.renew(ip);
    });
    return JSON.stringify({ epoch, ...(this.leases && { ttl_seconds: this.leases.ttlSeconds }) });
  }

  /** Runs one lease sweep now (expiry, end of quarantines); a no-op without leases. For tests. */
  async sweepLeases(): Promise<void> {
    await this.leases?.sweep();
  }

  /** The service's own machinery, for the lease writes (lease-writes.ts). */
  private leaseHost(): LeaseHost {
    const service = this;
    return {
      record: (ip) => this.records.get(ip),
      records: () => this.records.values(),
      lock: (ip, work) => this.locks.run(ip, work),
      // A getter: a reload may put a new allocator in place.
      get allocator() {
        return service.allocator;
      },
      commit: async (changes, apply) => {
        await this.commitInOrder(changes, apply).catch((e: unknown) => Promise.reject(storeError(e)));
      },
      applyPut: (record) => this.applyPut(record),
      applyDelete: (ip) => this.applyDelete(ip),
      now: () => this.now(),
      log: (message) => process.stderr.write(`vxnet master: ${message}\n`),
    };
  }

  /** Waits for in-flight commits and closes every watch stream. The caller closes the store. */
  async close(): Promise<void> {
    await this.leases?.stop();
    await this.applyTail;
    this.reads.close();
  }

  private async update(ip: string, access: AgentAccess | undefined, change: (r: AgentRecord) => AgentRecord): Promise<string> {
    return this.locks.run(ip, async () => {
      const record = this.records.get(ip);
      access?.check(ip, record);
      if (!record) throw new VxnetError('NOT_FOUND', `agent ${ip} is not registered; register it first with POST /overlay-master/agents`);
      refuseExpired(ip, record);
      this.leases?.renew(ip);
      const next = change(record);
      if (canonical(next) === canonical(record)) return this.jsonOf(ip);
      await this.commitInOrder([{ type: 'put', record: next }], () => this.applyPut(next)).catch((e: unknown) =>
        Promise.reject(storeError(e)),
      );
      return this.jsonOf(ip);
    });
  }

  /** The answer to a write: the agent as the store (and so every reader) has it now. */
  private jsonOf(ip: string): string {
    const json = this.reads.agentText(ip);
    if (json === undefined) throw new VxnetError('NOT_FOUND', `agent ${ip} was deleted meanwhile; register it again`);
    return json;
  }

  private checkOverlayName(name: string, field: string): void {
    if (this.config.overlays.some((o) => o.name === name)) return;
    const known = this.config.overlays.map((o) => o.name).join(', ');
    throw new VxnetError('BAD_REQUEST', `${field}: "${name}" is not a configured overlay; use one of: ${known}`, { field, value: name });
  }

  /**
   * Commits now (so the store numbers changes in call order) and applies the
   * result in that same order, so memory, /state and the watch never see
   * revision N+1 before N.
   */
  private async commitInOrder(changes: Change[], apply: (revision: number) => void): Promise<number> {
    const started = this.now();
    // Allocation history (history-events.ts): derived here, from each record's before/after, for every write.
    const history = historyOfChanges(changes, (ip) => this.records.get(ip), new Date((this.options.wallNow ?? Date.now)()).toISOString());
    const committed = this.store.commit(changes, history).then(
      (revision) => {
        this.options.observer?.commit?.((this.now() - started) / 1000);
        return { revision };
      },
      (error: unknown) => ({ error }),
    );
    const previous = this.applyTail;
    let done!: () => void;
    this.applyTail = new Promise<void>((resolve) => (done = resolve));
    const outcome = await committed;
    await previous;
    try {
      if ('revision' in outcome) {
        apply(outcome.revision);
        this.shareWithReads(changes, outcome.revision);
      }
    } finally {
      done();
    }
    if ('error' in outcome) throw outcome.error;
    return outcome.revision;
  }

  /**
   * Holds the replica's copy of each record just committed instead of its
   * own, once the replica has applied the commit (SQLite: at once; etcd: when
   * its watch catches up, else the own copy stays): one copy of every record,
   * not two (100,000 agents: about 100 MB). Records are never changed in place.
   */
  private shareWithReads(changes: readonly Change[], revision: number): void {
    for (const change of changes) {
      if (change.type !== 'put' || this.records.get(change.record.ip) !== change.record) continue;
      const stored = this.reads.storedRecord(change.record.ip, revision);
      if (stored) this.records.set(change.record.ip, stored);
    }
  }

  private applyPut(record: AgentRecord): void {
    this.forgetContainers(record.ip);
    for (const address of containerAddresses(record)) this.containerOwners.set(address, record.ip);
    this.records.set(record.ip, record);
  }

  private applyDelete(ip: string): void {
    const record = this.records.get(ip);
    if (record) this.allocator.release(ip);
    for (const q of record?.quarantine ?? []) this.allocator.release(quarantineKey(ip, q.epoch));
    this.leases?.forget(ip);
    this.forgetContainers(ip);
    this.records.delete(ip);
  }

  private forgetContainers(ip: string): void {
    const record = this.records.get(ip);
    if (!record) return;
    for (const address of containerAddresses(record)) if (this.containerOwners.get(address) === ip) this.containerOwners.delete(address);
  }

  private now(): number {
    return this.options.now ? this.options.now() : performance.now();
  }
}
