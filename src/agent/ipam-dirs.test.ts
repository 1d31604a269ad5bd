import { describe, expect, it } from 'vitest';
import { staleIpamDirs } from './ipam-dirs.js';

describe('staleIpamDirs', () => {
  it('removes the dirs of overlays the config no longer lists, and keeps disabled (still listed) ones', () => {
    expect(staleIpamDirs(['dcos-1', 'gone', 'off'], new Set(['dcos-1', 'off']))).toEqual(['gone']);
  });

  it('leaves alone what no vxnet conflist could have made', () => {
    expect(staleIpamDirs(['..', '.hidden', 'a name', 'x'.repeat(14), 'old'], new Set())).toEqual(['old']);
  });

  it('removes nothing while every overlay is configured', () => {
    expect(staleIpamDirs(['a', 'b'], new Set(['a', 'b']))).toEqual([]);
  });
});
