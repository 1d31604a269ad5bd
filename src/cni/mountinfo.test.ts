import { describe, expect, it } from 'vitest';
import { netnsDirIsPrivateView, netnsDirPeers } from './mountinfo.js';

const root =
  '42 27 254:0 /run/netns /run/netns rw,relatime shared:1 - ext4 /dev/vda rw\n43 42 0:4 net:[1] /run/netns/a rw shared:2 - nsfs nsfs rw';
const inIpNetnsExec = '65 45 254:0 /run/netns /run/netns rw,relatime master:1 - ext4 /dev/vda rw';

describe('netnsDirIsPrivateView', () => {
  it('accepts the shared /run/netns of the host mount namespace', () => expect(netnsDirIsPrivateView(root)).toBe(false));
  it('flags the slave view that `ip netns exec` gives', () => expect(netnsDirIsPrivateView(inIpNetnsExec)).toBe(true));
  it('accepts a machine where /run/netns is not a mount point yet', () =>
    expect(netnsDirIsPrivateView('1 0 8:1 / / rw shared:1 - ext4 /dev/sda rw')).toBe(false));
});

describe('netnsDirPeers', () => {
  it('reads the peer group of a shared /run/netns', () => expect(netnsDirPeers(root)).toEqual({ shared: '1' }));
  it('reads the master of the slave view of `ip netns exec`', () => expect(netnsDirPeers(inIpNetnsExec)).toEqual({ master: '1' }));
  it('is empty where /run/netns is not a mount point', () =>
    expect(netnsDirPeers('1 0 8:1 / / rw shared:1 - ext4 /dev/sda rw')).toEqual({}));
});
