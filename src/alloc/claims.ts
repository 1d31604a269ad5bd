// Who holds which block of every pool, and what each agent holds: the
// allocator's bookkeeping in one place. Owners let reserving a stored lease
// again tell "this agent again" (idempotent) from "another agent" (a corrupt store).

import type { BlockSet } from './block-set.js';

/** One block of one pool. */
export interface Claim {
  readonly blocks: BlockSet;
  readonly index: bigint;
}

export class Claims {
  private readonly owners = new Map<BlockSet, Map<bigint, string>>();
  private readonly held = new Map<string, readonly Claim[]>();

  ownerOf({ blocks, index }: Claim): string | undefined {
    return this.owners.get(blocks)?.get(index);
  }

  /**
   * Makes `agent` hold exactly `claims` (an empty list: nothing): frees what
   * it no longer holds, takes what is new. The caller has checked that no
   * other agent holds any of them.
   */
  set(agent: string, claims: readonly Claim[]): void {
    const before = this.held.get(agent);
    // Only an agent that held blocks can give any back (a restart takes 100,000 agents that held none).
    const kept = new Map<BlockSet, Set<bigint>>();
    if (before) for (const { blocks, index } of claims) kept.set(blocks, (kept.get(blocks) ?? new Set()).add(index));
    for (const { blocks, index } of before ?? []) {
      const owners = this.owners.get(blocks);
      if (kept.get(blocks)?.has(index) || owners?.get(index) !== agent) continue;
      owners.delete(index);
      blocks.release(index);
    }
    for (const { blocks, index } of claims) {
      blocks.occupy(index);
      const owners = this.owners.get(blocks) ?? new Map<bigint, string>();
      this.owners.set(blocks, owners.set(index, agent));
    }
    if (claims.length > 0) this.held.set(agent, claims);
    else this.held.delete(agent);
  }
}
