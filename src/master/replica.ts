// What every master serves reads from: the state as the store has it, kept
// current by the store's own watch (on etcd that follows every master's
// writes). The leader reads through it too, so its answers, /state and the
// watch stream come from one place and agree. Watch streams resume from the
// store's history: a client's `since` that the store still retains gets just
// the changes after it, on a restarted master or a new leader alike.

import type { ContainerInfo, EngineState, MasterState } from '../api/types.js';
import { type CanonicalConfig, canonicalize } from '../config/canonical.js';
import type { NetworkConfig } from '../config/types.js';
import { isVxnetError } from '../errors.js';
import type { AgentRecord, Snapshot, Store, StoredChange } from '../store/store.js';
import { agentInfoJson, stateHeadJson } from './view.js';
import { type BodyPart, buildStateBody, forgetPlace, placedText, StateBody } from './state-body.js';
import {
  agentMatches,
  agentStarts,
  headMatches,
  placesInCache,
  sampledAgents,
  type StateCache,
  type StateToSave,
  startsWithIp,
} from './state-cache.js';
import type { HistoryAnswer, UtilisationView } from '../api/types.js';
import type { HistoryQuery } from '../store/store.js';
import { PoolCounter, poolFrame } from './pool-thresholds.js';
import { MtuCounter, mtuFrame } from './mtu.js';
import type { MtuView } from '../api/types.js';
import { utilisation } from './utilisation.js';
import { ipamSummary } from './ipam-summary.js';
import type { IpamSummary } from '../api/types.js';
import { expiredFrame, leasesView } from './lease-view.js';
import type { LeasesView } from '../api/types.js';
import {
  deleteFrame,
  putFrame,
  resyncFrameAround,
  type WatchClient,
  type WatcherKind,
  WatchStreams,
  type WatchStreamsOptions,
} from './watch-streams.js';

/** A utilisation view is reused, while the state keeps changing, for this many times what it cost. */
const UTILISATION_REUSE_FACTOR = 10;

interface Agent extends BodyPart {
  record: AgentRecord;
}

export class StateReplica {
  /** By registration order (a Map keeps first-insertion order; new agents come last). */
  private readonly agents = new Map<string, Agent>();
  /** Agents whose lease ran out: out of /state and the watch, kept for GET /overlay-master/leases (lease-view.ts). */
  private readonly expired = new Map<string, AgentRecord>();
  /** Blocks held per pool, for the `pool` watch event (pool-thresholds.ts). */
  private readonly pools: PoolCounter;
  /** Each live agent's reported MTU, for the `mtu` watch event (mtu.ts). */
  private readonly mtus: MtuCounter;
  private config: CanonicalConfig;
  private current: number;
  private stopWatch: () => void = () => {};
  /** Answers that walk every agent, by the revision they were made at (atThisRevision). */
  private readonly walks = new Map<string, { revision: number; value: unknown }>();
  /** The state's bytes at `revision`, shared by GET /state and every watcher's resync (state-body.ts). */
  private body: { revision: number; bytes: StateBody } | undefined;
  readonly streams: WatchStreams;
  private utilisationCache: { revision: number; at: number; cost: number; view: UtilisationView } | undefined;
  /** Told each network config the store commits after this replica started (a standby adopts the leader's reloads). */
  onConfig: ((config: NetworkConfig) => void) | undefined;

  /** Whether the store holds a network config (else `storedNetwork` is undefined and the stand-in is served). */
  private configStored = false;

  /** The network config the store holds, or undefined before any leader stored one. */
  get storedNetwork(): NetworkConfig | undefined {
    return this.configStored ? this.config.network : undefined;
  }

  private constructor(
    private readonly store: Store,
    revision: number,
    config: NetworkConfig,
    records: AgentRecord[],
    options: WatchStreamsOptions,
  ) {
    this.current = revision;
    this.config = canonicalize(config);
    for (const record of records) {
      if (record.expired) this.expired.set(record.ip, record);
      else this.agents.set(record.ip, this.agentOf(record, undefined));
    }
    this.streams = new WatchStreams(options);
    this.pools = new PoolCounter(this.config, records);
    this.mtus = new MtuCounter(records);
  }

  /**
   * Reads a snapshot and follows the store from its revision. `config` stands
   * in until the store holds one (a standby before any leader wrote it).
   */
  static async start(store: Store, config: NetworkConfig, options: WatchStreamsOptions = {}, taken?: Snapshot): Promise<StateReplica> {
    // `taken`, a snapshot the caller already read (the leader's start), saves parsing every record twice;
    // the watch below replays whatever was committed since it.
    if (taken) {
      try {
        return StateReplica.follow(store, config, options, taken);
      } catch (e) {
        if (!isVxnetError(e) || e.code !== 'CONFLICT') throw e; // the store no longer holds the changes since: read again
      }
    }
    return StateReplica.follow(store, config, options, await store.snapshot());
  }

  private static follow(store: Store, config: NetworkConfig, options: WatchStreamsOptions, snap: Snapshot): StateReplica {
    const replica = new StateReplica(store, snap.revision, snap.config ?? config, snap.agents, options);
    replica.configStored = snap.config !== undefined;
    // From the snapshot's revision: the store replays every change after it, so none slips in between.
    replica.stopWatch = store.watch(snap.revision, (change) => replica.apply(change));
    return replica;
  }

  /** The store revision these answers reflect. */
  get revision(): number {
    return this.current;
  }

  get agentCount(): number {
    return this.agents.size;
  }

  /** The record of `ip` as this replica holds it, once it has applied revision `atLeast` (expired agents too). */
  storedRecord(ip: string, atLeast: number): AgentRecord | undefined {
    if (this.current < atLeast) return undefined;
    return this.agents.get(ip)?.record ?? this.expired.get(ip);
  }

  /** The agent's AgentInfo as JSON, or undefined when it is not registered. */
  agentText(ip: string): string | undefined {
    const agent = this.agents.get(ip);
    if (!agent) return undefined;
    return placedText(agent, this.body?.bytes) ?? this.render(agent);
  }

  state(): MasterState {
    return JSON.parse(this.stateJson()) as MasterState;
  }

  stateJson(): string {
    return this.stateBody().joined().toString();
  }

  /** GET /overlay-master/state's body: built once per revision, and only when asked. */
  stateBody(): StateBody {
    if (this.body?.revision !== this.current)
      this.body = {
        revision: this.current,
        bytes: buildStateBody(this.stateHead(), [...this.agents.values()], this.body?.bytes, this.render),
      };
    return this.body.bytes;
  }

  /** Where renderAhead goes on from, until it has been through every agent. */
  private renderCursor: Iterator<Agent> | undefined;

  /**
   * Renders agents that are in no answer yet until `until` (performance.now()),
   * keeping each one's JSON for the next build, which then only copies: a save
   * spreads that work over slices (state-cache.ts keepStateSaved). True once
   * none is left.
   */
  renderAhead(until: number): boolean {
    this.renderCursor ??= this.agents.values();
    let rendered = 0;
    for (;;) {
      const next = this.renderCursor.next();
      if (next.done) break;
      const agent = next.value;
      if (agent.length >= 0 || agent.text !== undefined) continue;
      agent.text = this.render(agent);
      // The clock is read every 64 renders: reading it costs about as much as rendering one.
      if (++rendered % 64 === 0 && performance.now() >= until) return false;
    }
    this.renderCursor = undefined;
    return true;
  }

  /** The state's bytes with where each agent's are, for the next start of this master (state-cache.ts). */
  stateToSave(): StateToSave {
    const body = this.stateBody();
    const lengths = [...this.agents.values()].map((a) => a.length);
    return { revision: this.current, head: Buffer.byteLength(this.stateHead()), lengths, body };
  }

  /**
   * Takes a cached answer as this revision's, each agent's bytes a view into
   * it, when it is exactly this state's: same revision, same config echoed,
   * the same agents in the same order. Returns whether it did.
   */
  adoptStateCache(cache: StateCache): boolean {
    if (cache.revision !== this.current || cache.lengths.length !== this.agents.size || !headMatches(cache, this.stateHead())) return false;
    const agents = [...this.agents.values()];
    const starts = agentStarts(cache);
    // Each agent's JSON begins with its own address: the cheap check that the order and set are this state's.
    for (let k = 0; k < agents.length; k++)
      if (!startsWithIp(cache.body, starts[k]!, cache.lengths[k]!, agents[k]!.record.ip)) return false;
    const everyone = agents.map((_, k) => k);
    if (!this.placeInCache(cache, starts, agents, everyone, everyone)) return false;
    this.body = { revision: this.current, bytes: StateBody.of(cache.body) };
    return true;
  }

  /**
   * Gives each agent `agents[k]`, k in `kept`, its bytes in the cache (agent
   * `places[k]` there), and every other agent none, once a sample of the kept
   * ones rendered again matches byte for byte (an answer another vxnet
   * version wrote is not this one's). False, with nothing changed, otherwise.
   */
  private placeInCache(
    cache: StateCache,
    starts: readonly number[],
    agents: readonly Agent[],
    places: ArrayLike<number>,
    kept: readonly number[],
  ): boolean {
    for (const s of sampledAgents(kept.length)) {
      const k = kept[s]!;
      if (!agentMatches(cache, starts, places[k]!, this.render(agents[k]!))) return false;
    }
    for (const agent of agents) forgetPlace(agent);
    for (const k of kept) {
      agents[k]!.start = starts[places[k]!]!;
      agents[k]!.length = cache.lengths[places[k]!]!;
    }
    return true;
  }

  /**
   * Takes what still holds of an answer saved at an earlier revision (a
   * running master saves one every --save-state-every, so a crash leaves
   * one): each agent no change since touched keeps its bytes, the rest are
   * rendered at the next build. Returns how many kept theirs: 0 when the
   * config differs or changed since, the store no longer retains the changes
   * after that revision, or a sample renders differently (another vxnet).
   */
  reuseStateCache(cache: StateCache): number {
    if (cache.revision >= this.current || !headMatches(cache, this.stateHead())) return 0;
    const touched = new Set<string>();
    let configChanged = false;
    const retained = this.changesSince(cache.revision, (change) => {
      if (change.type === 'config') configChanged = true;
      else touched.add(change.type === 'put' ? change.record.ip : change.ip);
    });
    if (!retained || configChanged) return 0;
    const agents = [...this.agents.values()];
    const starts = agentStarts(cache);
    const places = placesInCache(
      cache,
      starts,
      agents.map((a) => a.record.ip),
    );
    const kept: number[] = [];
    for (let k = 0; k < agents.length; k++) if (places[k]! >= 0 && !touched.has(agents[k]!.record.ip)) kept.push(k);
    if (!this.placeInCache(cache, starts, agents, places, kept)) return 0;
    // An earlier revision's bytes: the next stateBody builds this revision's, taking the kept agents from them.
    this.body = { revision: cache.revision, bytes: StateBody.of(cache.body) };
    return kept.length;
  }

  private stateHead(): string {
    return stateHeadJson(this.config);
  }

  /** Every container with its agent, and each agent's container engines (vxnet's addition to the DC/OS API). */
  containers(): { containers: (ContainerInfo & { agent: string })[]; engines: { agent: string; docker?: EngineState }[] } {
    return this.atThisRevision('containers', () => {
      const records = [...this.agents.values()].map((a) => a.record).sort((a, b) => a.seq - b.seq);
      const containers = records.flatMap((r) => r.containers.map((c) => ({ agent: r.ip, ...c })));
      const engines = records.map((r) => ({ agent: r.ip, ...(r.engines?.docker && { docker: r.engines.docker }) }));
      return { containers, engines };
    });
  }

  /** The agents' IPAM check counts per overlay and their totals (GET /overlay-master/ipam; ipam-summary.ts). */
  ipam(): IpamSummary {
    return this.atThisRevision('ipam', () => ipamSummary([...this.agents.values()].map((a) => a.record).sort((a, b) => a.seq - b.seq)));
  }

  /**
   * An answer that walks every agent, made once per revision: a client that
   * asks again and again while nothing changes costs one walk, not one per
   * request. Answers are serialised, never changed, by their callers.
   */
  private atThisRevision<T>(name: 'containers' | 'ipam' | 'leases', make: () => T): T {
    const cached = this.walks.get(name);
    if (cached?.revision === this.current) return cached.value as T;
    const value = make();
    this.walks.set(name, { revision: this.current, value });
    return value;
  }

  /**
   * Opens a watch stream: the changes after `since` from the store's history
   * when it still holds them, else one `resync` with the whole state.
   */
  subscribe(client: WatchClient, since: number | undefined, kind: WatcherKind = 'other'): () => void {
    const mtu = this.mtus.event(this.current);
    return this.streams.add(client, [...(this.replay(since) ?? this.resync()), ...(mtu ? [mtuFrame(mtu)] : [])], kind);
  }

  /** Expired and quarantined allocations, and stranded containers (vxnet's addition). */
  leases(): LeasesView {
    return this.atThisRevision('leases', () => leasesView([...this.expired.values(), ...[...this.agents.values()].map((a) => a.record)]));
  }

  /** The lowest MTU the agents report, and how many report each (GET /overlay-master/mtu; mtu.ts). */
  mtu(): MtuView {
    return this.mtus.view(this.current);
  }

  /** Used and free agent subnets, VTEP and container addresses (GET /overlay-master/utilisation; utilisation.ts). */
  /**
   * Utilisation as of `revision` (the view says which). Worked out again when
   * the state changed, but it walks every agent (about 65 ms per 1,000), so
   * under constant change a view is reused for ten times what it cost: at
   * most a tenth of the event loop goes to it, however often /metrics or GET
   * /overlay-master/utilisation ask. A small cluster gets a fresh view each time.
   */
  utilisation(): UtilisationView {
    const started = performance.now();
    const cached = this.utilisationCache;
    if (cached && (cached.revision === this.current || started - cached.at < UTILISATION_REUSE_FACTOR * cached.cost)) return cached.view;
    const records = [...[...this.agents.values()].map((a) => a.record), ...this.expired.values()].sort((a, b) => a.seq - b.seq);
    const view = utilisation(this.config, records, this.current);
    const at = performance.now();
    this.utilisationCache = { revision: this.current, at, cost: at - started, view };
    return view;
  }

  /** The allocation history as the store keeps it (GET /overlay-master/history). */
  allocationHistory(query: HistoryQuery): Promise<HistoryAnswer> {
    return this.store.allocationHistory(query);
  }

  /** Stops following the store and closes every watch stream. The caller closes the store. */
  close(): void {
    this.stopWatch();
    this.streams.closeAll();
  }

  private replay(since: number | undefined): string[] | undefined {
    if (since === undefined || since <= 0 || since > this.current) return undefined;
    const frames: string[] = [];
    let whole = false;
    const retained = this.changesSince(since, (change) => {
      if (change.type === 'config') whole = true;
      else if (change.type === 'put' && change.record.expired)
        frames.push(
          this.frameOf({ type: 'delete', ip: change.record.ip, revision: change.revision }, ''),
          expiredFrame(change.revision, change.record.ip, change.record.expired.at),
        );
      else frames.push(this.frameOf(change, change.type === 'put' ? agentInfoJson(change.record, this.config) : ''));
    });
    return whole || !retained ? undefined : frames;
  }

  /** Hands each change the store committed after `since` to `each`; false when it no longer (or not yet) retains them. */
  private changesSince(since: number, each: (change: StoredChange) => void): boolean {
    try {
      // The store replays synchronously; stopping at once leaves the live changes to `apply`.
      this.store.watch(since, each)();
      return true;
    } catch (e) {
      if (isVxnetError(e) && e.code === 'CONFLICT') return false;
      throw e;
    }
  }

  private apply(change: StoredChange): void {
    this.current = change.revision;
    const before = change.type === 'config' ? undefined : this.storedRecord(change.type === 'put' ? change.record.ip : change.ip, 0);
    for (const event of this.pools.apply(change, before)) if (this.streams.clientCount > 0) this.streams.broadcast(poolFrame(event));
    if (change.type !== 'config') {
      const [ip, mtu] =
        change.type === 'delete' ? [change.ip, undefined] : [change.record.ip, change.record.expired ? undefined : change.record.mtu];
      const event = this.mtus.set(ip, mtu) ? this.mtus.event(this.current) : undefined;
      if (event && this.streams.clientCount > 0) this.streams.broadcast(mtuFrame(event));
    }
    if (change.type === 'config') {
      this.config = canonicalize(change.config);
      this.configStored = true;
      this.onConfig?.(this.config.network);
      for (const agent of this.agents.values()) forgetPlace(agent);
      // Every agent's view may have changed: watchers start over.
      if (this.streams.clientCount > 0) for (const part of this.resync()) this.streams.broadcast(part);
      return;
    }
    if (change.type === 'delete') {
      // An expired agent already left the state (and the watch) when it expired.
      const wasExpired = this.expired.delete(change.ip) && !this.agents.has(change.ip);
      this.agents.delete(change.ip);
      if (this.streams.clientCount > 0 && !wasExpired) this.streams.broadcast(this.frameOf(change, ''));
      return;
    }
    if (change.record.expired) {
      // Leaves /state exactly as a deleted agent does; `expired` tells clients that know it why.
      const listed = this.agents.delete(change.record.ip);
      this.expired.set(change.record.ip, change.record);
      if (listed && this.streams.clientCount > 0) {
        this.streams.broadcast(this.frameOf({ type: 'delete', ip: change.record.ip, revision: change.revision }, ''));
        this.streams.broadcast(expiredFrame(change.revision, change.record.ip, change.record.expired.at));
      }
      return;
    }
    this.expired.delete(change.record.ip);
    const json = agentInfoJson(change.record, this.config);
    this.agents.set(change.record.ip, this.agentOf(change.record, json));
    if (this.streams.clientCount > 0) this.streams.broadcast(this.frameOf(change, json));
  }

  private frameOf(change: Exclude<StoredChange, { type: 'config' }>, agentJson: string): string {
    return change.type === 'put' ? putFrame(change.revision, agentJson) : deleteFrame(change.revision, change.ip);
  }

  /** The resync frame in parts around the state's own bytes (its chunks), never a copy of them. */
  private resync(): Buffer[] {
    const [before, after] = resyncFrameAround(this.current);
    return [Buffer.from(before), ...this.stateBody().chunks, Buffer.from(after)];
  }

  /** An agent whose JSON, unless known, is rendered on first use (a restart answers sooner). */
  private agentOf(record: AgentRecord, json: string | undefined): Agent {
    return { record, start: 0, length: -1, text: json };
  }

  /** An agent's AgentInfo JSON with the config of this moment. */
  private readonly render = (agent: Agent): string => agentInfoJson(agent.record, this.config);
}
