// VTEP addresses of one vtep subnet, lowest free first. IPv4 skips the network
// and broadcast addresses; IPv6 skips only the subnet-router anycast address
// (offset 0), so fd03::/64 starts at fd03::1.

import { type Cidr, type Ip, contains, formatCidr, size } from '../net/ip.js';
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

  /** Whether the address is one this pool hands out. */
  isUsable(ip: Ip): boolean {
    return this.indexOf(ip) !== undefined;
  }

  has(ip: Ip): boolean {
    const index = this.indexOf(ip);
    return index !== undefined && this.blocks.has(index);
  }

  lowestFree(): Ip | undefined {
    const index = this.blocks.lowestFree();
    return index === undefined ? undefined : this.addressOf(index);
  }

  allocateNext(): Ip | undefined {
    const index = this.blocks.allocateNext();
    return index === undefined ? undefined : this.addressOf(index);
  }

  /** Marks the address taken; false when it already was. Throws RangeError when it is not usable. */
  occupy(ip: Ip): boolean {
    return this.blocks.occupy(this.mustIndex(ip));
  }

  /** Frees the address; false when it already was free. Throws RangeError when it is not usable. */
  release(ip: Ip): boolean {
    return this.blocks.release(this.mustIndex(ip));
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

  private mustIndex(ip: Ip): bigint {
    const index = this.indexOf(ip);
    if (index === undefined) throw new RangeError(`address is not a usable VTEP address of ${formatCidr(this.cidr)}`);
    return index;
  }
}
