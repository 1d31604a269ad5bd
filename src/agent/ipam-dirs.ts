// Pure: which host-local data dirs (`<state-dir>/ipam/<overlay>`) belong to
// overlays that no longer exist. An overlay deleted from the master's config
// leaves no trace on the host; a disabled one keeps its reservations, so it
// is still configured and kept. Names that are no overlay name were not made
// through vxnet's conflists: left alone.

import { isOverlayName } from '../net/link.js';

/** The dirs among `dirs` to remove, given the overlays the master's config lists. */
export function staleIpamDirs(dirs: readonly string[], configured: ReadonlySet<string>): string[] {
  return dirs.filter((name) => isOverlayName(name) && !configured.has(name)).sort();
}
