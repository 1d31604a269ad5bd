import { describe, expect, it } from 'vitest';
import { computeDesired } from './desired.js';
import { agent } from './fixtures.test-helpers.js';
import { afterResync, changesProgramming } from './peers.js';

const ME = agent(1);
const failed = (index: number) => agent(index, { state: { status: 'STATUS_FAILED', error: 'bridge m-dcos: exists' } });

describe('changesProgramming', () => {
  it('is false for a report echo (only `state` differs) and true for a new peer or a changed allocation', () => {
    expect(changesProgramming(agent(2), failed(2))).toBe(false);
    expect(changesProgramming(agent(2), agent(2))).toBe(false);
    expect(changesProgramming(undefined, agent(2))).toBe(true);
    expect(changesProgramming(agent(2), agent(2, { subnet: '44.128.9.0/24' }))).toBe(true);
    const moved = agent(2);
    moved.overlays[0]!.backend.vxlan.vtep_mac = '70:b3:d5:0f:00:09';
    expect(changesProgramming(agent(2), moved)).toBe(true);
    expect(changesProgramming(agent(2), agent(2, { info: { name: 'dcos', subnet: '44.128.0.0/16', prefix: 24, enabled: false } }))).toBe(
      true,
    );
  });

  it("holds because desired.ts reads nothing of a peer's `state`", () => {
    const options = {
      bridgeMtu: 1420,
      vxlanPort: 64000,
      networkConfig: { allocate_subnet: true, mesos_bridge: true, docker_bridge: true },
    };
    const underlay = { dev: 'eth0', mtu: 1500 };
    expect(computeDesired(ME, [failed(2), failed(3)], underlay, options)).toEqual(
      computeDesired(ME, [agent(2), agent(3)], underlay, options),
    );
  });
});

describe('afterResync', () => {
  it('keeps the old object of every unchanged peer and says nothing changed', () => {
    const [p2, p3] = [agent(2), agent(3)];
    const before = new Map([
      [ME.ip, ME],
      [p2.ip, p2],
      [p3.ip, p3],
    ]);
    const me = agent(1, { state: { status: 'STATUS_FAILED' } });
    const { peers, changed } = afterResync(before, [me, failed(2), agent(3)], ME.ip);
    expect(changed).toBe(false);
    expect(peers.get(p2.ip)).toBe(p2);
    expect(peers.get(p3.ip)).toBe(p3);
    // This agent's own record is always the new one.
    expect(peers.get(ME.ip)).toBe(me);
  });

  it('says changed when a peer comes, goes or changes, and not for this agent alone', () => {
    const before = new Map([
      [ME.ip, ME],
      [agent(2).ip, agent(2)],
    ]);
    expect(afterResync(before, [ME, agent(2), agent(3)], ME.ip).changed).toBe(true);
    expect(afterResync(before, [ME], ME.ip).changed).toBe(true);
    expect(afterResync(before, [ME, agent(2, { subnet: '44.128.9.0/24' })], ME.ip).changed).toBe(true);
    expect(afterResync(before, [agent(2)], ME.ip).changed).toBe(false);
    expect(afterResync(new Map(), [], ME.ip).changed).toBe(false);
  });
});
