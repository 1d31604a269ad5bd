// What the agent's loop needs from the outside world besides the master,
// as ports: the kernel's tables (read whole, changed by ops), the rest of
// the host (nftables, sysctls, files, DOCKER-USER) and time. `src/cli/agent.ts`
// wires the real ones; `fake/` holds in-memory ones for unit tests.

import type { IpamFile } from './containers.js';
import type { OpFailure } from './linux/execute.js';
import type { ObservedState, Op } from './model.js';
import type { NatSubnets } from './nat.js';

/** The tables on the VTEP that can be re-read alone (links and addresses are always read with the rest). */
export type KernelTable = 'neighbours' | 'fdb' | 'routes';

/** Links, addresses, neighbours, FDB and routes: what the planner's ops change. */
export interface Kernel {
  observe(): Promise<ObservedState>;
  /** Re-reads only these tables (after `ip monitor` saw one of them change). */
  read(tables: ReadonlySet<KernelTable>): Promise<Partial<Pick<ObservedState, KernelTable>>>;
  /** Applies the ops in order, carrying on after a failed one; returns the failures. */
  execute(ops: Op[]): Promise<OpFailure[]>;
}

export type ForwardingSysctl = '/proc/sys/net/ipv4/ip_forward' | '/proc/sys/net/ipv6/conf/all/forwarding';

/** Everything else a full pass keeps on the host. Each call is idempotent. */
export interface Host {
  /** Families ("ip", "ip6") in which vxnet's nftables table exists. */
  nftTables(): Promise<Set<string>>;
  /** Runs an `nft -f` script as one transaction. */
  applyNft(script: string): Promise<void>;
  enableSysctl(path: ForwardingSysctl): Promise<void>;
  setBridgeNeighbourRetrans(bridge: string, ms: number): Promise<void>;
  /** Writes atomically; false when the content was already there. */
  writeFileIfChanged(path: string, dir: string, content: string): Promise<boolean>;
  /** Removes `vxnet-*.conflist` files in `dir` except those in `keep`. */
  removeConflists(dir: string, keep: ReadonlySet<string>): Promise<string[]>;
  readIpamFiles(ipamDir: string): Promise<IpamFile[]>;
  /** Removes `<ipamDir>/<overlay>` dirs of overlays not in `configured` (ipam-dirs.ts); returns their names. */
  removeIpamDirs?(ipamDir: string, configured: ReadonlySet<string>): Promise<string[]>;
  /** The MTU of a link (/sys/class/net/<dev>/mtu), or undefined when it cannot be read; a file read, no process. */
  linkMtu?(dev: string): Promise<number | undefined>;
  /** Keeps vxnet's accept rules for these subnets in DOCKER-USER; returns the families it changed. */
  syncDockerUser(subnets: NatSubnets): Promise<number[]>;
}

/** Time, injected so the loop's tick and back-off are tested without waiting. */
export interface Clock {
  now(): number;
  /** Calls `fn` once after `ms`; the returned function cancels it. */
  setTimer(ms: number, fn: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: (ms, fn) => {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};
