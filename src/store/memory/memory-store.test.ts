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

  it('refuses a history limit that is not a positive integer', () => {
    expect(() => new MemoryStore({ historyLimit: 0 })).toThrow('historyLimit is 0: must be a positive integer');
  });
});
