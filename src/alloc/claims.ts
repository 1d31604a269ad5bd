// Who holds which block of every pool (each BlockSet keeps its owners), and
// what each agent holds: the allocator's bookkeeping in one place. Owners let
// reserving a stored lease again tell "this agent again" (idempotent) from
// "another agent" (a corrupt store).

import type { BlockSet } from './block-set.js';

/** One block of one pool. */
export interface Claim {
  readonly blocks: BlockSet;
  readonly index: bigint;
}

export class Claims {
  private readonly held = new Map<string, readonly Claim[]>();

  ownerOf({ blocks, index }: Claim): string | undefined {
    return blocks.ownerOf(index);
  }

  /**
   * Makes `agent` hold exactly `claims` (an empty list: nothing): frees what
   * it no longer holds, takes what is new. The caller has checked that no
   * other agent holds any of them.
   */
  set(agent: string, claims: readonly Claim[]): void {
    const before = this.held.get(agent);
    // Only an agent that held blocks can give any back (a restart takes 100,000 agents that held none).
    if (before) {
      const kept = new Map<BlockSet, Set<bigint>>();
      for (const { blocks, index } of claims) kept.set(blocks, (kept.get(blocks) ?? new Set()).add(index));
      for (const { blocks, index } of before) {
        if (kept.get(blocks)?.has(index) || blocks.ownerOf(index) !== agent) continue;
        blocks.release(index);
      }
    }
    for (const { blocks, index } of claims) blocks.occupy(index, agent);
    if (claims.length > 0) this.held.set(agent, claims);
    else this.held.delete(agent);
  }
}
