import { describe, expect, it } from 'vitest';
import type { NetworkConfig } from '../config/types.js';
import { MemoryStore } from '../store/memory/memory-store.js';
import type { AgentRecord } from '../store/store.js';
import { StateReplica } from './replica.js';

const config: NetworkConfig = {
  vtep_subnet: '198.15.0.0/29',
  vtep_mac_oui: '70:B3:D5:00:00:00',
  overlays: [{ name: 'a', subnet: '44.128.0.0/23', prefix: 24 }],
};
const record = (ip: string, seq: number, vtep: string): AgentRecord => ({
  ip,
  seq,
  networkConfig: { allocate_subnet: true, mesos_bridge: true, docker_bridge: true },
  vtepIp: vtep,
  vtepMac: '70:b3:d5:0f:00:01',
  overlays: { a: { subnet: `44.128.${seq - 1}.0/24` } },
  status: {},
  containers: [],
});

describe('StateReplica.start from a snapshot the caller read', () => {
  it('serves that snapshot plus every change committed after it', async () => {
    const store = new MemoryStore();
    await store.commit([
      { type: 'config', config },
      { type: 'put', record: record('10.0.0.1', 1, '198.15.0.1') },
    ]);
    const taken = await store.snapshot();
    await store.commit([{ type: 'put', record: record('10.0.0.2', 2, '198.15.0.2') }]);
    await store.commit([{ type: 'delete', ip: '10.0.0.1' }]);
    const replica = await StateReplica.start(store, config, {}, taken);
    expect(replica.revision).toBe(4);
    expect(replica.agentText('10.0.0.1')).toBeUndefined();
    expect(replica.state().agents.map((a) => a.ip)).toEqual(['10.0.0.2']);
    replica.close();
    await store.close();
  });

  it('reads the store again when it no longer holds the changes since that snapshot', async () => {
    const store = new MemoryStore({ historyLimit: 1 });
    await store.commit([{ type: 'config', config }]);
    const taken = await store.snapshot();
    for (let i = 1; i <= 3; i++) await store.commit([{ type: 'put', record: record(`10.0.0.${i}`, i, `198.15.0.${i}`) }]);
    const replica = await StateReplica.start(store, config, {}, taken);
    expect(replica.revision).toBe(4);
    expect(replica.state().agents.map((a) => a.ip)).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    replica.close();
    await store.close();
  });
});
