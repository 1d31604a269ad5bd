// VTEP addresses of one vtep subnet as block indices. IPv4 skips the network
// and broadcast addresses; IPv6 skips only the subnet-router anycast address
// (offset 0), so fd03::/64 starts at fd03::1.

import { type Cidr, type Ip, contains, size } from '../net/ip.js';
import { BlockSet } from './block-set.js';

export class VtepPool {
  /** One block per usable address; the allocator works on these indices. */
  readonly blocks: BlockSet;

  constructor(readonly cidr: Cidr) {
    const reserved = cidr.family === 4 ? 2n : 1n;
    const addresses = size(cidr);
    this.blocks = new BlockSet(addresses > reserved ? addresses - reserved : 0n);
  }

  get used(): bigint {
    return this.blocks.used;
  }

  get total(): bigint {
    return this.blocks.total;
  }

  addressOf(index: bigint): Ip {
    return { family: this.cidr.family, value: this.cidr.base + 1n + index };
  }

  /** The block index of a usable address, or undefined for any other address. */
  indexOf(ip: Ip): bigint | undefined {
    if (!contains(this.cidr, ip)) return undefined;
    const index = ip.value - this.cidr.base - 1n;
    return index >= 0n && index < this.blocks.total ? index : undefined;
  }
}
