import { describe, expect, it } from 'vitest';
import { canonicalize } from '../config/canonical.js';
import { agentRecord } from '../store/contract.case.test.js';
import type { AgentRecord } from '../store/store.js';
import { crossing, PoolCounter, poolFrame, poolLevel } from './pool-thresholds.js';

describe('pool threshold crossings', () => {
  it('levels: 80, 90, 100 % of the blocks, 0 below', () => {
    expect([0, 7, 8, 9, 10].map((used) => poolLevel(used, 10))).toEqual([0, 0, 80, 90, 100]);
    expect(poolLevel(0, 0)).toBe(100); // a pool of no blocks is full
  });

  it('up to the highest threshold reached, down below the one that was reached, nothing in between', () => {
    expect(crossing(7, 8, 10)).toEqual({ direction: 'up', threshold: 80, level: 80 });
    expect(crossing(7, 10, 10)).toEqual({ direction: 'up', threshold: 100, level: 100 });
    expect(crossing(10, 9, 10)).toEqual({ direction: 'down', threshold: 100, level: 90 });
    expect(crossing(8, 7, 10)).toEqual({ direction: 'down', threshold: 80, level: 0 });
    expect(crossing(3, 4, 10)).toBeUndefined();
    expect(crossing(9, 9, 10)).toBeUndefined();
  });

  it('counts blocks per pool change by change (quarantine included) and names the pool that crossed', () => {
    const config = canonicalize({
      vtep_subnet: '198.15.0.0/28', // 14 VTEP addresses
      vtep_mac_oui: '70:B3:D5:00:00:00',
      overlays: [{ name: 'dcos', subnet: '44.128.0.0/21', prefix: 24 }], // 8 agent subnets
    });
    const rec = (i: number): AgentRecord => agentRecord(`10.0.0.${i}`, i, { overlays: { dcos: { subnet: `44.128.${i}.0/24` } } });
    const held = new Map([0, 1, 2, 3, 4, 5].map((i) => [`10.0.0.${i}`, rec(i)]));
    const counter = new PoolCounter(config, [...held.values()]);
    expect(counter.usedOf('overlay dcos 4')).toBe(6);
    let revision = 10;
    // The caller hands over the record it held before each change, as the replica does.
    const put = (r: AgentRecord) => {
      const events = counter.apply({ type: 'put', record: r, revision: ++revision }, held.get(r.ip));
      held.set(r.ip, r);
      return events;
    };
    const remove = (ip: string) => {
      const events = counter.apply({ type: 'delete', ip, revision: ++revision }, held.get(ip));
      held.delete(ip);
      return events;
    };
    expect(put(rec(6))).toEqual([
      {
        type: 'pool',
        revision: 11,
        pool: 'overlay',
        overlay: 'dcos',
        family: 4,
        cidr: '44.128.0.0/21',
        used: 7,
        total: 8,
        direction: 'up',
        threshold: 80,
        level: 80,
      },
    ]);
    expect(put({ ...rec(6), status: { dcos: { status: 'STATUS_OK' } } })).toEqual([]); // same blocks: nothing
    expect(put(rec(7)).map((e) => `${e.pool} ${e.direction} ${e.threshold}`)).toEqual(['overlay up 100']);
    // An agent that came back with a fresh allocation holds its quarantined lease too.
    const q = { epoch: 1, vtepIp: '198.15.0.9', vtepMac: 'x', overlays: {}, expiredAt: '', until: '' };
    expect(put({ ...rec(7), quarantine: [q] })).toEqual([]);
    expect(counter.usedOf('vtep 4')).toBe(9);
    const down = remove('10.0.0.7');
    expect(down.map((e) => `${e.pool} ${e.direction} ${e.threshold} level ${e.level}`)).toEqual(['overlay down 100 level 80']);
    expect(counter.usedOf('vtep 4')).toBe(7);
    expect(remove('10.0.0.9')).toEqual([]);
  });

  it('frames carry no id: live only, a client resumes from the last change it saw', () => {
    const frame = poolFrame({
      type: 'pool',
      revision: 3,
      pool: 'vtep',
      family: 4,
      cidr: '198.15.0.0/28',
      used: 14,
      total: 14,
      direction: 'up',
      threshold: 100,
      level: 100,
    });
    expect(frame.startsWith('event: pool\ndata: {"type":"pool","revision":3,')).toBe(true);
    expect(frame).not.toContain('id:');
  });
});
