// The test bed itself: a cluster that fails to start removes what it built.
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { leftovers, makeRunPrefix, runNames, startCluster } from '../src/testbed/index.js';

describe('test bed cluster', () => {
  it('a master that refuses its config fails the start with its own message and leaves nothing behind', async () => {
    const prefix = makeRunPrefix();
    const bad = {
      vtep_subnet: '192.15.0.0/20',
      vtep_mac_oui: '70:B3:D5:00:00:00',
      overlays: [{ name: 'dcos-1', subnet: '192.168.0.0/17', prefix: 99 }],
    };
    const t0 = Date.now();
    await expect(startCluster({ hosts: 2, config: bad, prefix })).rejects.toThrow(/master exited[\s\S]*prefix/);
    expect(Date.now() - t0).toBeLessThan(120_000);
    expect(await leftovers(runNames(prefix))).toEqual([]);
    expect(readdirSync(tmpdir()).filter((d) => d.startsWith(`vxnet-${prefix}-`))).toEqual([]);
  });
});
