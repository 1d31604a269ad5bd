import { describe, expect, it } from 'vitest';
import type { LeasesView } from '../api/types.js';
import { changesLeases, formatTime, heldRows, nextRefreshMs, PAST_DUE_RETRY_MS, strandedRows } from './leases-model.js';

const view: LeasesView = {
  held: [
    {
      ip: '198.18.0.1',
      epoch: 1,
      vtep_ip: '198.19.0.1',
      overlays: { 'dcos-1': { subnet: '10.1.0.0/24' }, b: { subnet: '10.2.0.0/24', subnet6: 'fd00:0:0:1::/64' } },
      expired_at: '2024-05-01T12:00:03.123Z',
      until: '2024-05-01T12:10:03.123Z',
      kind: 'expired',
    },
    {
      ip: '198.18.0.2',
      epoch: 2,
      vtep_ip: '198.19.0.2',
      vtep_ip6: 'fd01::2',
      overlays: {},
      expired_at: '2024-05-01T12:01:00.000Z',
      until: '2024-05-01T12:11:00.000Z',
      kind: 'quarantined',
    },
  ],
  stranded: [
    { agent: '198.18.0.2', id: '0123456789abcdef0123', name: 'web', network: 'dcos-1', ip: '10.1.0.7', ip6: 'fd00::7', interface: '' },
    { agent: '198.18.0.2', id: 'c1', network: 'b', ip: '10.2.0.9', interface: 'eth0' },
  ],
};

describe('lease rows', () => {
  it('one row per held allocation: kind in words, VTEP IPv4 first, subnets per overlay by name', () => {
    expect(heldRows(view)).toEqual([
      {
        ip: '198.18.0.1',
        kind: 'expired',
        kindText: 'expired: the agent has not come back',
        epoch: 1,
        expiredAt: '2024-05-01T12:00:03.123Z',
        until: '2024-05-01T12:10:03.123Z',
        vtep: ['198.19.0.1'],
        subnets: ['b 10.2.0.0/24 fd00:0:0:1::/64', 'dcos-1 10.1.0.0/24'],
      },
      {
        ip: '198.18.0.2',
        kind: 'quarantined',
        kindText: 'came back with a fresh allocation; the old one is held',
        epoch: 2,
        expiredAt: '2024-05-01T12:01:00.000Z',
        until: '2024-05-01T12:11:00.000Z',
        vtep: ['198.19.0.2', 'fd01::2'],
        subnets: [],
      },
    ]);
  });

  it('stranded containers: name and short id, or the id alone, and both addresses', () => {
    expect(strandedRows(view)).toEqual([
      { agent: '198.18.0.2', container: 'web (0123456789ab)', network: 'dcos-1', address: '10.1.0.7 fd00::7' },
      { agent: '198.18.0.2', container: 'c1', network: 'b', address: '10.2.0.9' },
    ]);
    expect(heldRows({ held: [], stranded: [] })).toEqual([]);
  });

  it('times read as UTC without milliseconds; other text as it is', () => {
    expect(formatTime('2024-05-01T12:00:03.123Z')).toBe('2024-05-01 12:00:03 UTC');
    expect(formatTime('2024-05-01T12:00:03Z')).toBe('2024-05-01 12:00:03 UTC');
    expect(formatTime('soon')).toBe('soon');
  });
});

describe('when the lease tables are fetched again', () => {
  it('after put, delete, expired and resync; not after pool events or types it does not know', () => {
    for (const type of ['put', 'delete', 'expired', 'resync']) expect(changesLeases({ type })).toBe(true);
    for (const type of ['pool', 'future-kind']) expect(changesLeases({ type })).toBe(false);
  });

  it('a second after the earliest quarantine ends, never sooner than the retry floor, never with nothing held', () => {
    const now = Date.parse('2024-05-01T12:00:00.000Z');
    expect(nextRefreshMs(view, now)).toBe(10 * 60_000 + 3_123 + 1_000);
    // Past due (the sweep has not run yet): ask again after the floor, not in a loop.
    expect(nextRefreshMs(view, Date.parse('2024-05-01T13:00:00.000Z'))).toBe(PAST_DUE_RETRY_MS);
    expect(nextRefreshMs({ held: [], stranded: [] }, now)).toBeUndefined();
    // An unparsable time is skipped; a far one is capped at what setTimeout takes.
    const odd = { held: [{ ...view.held[0]!, until: 'never' }], stranded: [] };
    expect(nextRefreshMs(odd, now)).toBeUndefined();
    const far = { held: [{ ...view.held[0]!, until: '2099-01-01T00:00:00.000Z' }], stranded: [] };
    expect(nextRefreshMs(far, now)).toBe(2 ** 31 - 1);
  });
});
