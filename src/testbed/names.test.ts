import { describe, expect, it } from 'vitest';
import { makeRunPrefix, runNames } from './names.js';

describe('test bed names', () => {
  it('derives a short prefix from the random source', () => {
    expect(makeRunPrefix(() => 0)).toBe('vx0000');
    expect(makeRunPrefix(() => 0.999999)).toBe('vxffff');
  });
  it('keeps the root-namespace link within 15 characters and carries the prefix', () => {
    const n = runNames('vx3fa2');
    expect(n.rootLink).toBe('vx3fa2r');
    expect(n.hostNs(3)).toBe('vx3fa2-h3');
    expect(n.container('a1')).toBe('vx3fa2-a1');
  });
  it('rejects a prefix that could produce bad names', () => {
    expect(() => runNames('VX-1')).toThrow(/lowercase/);
    expect(() => runNames('vxabcdefgh')).toThrow(/2-8/);
  });
});
