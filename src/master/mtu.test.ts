import { describe, expect, it } from 'vitest';
import type { MasterState, MtuEvent } from '../api/types.js';
import type { NetworkConfig } from '../config/types.js';
import { MemoryStore } from '../store/memory/memory-store.js';
import type { AgentRecord } from '../store/store.js';
import { MtuCounter } from './mtu.js';
import { parseStatus } from './requests.js';
import { MasterService } from './service.js';
import { frameRecorder } from './watch-recorder.test-helpers.js';

const record = (ip: string, mtu?: number, expired = false): AgentRecord =>
  ({
    ip,
    seq: 0,
    networkConfig: {},
    vtepIp: '',
    vtepMac: '',
    overlays: {},
    status: {},
    containers: [],
    ...(mtu !== undefined && { mtu }),
    ...(expired && { expired: { at: '', until: '' } }),
  }) as AgentRecord;

describe("the cluster's lowest MTU", () => {
  it('is the lowest any live agent reports; expired agents and agents that report none do not count', () => {
    const c = new MtuCounter([record('10.0.0.1', 8950), record('10.0.0.2'), record('10.0.0.3', 1000, true)]);
    expect(c.lowest()).toEqual({ mtu: 8950, agent: '10.0.0.1' });
    expect(c.set('10.0.0.2', 1400)).toBe(true);
    expect(c.lowest()).toEqual({ mtu: 1400, agent: '10.0.0.2' });
    expect(c.set('10.0.0.4', 1400)).toBe(false);
    expect(c.set('10.0.0.1', 9000)).toBe(false);
    expect(c.view(7)).toEqual({ revision: 7, lowest: { mtu: 1400, agent: '10.0.0.2' }, agents: { '1400': 2, '9000': 1 } });
  });

  it('rises again once the last agent with the lowest value leaves or reports more', () => {
    const c = new MtuCounter([record('10.0.0.1', 8950), record('10.0.0.2', 1400), record('10.0.0.3', 1400)]);
    expect(c.set('10.0.0.2', undefined)).toBe(false);
    expect(c.lowest()).toEqual({ mtu: 1400, agent: '10.0.0.3' });
    expect(c.set('10.0.0.3', 8950)).toBe(true);
    expect(c.event(3)).toEqual({ type: 'mtu', revision: 3, mtu: 8950, agent: '10.0.0.1', reported: 2 });
    expect(c.set('10.0.0.1', undefined)).toBe(false);
    expect(c.set('10.0.0.3', undefined)).toBe(true);
    expect(c.event(4)).toBeUndefined();
    expect(c.view(4)).toEqual({ revision: 4, agents: {} });
  });
});

describe('the status report MTU', () => {
  it('is an integer an underlay can carry, else a 400 naming the field', () => {
    expect(parseStatus({ overlays: [], mtu: 8950 }).mtu).toBe(8950);
    expect(parseStatus({ overlays: [] }).mtu).toBeUndefined();
    for (const bad of [100, 70000, 1400.5, '1400', null]) {
      expect(() => parseStatus({ overlays: [], mtu: bad })).toThrow(/^mtu: .* is invalid/);
    }
  });
});

const config: NetworkConfig = {
  vtep_subnet: '198.15.0.0/29',
  vtep_mac_oui: '70:B3:D5:00:00:00',
  overlays: [{ name: 'a', subnet: '44.128.0.0/23', prefix: 24 }],
};
const all = { allocate_subnet: true, mesos_bridge: true, docker_bridge: true };

const recorder = () => {
  const { frames, client } = frameRecorder();
  const mtuEvents = () =>
    frames.filter((f) => f.startsWith('event: mtu\n')).map((f) => JSON.parse(f.slice(f.indexOf('data: ') + 6)) as MtuEvent);
  return { frames, client, mtuEvents };
};

describe('the master publishes the lowest MTU', () => {
  it('as a watch event with no id when it changes and after each new stream’s first frames, and on GET /mtu', async () => {
    const svc = await MasterService.start(new MemoryStore(), config, { storeArgs: '--data /d' });
    await svc.register({ ip: '10.0.0.1', networkConfig: all });
    await svc.register({ ip: '10.0.0.2', networkConfig: all });
    const early = recorder();
    svc.reads.subscribe(early.client, undefined);
    expect(early.mtuEvents()).toEqual([]); // nobody reported yet

    await svc.reportStatus('10.0.0.1', { overlays: [], mtu: 8950 });
    await svc.reportStatus('10.0.0.2', { overlays: [], mtu: 1350 });
    await svc.reportStatus('10.0.0.2', { overlays: [{ name: 'a', status: 'STATUS_OK' }] }); // an older agent: the value stays
    expect(early.mtuEvents().map((e) => [e.mtu, e.agent, e.reported])).toEqual([
      [8950, '10.0.0.1', 1],
      [1350, '10.0.0.2', 2],
    ]);
    const frame = early.frames.find((f) => f.startsWith('event: mtu\n'))!;
    expect(frame).not.toContain('id:');

    const late = recorder();
    svc.reads.subscribe(late.client, undefined);
    expect(late.frames[0]).toContain('event: resync');
    expect(late.mtuEvents()).toEqual([{ type: 'mtu', revision: svc.reads.revision, mtu: 1350, agent: '10.0.0.2', reported: 2 }]);
    expect(svc.reads.mtu()).toEqual({
      revision: svc.reads.revision,
      lowest: { mtu: 1350, agent: '10.0.0.2' },
      agents: { '1350': 1, '8950': 1 },
    });

    // The DC/OS shape does not change.
    const state = svc.reads.state() as MasterState & { agents: Record<string, unknown>[] };
    expect(JSON.stringify(state)).not.toContain('8950');

    await svc.deleteAgents(['10.0.0.2']);
    expect(early.mtuEvents().at(-1)).toMatchObject({ mtu: 8950, agent: '10.0.0.1', reported: 1 });
  });
});
