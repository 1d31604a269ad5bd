// What this master is right now, for the HTTP routes: the leader (its
// service takes writes), a standby (reads from the store, writes refused with
// NOT_LEADER naming the leader), or neither yet (store not open).

import { VxnetError } from '../errors.js';
import type { StateReplica } from './replica.js';
import type { MasterService } from './service.js';

export interface MasterRole {
  /** The leader's service; undefined on a standby. */
  service(): MasterService | undefined;
  /** What reads come from; undefined while the store is not open. */
  reads(): StateReplica | undefined;
  /** The error for a request only the leader serves. */
  notLeader(): VxnetError;
  /** The leader's URL when another master leads (for /healthz). */
  leader(): string | undefined;
  /** A sole master that serves reads but takes no writes yet (for /healthz). */
  readonly starting?: boolean;
  /** A starting sole master's saved /state, answered before it serves reads from the store. */
  savedState?(): SavedState | undefined;
}

/** The /state answer a sole master left at its last clean stop (state-cache.ts). */
export interface SavedState {
  revision: number;
  agents: number;
  body: Buffer;
}

/**
 * A master with a store of its own (SQLite), from its start: GET /state from
 * the answer it saved at its last stop while it reads the store (when that is
 * the stored state), every read once it has, writes once the stored
 * allocations are reserved (lead).
 */
export class SoleMasterRole implements MasterRole {
  private leading: MasterService | undefined;
  private saved: SavedState | undefined;

  constructor(private replica?: StateReplica) {}

  /** Answers GET /state from `saved` until readFrom. */
  serveSaved(saved: SavedState): void {
    this.saved = saved;
  }

  /** Reads come from the store from now on. */
  readFrom(replica: StateReplica): void {
    this.replica = replica;
    this.saved = undefined;
  }

  lead(service: MasterService): void {
    this.leading = service;
  }

  get starting(): boolean {
    return this.leading === undefined;
  }

  service(): MasterService | undefined {
    return this.leading;
  }

  reads(): StateReplica | undefined {
    return this.leading?.reads ?? this.replica;
  }

  savedState(): SavedState | undefined {
    return this.saved;
  }

  notLeader(): VxnetError {
    if (this.leading) return new VxnetError('NOT_LEADER', 'this master is stopping; retry in a few seconds');
    const agents = this.replica?.agentCount ?? this.saved?.agents ?? 0;
    return new VxnetError(
      'NOT_LEADER',
      this.replica
        ? `this master is starting: it reserves the stored allocations of ${agents} agents before it takes writes; retry in a few seconds`
        : `this master is starting: it reads the stored state of ${agents} agents (only GET /overlay-master/state is answered yet); retry in a few seconds`,
    );
  }

  leader(): undefined {
    return undefined;
  }
}

/** A sole master whose service already leads (built before its HTTP app). */
export function soleMaster(service: MasterService): SoleMasterRole {
  const role = new SoleMasterRole(service.reads);
  role.lead(service);
  return role;
}

export interface StandbyView {
  /** This master's URL. */
  self: string;
  /** The leader's URL as the election announces it, if any. */
  leader(): string | undefined;
  /** Why there may be no leader (e.g. etcd unreachable), for the message. */
  trouble(): string | undefined;
}

export function standbyMessage(view: StandbyView): string {
  const leader = view.leader();
  if (leader !== undefined && leader !== view.self) {
    return `this master (${view.self}) is a standby; the leader is ${leader}: send requests there (agents given every master in --master move on by themselves)`;
  }
  const why = view.trouble();
  return `no master is the leader right now (${why ?? 'an election is under way'}): retry in a few seconds`;
}

/** One of several masters on a shared store: the loop in leader.ts switches it between standby and leader. */
export class ElectedRole implements MasterRole {
  private current: { reads?: StateReplica; service?: MasterService } = {};

  constructor(private readonly view: StandbyView) {}

  standBy(reads: StateReplica | undefined): void {
    this.current = reads ? { reads } : {};
  }

  lead(service: MasterService): void {
    this.current = { reads: service.reads, service };
  }

  service(): MasterService | undefined {
    return this.current.service;
  }

  reads(): StateReplica | undefined {
    return this.current.reads;
  }

  notLeader(): VxnetError {
    const leader = this.leader();
    return new VxnetError('NOT_LEADER', standbyMessage(this.view), leader !== undefined ? { leader } : undefined);
  }

  leader(): string | undefined {
    const leader = this.view.leader();
    return leader === this.view.self ? undefined : leader;
  }
}
