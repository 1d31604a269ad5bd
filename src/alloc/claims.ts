// A BlockSet plus who holds each block, so reserving a stored record can tell
// "this agent again" (idempotent) from "another agent" (a corrupt store).

import type { BlockSet } from './block-set.js';

export class Claims {
  private readonly owners = new Map<bigint, string>();

  /** @param label how messages name this pool, e.g. "vtep_subnet 198.15.0.0/20". */
  constructor(
    readonly blocks: BlockSet,
    readonly label: string,
  ) {}

  ownerOf(index: bigint): string | undefined {
    return this.owners.get(index);
  }

  /** Reserves the block for `owner`. The caller has checked that nobody else holds it. */
  take(index: bigint, owner: string): void {
    this.blocks.occupy(index);
    this.owners.set(index, owner);
  }

  /** Frees the block if `owner` holds it; anyone else's block stays put. */
  giveBack(index: bigint, owner: string): void {
    if (this.owners.get(index) !== owner) return;
    this.owners.delete(index);
    this.blocks.release(index);
  }
}
