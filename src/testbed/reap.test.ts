import { describe, expect, it } from 'vitest';
import { engineCgroupParents, ownedBy, parseClaim } from './reap.js';

describe('parseClaim', () => {
  it.each([
    ['a claim written by pickUnderlayNet', '9983 vx681d', { pid: 9983, prefix: 'vx681d' }],
    ['a trailing newline', '12 ab\n', { pid: 12, prefix: 'ab' }],
    ['an empty file', '', undefined],
    ['no prefix', '9983', undefined],
    ['a prefix that is no run prefix (could match foreign names)', '9983 ../etc', undefined],
    ['a non-numeric PID', 'x vx681d', undefined],
  ])('%s', (_, text, want) => {
    expect(parseClaim(text)).toEqual(want);
  });
});

describe('ownedBy', () => {
  it("keeps only the dead run's namespaces, root link and temp dirs, not a run whose prefix extends it", () => {
    const owned = ownedBy('vx68', {
      netns: ['vx68-h1', 'vx68-h1-a', 'vx68-ul', 'vx681d-h1', 'other'],
      links: ['lo', 'eth0', 'vx68r', 'vx681dr', 'vx68r2'],
      tmpEntries: ['vxnet-vx68-AbC', 'vxnet-vx681d-XyZ', 'vxnet-web.png', 'vx68-h1'],
    });
    expect(owned).toEqual({ netns: ['vx68-h1', 'vx68-h1-a', 'vx68-ul'], links: ['vx68r'], tmpDirs: ['vxnet-vx68-AbC'] });
  });
});

describe('engineCgroupParents', () => {
  it("names the cgroup parents of the dead run's hosts only", () => {
    expect(engineCgroupParents('vx68', ['vx68-h1', 'vx68-h12', 'vx68-ul', 'vx68-out', 'vx681d-h1', 'vx68-h1-a'])).toEqual([
      'vxnet-vx68-h1',
      'vxnet-vx68-h12',
    ]);
  });
});
