// The /prefix blocks of one overlay subnet (IPv4 or IPv6), lowest free first.
// Converts between blocks and indices at the edge; BlockSet does the rest.

import { type Cidr, blockCount, blockIndex, containsCidr, formatCidr, nthBlock } from '../net/ip.js';
import { BlockSet } from './block-set.js';

export type BlockLookup = { ok: true; index: bigint } | { ok: false; reason: string };

export class SubnetPool {
  readonly blocks: BlockSet;

  constructor(
    readonly cidr: Cidr,
    readonly prefix: number,
  ) {
    if (prefix < cidr.length) throw new RangeError(`prefix /${prefix} is wider than ${formatCidr(cidr)}`);
    this.blocks = new BlockSet(blockCount(cidr, prefix));
  }

  get used(): bigint {
    return this.blocks.used;
  }

  get total(): bigint {
    return this.blocks.total;
  }

  blockOf(index: bigint): Cidr {
    return nthBlock(this.cidr, this.prefix, index);
  }

  /** The index of `block`, or why it is not one of this pool's blocks. */
  indexOf(block: Cidr): BlockLookup {
    if (block.length !== this.prefix) {
      return { ok: false, reason: `${formatCidr(block)} is a /${block.length}, not a /${this.prefix} block` };
    }
    if (!containsCidr(this.cidr, block)) {
      return { ok: false, reason: `${formatCidr(block)} lies outside ${formatCidr(this.cidr)}` };
    }
    return { ok: true, index: blockIndex(this.cidr, this.prefix, block) };
  }

  /** The lowest free block without taking it. */
  lowestFree(): Cidr | undefined {
    const index = this.blocks.lowestFree();
    return index === undefined ? undefined : this.blockOf(index);
  }
}
