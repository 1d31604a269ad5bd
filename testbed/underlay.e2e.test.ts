import { afterAll, describe, expect, it } from 'vitest';
import { createUnderlay, leftovers, makeRunPrefix, ping, runNames, waitFor, type Underlay } from '../src/testbed/index.js';

describe('test bed underlay', () => {
  const names = runNames(makeRunPrefix());
  let ul: Underlay | undefined;
  afterAll(async () => {
    await ul?.destroy();
  });

  it('joins host namespaces, an outside host and root on one /24, then leaves nothing behind', async () => {
    ul = await createUnderlay({ names, hosts: 3, outside: true });
    expect(ul.hosts.map((h) => h.ip)).toEqual([1, 2, 3].map((i) => `${ul!.net}.${i}`));
    expect(await ping(ul.hosts[0]!.ns, ul.hosts[2]!.ip)).toBe(true);
    expect(await ping(ul.hosts[1]!.ns, ul.rootIp)).toBe(true);
    expect(await ping(ul.outside!.ns, ul.hosts[0]!.ip)).toBe(true);
    expect(await leftovers(names)).not.toEqual([]);
    await ul.destroy();
    await waitFor('the run prefix to vanish', async () => (await leftovers(names)).length === 0, { timeoutMs: 5_000 });
    expect(await leftovers(names)).toEqual([]);
  });
});
