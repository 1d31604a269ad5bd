// The master's behaviour over a Store: recovery, registration, reports,
// deletion and the watch. No HTTP and no metrics library here; latencies go to
// an observer so the shell decides what to do with them.

import type { AgentInfo, ContainerInfo, ContainersReport, EngineState, MasterState, StatusReport } from '../api/types.js';
import { Allocator, type PoolUsage } from '../alloc/allocator.js';
import type { NetworkConfig } from '../config/types.js';
import { isVxnetError, VxnetError } from '../errors.js';
import type { AgentRecord, Change, Store } from '../store/store.js';
import { KeyedLock } from './keyed-lock.js';
import { reconcile } from './reconcile.js';
import type { ParsedRegister } from './requests.js';
import { agentInfo } from './view.js';
import { deleteEvent, putEvent, WatchHub, type WatchHubOptions } from './watch-hub.js';

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
  watch?: WatchHubOptions;
  /** Milliseconds, monotonic. */
  now?: () => number;
}

/** Canonical JSON (sorted keys) so equal records compare equal whatever their key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  );
}

const storeError = (e: unknown): VxnetError =>
  isVxnetError(e) ? e : new VxnetError('STORE_UNAVAILABLE', `could not write to the store: ${e instanceof Error ? e.message : String(e)}; retry later`, undefined, { cause: e });

export class MasterService {
  private readonly records = new Map<string, AgentRecord>();
  /**
   * Each agent's AgentInfo as JSON, in registration order (a Map keeps
   * first-insertion order). Serialised once per change and reused for the
   * answer, the watch event and /state; strings also weigh less than objects.
   * Recovered agents start as undefined and are serialised on first use, so
   * a restart answers sooner.
   */
  private readonly agentJson = new Map<string, string | undefined>();
  private readonly networkJson: string;
  private readonly locks = new KeyedLock();
  private applyTail: Promise<void> = Promise.resolve();
  private nextSeq: number;
  readonly hub: WatchHub;

  private constructor(
    private readonly store: Store,
    readonly config: NetworkConfig,
    private readonly allocator: Allocator,
    records: AgentRecord[],
    revision: number,
    private readonly options: MasterServiceOptions,
  ) {
    this.networkJson = JSON.stringify(config);
    for (const r of records) {
      this.records.set(r.ip, r);
      this.agentJson.set(r.ip, undefined);
    }
    this.nextSeq = records.reduce((max, r) => Math.max(max, r.seq), 0) + 1;
    this.hub = new WatchHub(revision, () => this.stateJson(), options.watch);
  }

  /**
   * Eager recovery: snapshot, reconcile against `config`, reserve every stored
   * allocation, record the config. Throws RECONCILE_REFUSED (with every
   * refusal's message) when the store contradicts the config.
   */
  static async start(store: Store, config: NetworkConfig, options: MasterServiceOptions): Promise<MasterService> {
    const snap = await store.snapshot();
    const verdict = reconcile({ config: snap.config, agents: snap.agents }, config, options.storeArgs);
    if (!verdict.ok) {
      throw new VxnetError('RECONCILE_REFUSED', verdict.refusals.map((r) => r.message).join('\n'), { refusals: verdict.refusals });
    }
    const allocator = new Allocator(config);
    for (const record of snap.agents) allocator.occupy(record);
    let revision = snap.revision;
    const changes: Change[] = verdict.configChanged ? [{ type: 'config', config }] : [];
    let records = snap.agents;
    if (verdict.configChanged && snap.agents.length > 0) {
      // Existing agents get added or re-enabled overlays now rather than at their next registration.
      records = snap.agents.map((r) => allocator.register({ ip: r.ip, networkConfig: r.networkConfig, seq: r.seq }, r));
      records.forEach((r, i) => canonical(r) !== canonical(snap.agents[i]) && changes.push({ type: 'put', record: r }));
    }
    if (changes.length > 0) revision = await store.commit(changes).catch((e: unknown) => Promise.reject(storeError(e)));
    return new MasterService(store, config, allocator, records, revision, options);
  }

  get revision(): number {
    return this.hub.revision;
  }

  get agentCount(): number {
    return this.records.size;
  }

  usage(): PoolUsage[] {
    return this.allocator.usage();
  }

  /** The agent's AgentInfo as JSON, or undefined when it is not registered. */
  agentText(ip: string): string | undefined {
    return this.records.has(ip) ? this.jsonOf(ip) : undefined;
  }

  agent(ip: string): AgentInfo | undefined {
    const text = this.agentText(ip);
    return text === undefined ? undefined : (JSON.parse(text) as AgentInfo);
  }

  state(): MasterState {
    return JSON.parse(this.stateJson()) as MasterState;
  }

  /** The whole MasterState as JSON, joined from the agents' JSON (no serialising). Callers cache it by `revision`. */
  stateJson(): string {
    return this.statePieces().join('');
  }

  /** The pieces whose concatenation is stateJson(), so a caller can encode them without one big string. */
  statePieces(): string[] {
    const pieces = [`{"network":${this.networkJson},"agents":[`];
    for (const ip of this.agentJson.keys()) {
      if (pieces.length > 1) pieces.push(',');
      pieces.push(this.jsonOf(ip));
    }
    pieces.push(']}');
    return pieces;
  }

  /** Every container with its agent, and each agent's container engines (vxnet's addition to the DC/OS API). */
  containers(): { containers: (ContainerInfo & { agent: string })[]; engines: { agent: string; docker?: EngineState }[] } {
    const records = [...this.records.values()].sort((a, b) => a.seq - b.seq);
    const containers = records.flatMap((r) => r.containers.map((c) => ({ agent: r.ip, ...c })));
    const engines = records.map((r) => ({ agent: r.ip, ...(r.engines?.docker && { docker: r.engines.docker }) }));
    return { containers, engines };
  }

  /** Same IP, same answer (AgentInfo JSON); the allocation is durable before this resolves. */
  async register(req: ParsedRegister): Promise<string> {
    const started = this.now();
    const answer = await this.locks.run(req.ip, async () => {
      const existing = this.records.get(req.ip);
      const next = this.allocator.register({ ip: req.ip, networkConfig: req.networkConfig, seq: existing?.seq ?? this.nextSeq }, existing);
      if (existing && canonical(existing) === canonical(next)) return this.jsonOf(req.ip);
      if (!existing) this.nextSeq++;
      try {
        await this.commitInOrder([{ type: 'put', record: next }], (rev) => this.applyPut(next, rev));
      } catch (e) {
        this.allocator.release(next);
        if (existing) this.allocator.occupy(existing);
        throw storeError(e);
      }
      return this.jsonOf(req.ip);
    });
    this.options.observer?.registration?.((this.now() - started) / 1000);
    return answer;
  }

  /** Records each named overlay's state as the agent reports it; answers the AgentInfo JSON. */
  async reportStatus(ip: string, report: StatusReport): Promise<string> {
    report.overlays.forEach((o, i) => this.checkOverlayName(o.name, `overlays[${i}].name`));
    return this.update(ip, (r) => {
      const status = { ...r.status };
      for (const o of report.overlays) status[o.name] = o.error !== undefined ? { status: o.status, error: o.error } : { status: o.status };
      return { ...r, status };
    });
  }

  /** Replaces the list of containers attached on the agent. */
  async reportContainers(ip: string, report: ContainersReport): Promise<string> {
    report.containers.forEach((c, i) => this.checkOverlayName(c.network, `containers[${i}].network`));
    return this.update(ip, (r) => {
      const { engines: _old, ...rest } = r;
      return { ...rest, containers: report.containers, ...(report.engines && { engines: report.engines }) };
    });
  }

  /** Frees the agents' allocations durably (unknown IPs are ignored); answers the full state's JSON. */
  async deleteAgents(ips: readonly string[]): Promise<string> {
    await this.locks.runAll(ips, async () => {
      const known = ips.filter((ip) => this.records.has(ip));
      // One commit per agent: each delete gets its own revision in the watch.
      await Promise.all(known.map((ip) => this.commitInOrder([{ type: 'delete', ip }], (rev) => this.applyDelete(ip, rev)))).catch(
        (e: unknown) => Promise.reject(storeError(e)),
      );
    });
    return this.stateJson();
  }

  /** Waits for in-flight commits and closes every watch stream. The caller closes the store. */
  async close(): Promise<void> {
    await this.applyTail;
    this.hub.closeAll();
  }

  private async update(ip: string, change: (r: AgentRecord) => AgentRecord): Promise<string> {
    return this.locks.run(ip, async () => {
      const record = this.records.get(ip);
      if (!record) throw new VxnetError('NOT_FOUND', `agent ${ip} is not registered; register it first with POST /overlay-master/agents`);
      const next = change(record);
      if (canonical(next) === canonical(record)) return this.jsonOf(ip);
      await this.commitInOrder([{ type: 'put', record: next }], (rev) => this.applyPut(next, rev)).catch((e: unknown) => Promise.reject(storeError(e)));
      return this.jsonOf(ip);
    });
  }

  /** The JSON of a registered agent, serialised now if it was not yet. */
  private jsonOf(ip: string): string {
    return this.agentJson.get(ip) ?? this.remember(this.records.get(ip)!);
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
    const committed = this.store.commit(changes).then(
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
      if ('revision' in outcome) apply(outcome.revision);
    } finally {
      done();
    }
    if ('error' in outcome) throw outcome.error;
    return outcome.revision;
  }

  private remember(record: AgentRecord): string {
    const json = JSON.stringify(agentInfo(record, this.config));
    this.records.set(record.ip, record);
    this.agentJson.set(record.ip, json);
    return json;
  }

  private applyPut(record: AgentRecord, revision: number): void {
    this.hub.publish(putEvent(revision, this.remember(record)));
  }

  private applyDelete(ip: string, revision: number): void {
    const record = this.records.get(ip);
    if (record) this.allocator.release(record);
    this.records.delete(ip);
    this.agentJson.delete(ip);
    this.hub.publish(deleteEvent(revision, ip));
  }

  private now(): number {
    return this.options.now ? this.options.now() : performance.now();
  }
}
