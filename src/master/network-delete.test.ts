import { describe, expect, it } from 'vitest';
import type { NetworkConfig } from '../config/types.js';
import type { AgentRecord, Snapshot } from '../store/store.js';
import { VxnetError } from '../errors.js';
import { networkDeleteReport, planNetworkDelete } from './network-delete.js';
import { reconcile } from './reconcile.js';
import { canonicalize } from '../config/canonical.js';

const config: NetworkConfig = {
  vtep_subnet: '192.15.0.0/20',
  vtep_mac_oui: '70:B3:D5:00:00:00',
  overlays: [
    { name: 'dcos-1', subnet: '192.168.0.0/17', prefix: 24 },
    { name: 'dcos-2', subnet: '192.168.128.0/17', prefix: 24 },
  ],
};
const agent: AgentRecord = {
  ip: '10.0.0.1',
  seq: 1,
  networkConfig: { allocate_subnet: true, mesos_bridge: true, docker_bridge: true },
  vtepIp: '192.15.0.1',
  vtepMac: '70:b3:d5:0f:00:01',
  overlays: { 'dcos-1': { subnet: '192.168.0.0/24' }, 'dcos-2': { subnet: '192.168.128.0/24' } },
  status: { 'dcos-2': { status: 'STATUS_OK' } },
  containers: [{ id: 'c', network: 'dcos-2', ip: '192.168.128.2', interface: 'eth0' }],
};
const snapshot: Snapshot = { revision: 3, config, agents: [agent] };

describe('planNetworkDelete', () => {
  it('removes the overlay from agents and config so the smaller config reconciles', () => {
    const plan = planNetworkDelete(snapshot, 'dcos-2', '/d');
    expect(plan.agents).toBe(1);
    expect(plan.changes).toHaveLength(2);
    const put = plan.changes[0]!;
    expect(put.type === 'put' && put.record).toMatchObject({
      overlays: { 'dcos-1': { subnet: '192.168.0.0/24' } },
      status: {},
      containers: [],
    });
    expect(put.type === 'put' && Object.keys(put.record.overlays)).toEqual(['dcos-1']);
    const cfg = plan.changes[1]!;
    expect(cfg.type === 'config' && cfg.config.overlays.map((o) => o.name)).toEqual(['dcos-1']);
    const after: AgentRecord[] = [put.type === 'put' ? put.record : agent];
    const smaller = { ...config, overlays: [config.overlays[0]!] };
    expect(reconcile({ config, agents: [agent] }, canonicalize(smaller), '--data /d').ok).toBe(false);
    expect(reconcile({ config: cfg.type === 'config' ? cfg.config : config, agents: after }, canonicalize(smaller), '--data /d').ok).toBe(
      true,
    );
  });

  it('refuses an overlay the store does not know, listing the ones it does', () => {
    expect(() => planNetworkDelete(snapshot, 'nope', '/d')).toThrow(VxnetError);
    expect(() => planNetworkDelete(snapshot, 'nope', '/d')).toThrow(
      'overlay "nope" is not in the store at /d: nothing to delete (stored overlays: dcos-1, dcos-2)',
    );
  });

  it('counts only agents that held a subnet, not those that listed the overlay with nothing in it', () => {
    const bare: AgentRecord = {
      ...agent,
      ip: '10.0.0.2',
      networkConfig: { ...agent.networkConfig, allocate_subnet: false },
      vtepIp: '192.15.0.2',
      overlays: { 'dcos-1': {}, 'dcos-2': {} },
      containers: [],
    };
    const full: AgentRecord = { ...bare, ip: '10.0.0.3', vtepIp: '192.15.0.3', overlays: { 'dcos-2': { error: 'no free /24 left' } } };
    const plan = planNetworkDelete({ revision: 3, config, agents: [agent, bare, full] }, 'dcos-2', '/d');
    expect(plan.agents).toBe(1);
    expect(networkDeleteReport(plan, 'dcos-2', '/d').summary).toContain(
      'freed its subnets on 1 agent(s) and removed it from the stored config',
    );
  });

  it('warns that an overlay still in the config comes back in a new order, and says nothing when nothing was held', () => {
    const report = networkDeleteReport(planNetworkDelete(snapshot, 'dcos-2', '/d'), 'dcos-2', '/d');
    expect(report.warning).toContain(
      "if the master's --config still lists overlay dcos-2, its next start gives dcos-2 to every agent again",
    );
    expect(report.warning).toContain('Remove dcos-2 from the config before starting the master, unless you are re-numbering it');
    const notHeld: Snapshot = {
      ...snapshot,
      agents: [{ ...agent, overlays: { 'dcos-1': agent.overlays['dcos-1']! }, status: {}, containers: [] }],
    };
    expect(networkDeleteReport(planNetworkDelete(notHeld, 'dcos-2', '/d'), 'dcos-2', '/d').warning).toBeUndefined();
  });
});
