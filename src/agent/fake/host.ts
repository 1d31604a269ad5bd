// An in-memory fake of the `Host` port: files in a map, sysctls and nft
// tables as values, every change recorded in `calls`.

import type { IpamFile } from '../containers.js';
import { staleIpamDirs } from '../ipam-dirs.js';
import type { NatSubnets } from '../nat.js';
import type { ForwardingSysctl, Host } from '../ports.js';

export class FakeHost implements Host {
  readonly files = new Map<string, string>();
  readonly sysctls = new Map<string, string>();
  nft = { tables: new Set<string>(), script: '' };
  dockerUser: NatSubnets | undefined;
  ipam: IpamFile[] = [];
  /** Changes made, as "verb argument" lines, in order. */
  readonly calls: string[] = [];
  /** Checks that cost a process on a real host (`nft list tables`, `iptables -S DOCKER-USER`), counted. */
  toolChecks = 0;
  /** Set to make every nft call fail. */
  nftError: Error | undefined;
  /** What linkMtu answers, by link name (sysfs on a real host). */
  readonly linkMtus = new Map<string, number>();

  async linkMtu(dev: string): Promise<number | undefined> {
    return this.linkMtus.get(dev);
  }

  async nftTables(): Promise<Set<string>> {
    this.toolChecks++;
    if (this.nftError) throw this.nftError;
    return new Set(this.nft.tables);
  }

  async applyNft(script: string): Promise<void> {
    if (this.nftError) throw this.nftError;
    this.calls.push('nft -f');
    this.nft = { script, tables: new Set([...script.matchAll(/^table (ip6?) /gm)].map((m) => m[1]!)) };
  }

  async enableSysctl(path: ForwardingSysctl): Promise<void> {
    if (this.sysctls.get(path) === '1') return;
    this.calls.push(`sysctl ${path}`);
    this.sysctls.set(path, '1');
  }

  async setBridgeNeighbourRetrans(bridge: string, ms: number): Promise<void> {
    const path = `/proc/sys/net/ipv4/neigh/${bridge}/retrans_time_ms`;
    if (this.sysctls.get(path) === String(ms)) return;
    this.calls.push(`sysctl ${path}`);
    this.sysctls.set(path, String(ms));
  }

  async writeFileIfChanged(path: string, _dir: string, content: string): Promise<boolean> {
    if (this.files.get(path) === content) return false;
    this.calls.push(`write ${path}`);
    this.files.set(path, content);
    return true;
  }

  async removeConflists(dir: string, keep: ReadonlySet<string>): Promise<string[]> {
    const stale = [...this.files.keys()].filter((p) => {
      const name = p.slice(dir.length + 1);
      return p.startsWith(`${dir}/`) && /^vxnet-.+\.conflist$/.test(name) && !keep.has(name);
    });
    for (const p of stale) {
      this.calls.push(`rm ${p}`);
      this.files.delete(p);
    }
    return stale;
  }

  async removeIpamDirs(_ipamDir: string, configured: ReadonlySet<string>): Promise<string[]> {
    const stale = staleIpamDirs([...new Set(this.ipam.map((f) => f.network))], configured);
    for (const name of stale) this.calls.push(`rm ipam ${name}`);
    this.ipam = this.ipam.filter((f) => !stale.includes(f.network));
    return stale;
  }

  async readIpamFiles(_ipamDir: string): Promise<IpamFile[]> {
    return this.ipam;
  }

  async syncDockerUser(subnets: NatSubnets): Promise<number[]> {
    this.toolChecks++;
    if (JSON.stringify(this.dockerUser) === JSON.stringify(subnets)) return [];
    this.dockerUser = subnets;
    return [];
  }
}
