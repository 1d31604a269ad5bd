import { describe, expect, it } from 'vitest';
import { convergedAt, parseMonitorLine, peerMatches, percentile, spread, type MonitorLine } from './converge.js';

const peer = {
  underlayIp: '198.18.7.101',
  vtepIp: '192.15.0.60',
  vtepMac: '70:B3:D5:0F:00:3C',
  subnets: ['192.168.5.0/24', '192.168.133.0/24'],
};
// Lines as `ip -ts -o monitor route neigh` prints them for the agent's ops.
const added = [
  '192.15.0.60 dev vtep1024 lladdr 70:b3:d5:0f:00:3c PERMANENT ',
  '198.18.7.101 dev vtep1024 lladdr 70:b3:d5:0f:00:3c NOARP PERMANENT ',
  '192.168.5.0/24 via 192.15.0.60 dev vtep1024 proto 177 onlink ',
  '192.168.133.0/24 via 192.15.0.60 dev vtep1024 proto 177 onlink ',
];
const removed = [
  'Deleted 192.168.5.0/24 via 192.15.0.60 dev vtep1024 proto 177 onlink ',
  'Deleted 192.168.133.0/24 via 192.15.0.60 dev vtep1024 proto 177 onlink ',
  '192.15.0.60 dev vtep1024 FAILED ',
  'Deleted 192.15.0.60 dev vtep1024 FAILED ',
  'Deleted 198.18.7.101 dev vtep1024 lladdr 70:b3:d5:0f:00:3c NOARP PERMANENT ',
];
const at = (texts: string[], start = 1000): MonitorLine[] => texts.map((text, i) => ({ at: start + i, text }));

describe('parseMonitorLine', () => {
  it('reads the -ts stamp as UTC with microseconds', () => {
    const l = parseMonitorLine('[2026-11-30T07:15:36.556238] 10.254.0.0/24 via 192.15.15.250 dev vxflr proto 178 onlink ');
    expect(l?.text).toBe('10.254.0.0/24 via 192.15.15.250 dev vxflr proto 178 onlink');
    expect(l!.at).toBeCloseTo(Date.UTC(2026, 10, 30, 7, 15, 36) + 556.238, 3);
  });
  it('skips lines without a stamp', () => {
    expect(parseMonitorLine('Deleted 10.0.0.0/24 dev x')).toBeUndefined();
    expect(parseMonitorLine('[garbage] x')).toBeUndefined();
  });
});

describe('peerMatches and convergedAt', () => {
  it('a host converged on a join when its last needed entry appeared', () => {
    expect(convergedAt(at(added), peerMatches(peer, 'vtep1024', false))).toBe(1003);
  });
  it('a host missing one route has not converged', () => {
    expect(convergedAt(at(added.slice(0, 3)), peerMatches(peer, 'vtep1024', false))).toBeUndefined();
  });
  it('deletions do not count as a join, additions not as a leave', () => {
    expect(convergedAt(at(removed), peerMatches(peer, 'vtep1024', false))).toBeUndefined();
    expect(convergedAt(at(added), peerMatches(peer, 'vtep1024', true))).toBeUndefined();
    expect(convergedAt(at(removed, 50), peerMatches(peer, 'vtep1024', true))).toBe(54);
  });
  it('entries of another peer or another device do not count', () => {
    const other = { ...peer, underlayIp: '198.18.7.102', vtepIp: '192.15.0.61', subnets: ['192.168.6.0/24', '192.168.134.0/24'] };
    expect(convergedAt(at(added), peerMatches(other, 'vtep1024', false))).toBeUndefined();
    expect(convergedAt(at(added), peerMatches(peer, 'vxflr', false))).toBeUndefined();
  });
  it('a subnet that is a prefix of another does not match it', () => {
    const p = { ...peer, subnets: ['192.168.5.0/2'] };
    expect(peerMatches(p, 'vtep1024', false)[0]!(added[2]!)).toBe(false);
  });
});

describe('percentile', () => {
  it('is nearest-rank', () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(spread([3, 1, 2])).toEqual({ n: 3, p50: 2, p99: 3, max: 3 });
  });
  it('refuses an empty list', () => {
    expect(() => percentile([], 50)).toThrow();
  });
});
