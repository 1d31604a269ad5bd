import { describe, expect, it } from 'vitest';
import { agentRecord, runStoreContract } from '../contract.case.test.js';
import { MemoryStore } from './memory-store.js';

runStoreContract('memory', async (options) => new MemoryStore(options));

describe('MemoryStore history', () => {
  it('keeps serving the newest changes after the history has wrapped many times', async () => {
    const store = new MemoryStore({ historyLimit: 3 });
    for (let i = 0; i < 25; i++) await store.commit([{ type: 'put', record: agentRecord(`10.0.0.${i}`, i) }]);
    const seen: number[] = [];
    store.watch(22, (c) => seen.push(c.revision));
    expect(seen).toEqual([23, 24, 25]);
    expect(() => store.watch(21, () => {})).toThrow('oldest retained is 23');
    await store.close();
  });

  it('bounds the retained history by bytes too, always keeping the newest change', async () => {
    const big = (i: number) =>
      agentRecord('10.0.0.1', 0, {
        containers: [{ id: String(i).padEnd(600, 'x'), network: 'dcos', ip: '44.128.0.2', interface: 'eth0' }],
      });
    // Room for three changes, not four.
    const store = new MemoryStore({ historyBytes: 3 * JSON.stringify(big(10)).length });
    for (let i = 0; i < 20; i++) await store.commit([{ type: 'put', record: big(i) }]);
    const seen: number[] = [];
    store.watch(17, (c) => seen.push(c.revision));
    expect(seen).toEqual([18, 19, 20]);
    expect(() => store.watch(16, () => {})).toThrow('oldest retained is 18');
    const huge = new MemoryStore({ historyBytes: 10 });
    await huge.commit([{ type: 'put', record: big(0) }]);
    await huge.commit([{ type: 'put', record: big(1) }]);
    expect(() => huge.watch(1, () => {})).not.toThrow();
    expect(() => huge.watch(0, () => {})).toThrow('oldest retained is 2');
    await store.close();
    await huge.close();
  });

  it('refuses a history limit that is not a positive integer', () => {
    expect(() => new MemoryStore({ historyBytes: -1 })).toThrow('historyBytes is -1: must be a positive integer');
    expect(() => new MemoryStore({ historyLimit: 0 })).toThrow('historyLimit is 0: must be a positive integer');
  });
});
