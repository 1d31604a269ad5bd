import { describe, expect, it } from 'vitest';
import { agentRecord } from '../store/contract.case.test.js';
import type { AgentRecord } from '../store/store.js';
import { allocationEvents, historyOfChanges } from './history-events.js';

const AT = '2024-05-01T00:00:00.000Z';
const a = agentRecord('10.0.0.1', 0, {
  overlays: { dcos: { subnet: '44.128.0.0/24', subnet6: 'fd00::/64' }, other: { subnet: '9.0.0.0/24' } },
});
const brief = (events: ReturnType<typeof allocationEvents>) =>
  events.map((e) => `${e.kind} ${e.overlay ?? 'vtep'} ${e.subnet ?? e.subnet6 ?? e.vtepIp}${e.epoch ? ` @${e.epoch}` : ''}`);

describe('allocation history events', () => {
  it('allocated: one event per block a registration gives (VTEP, each overlay per family)', () => {
    expect(brief(allocationEvents('10.0.0.1', undefined, a, AT))).toEqual([
      'allocated vtep 198.15.0.1',
      'allocated dcos 44.128.0.0/24',
      'allocated dcos fd00::/64',
      'allocated other 9.0.0.0/24',
    ]);
    const event = allocationEvents('10.0.0.1', undefined, a, AT)[1];
    expect(event).toEqual({ at: AT, kind: 'allocated', agent: '10.0.0.1', overlay: 'dcos', subnet: '44.128.0.0/24' });
  });

  it('nothing for a status or container report, or a re-registration that keeps the lease', () => {
    const reported = { ...a, status: { dcos: { status: 'STATUS_OK' as const } }, containers: [] };
    expect(allocationEvents('10.0.0.1', a, reported, AT)).toEqual([]);
  });

  it('freed: a deleted agent, an overlay dropped by a reload, allocate_subnet false', () => {
    expect(brief(allocationEvents('10.0.0.1', a, undefined, AT))).toEqual([
      'freed vtep 198.15.0.1',
      'freed dcos 44.128.0.0/24',
      'freed dcos fd00::/64',
      'freed other 9.0.0.0/24',
    ]);
    const { other: _gone, ...rest } = a.overlays;
    expect(brief(allocationEvents('10.0.0.1', a, { ...a, overlays: rest }, AT))).toEqual(['freed other 9.0.0.0/24']);
    expect(brief(allocationEvents('10.0.0.1', a, { ...a, overlays: { dcos: {}, other: {} } }, AT))).toEqual([
      'freed dcos 44.128.0.0/24',
      'freed dcos fd00::/64',
      'freed other 9.0.0.0/24',
    ]);
  });

  it('allocated for an overlay added later, and for a subnet given after exhaustion', () => {
    const before = { ...a, overlays: { dcos: { error: 'no free /24 left' } } };
    expect(brief(allocationEvents('10.0.0.1', before, { ...a, overlays: { dcos: { subnet: '44.128.0.0/24' } } }, AT))).toEqual([
      'allocated dcos 44.128.0.0/24',
    ]);
  });

  it('expired: the record gained `expired`, each block goes to quarantine with its epoch', () => {
    const live = { ...a, epoch: 2, overlays: { dcos: { subnet: '44.128.0.0/24' } } } as AgentRecord;
    const expired = { ...live, expired: { at: AT, until: AT } } as AgentRecord;
    expect(brief(allocationEvents('10.0.0.1', live, expired, AT))).toEqual(['expired vtep 198.15.0.1 @2', 'expired dcos 44.128.0.0/24 @2']);
  });

  it('reclaimed: an expired record deleted after its quarantine, or a quarantine entry dropped', () => {
    const live = { ...a, epoch: 2, overlays: { dcos: { subnet: '44.128.0.0/24' } } } as AgentRecord;
    const expired = { ...live, expired: { at: AT, until: AT } } as AgentRecord;
    expect(brief(allocationEvents('10.0.0.1', expired, undefined, AT))).toEqual([
      'reclaimed vtep 198.15.0.1 @2',
      'reclaimed dcos 44.128.0.0/24 @2',
    ]);
    // Came back with a stale epoch: a fresh allocation, the old one held in quarantine, then dropped.
    const quarantine = [
      { epoch: 2, vtepIp: '198.15.0.1', vtepMac: 'x', overlays: { dcos: { subnet: '44.128.0.0/24' } }, expiredAt: AT, until: AT },
    ];
    const back = { ...live, epoch: 3, vtepIp: '198.15.0.2', overlays: { dcos: { subnet: '44.128.1.0/24' } }, quarantine } as AgentRecord;
    expect(brief(allocationEvents('10.0.0.1', expired, back, AT))).toEqual([
      'allocated vtep 198.15.0.2 @3',
      'allocated dcos 44.128.1.0/24 @3',
    ]);
    const { quarantine: _q, ...released } = back as AgentRecord & { quarantine: unknown };
    expect(brief(allocationEvents('10.0.0.1', back, released as AgentRecord, AT))).toEqual([
      'reclaimed vtep 198.15.0.1 @2',
      'reclaimed dcos 44.128.0.0/24 @2',
    ]);
  });

  it('a list of changes: each builds on the one before it for the same agent; config changes give none', () => {
    const events = historyOfChanges(
      [
        { type: 'config', config: { vtep_subnet: '198.15.0.0/20', vtep_mac_oui: '70:B3:D5:00:00:00', overlays: [] } },
        { type: 'put', record: a },
        { type: 'delete', ip: '10.0.0.1' },
        { type: 'delete', ip: '10.0.0.9' },
      ],
      () => undefined,
      AT,
    );
    expect(events.map((e) => e.kind)).toEqual([...Array(4).fill('allocated'), ...Array(4).fill('freed')]);
  });
});
