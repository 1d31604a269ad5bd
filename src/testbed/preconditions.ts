// What the demo and the test bed need on the machine, and which Debian package has it.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export const REQUIRED_BINARIES: readonly { bin: string; pkg: string }[] = [
  { bin: 'ip', pkg: 'iproute2' },
  { bin: 'bridge', pkg: 'iproute2' },
  { bin: 'nft', pkg: 'nftables' },
  { bin: 'ping', pkg: 'iputils-ping' },
  { bin: 'nsenter', pkg: 'util-linux' },
  { bin: '/usr/lib/cni/bridge', pkg: 'containernetworking-plugins' },
  { bin: '/usr/lib/cni/host-local', pkg: 'containernetworking-plugins' },
  { bin: '/usr/lib/cni/portmap', pkg: 'containernetworking-plugins' },
];

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const onPath = (bin: string): boolean =>
  bin.includes('/') ? executable(bin) : (process.env.PATH ?? '').split(delimiter).some((d) => d && executable(join(d, bin)));

/** Problems that stop the demo, each with its fix; empty when all is well. */
export function checkPreconditions(): string[] {
  const problems: string[] = [];
  if (process.getuid?.() !== 0)
    problems.push('must run as root (it creates network namespaces, links and nftables rules): rerun with sudo');
  const missing = REQUIRED_BINARIES.filter((r) => !onPath(r.bin));
  for (const m of missing) problems.push(`${m.bin} is missing: install the Debian package ${m.pkg} (apt-get install ${m.pkg})`);
  return problems;
}
