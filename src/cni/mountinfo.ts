// Detects a private view of /run/netns (pure). Inside `ip netns exec`, the
// mount namespace is a slave: a netns created there is invisible to everyone
// else and vanishes with the process, so `container run` refuses to start.

/** True when /run/netns is a slave mount here (propagation "master:N" without "shared:N"). */
export function netnsDirIsPrivateView(mountinfo: string, netnsDir = '/run/netns'): boolean {
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    if (fields[4] !== netnsDir) continue;
    const optional = fields.slice(6, fields.indexOf('-'));
    const shared = optional.some((f) => f.startsWith('shared:'));
    const slave = optional.some((f) => f.startsWith('master:'));
    return slave && !shared;
  }
  return false;
}

/**
 * The propagation peer groups of the topmost mount at `netnsDir`: `shared`
 * (its own group) and `master` (the group it receives mounts and unmounts
 * from, for a slave). Both empty when it is not a mount point.
 */
export function netnsDirPeers(mountinfo: string, netnsDir = '/run/netns'): { shared?: string; master?: string } {
  let found: { shared?: string; master?: string } = {};
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    if (fields[4] !== netnsDir) continue;
    const optional = fields.slice(6, fields.indexOf('-'));
    const shared = optional.find((f) => f.startsWith('shared:'))?.slice('shared:'.length);
    const master = optional.find((f) => f.startsWith('master:'))?.slice('master:'.length);
    found = { ...(shared && { shared }), ...(master && { master }) };
  }
  return found;
}
