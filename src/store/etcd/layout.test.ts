import { describe, expect, it } from 'vitest';
import { agentRecord, networkConfig } from '../contract.case.test.js';
import { encodeChanges } from '../change-codec.js';
import { chunkCallers, decodeLogEntry, encodeLogEntry, layoutOf } from './layout.js';

describe('etcd key layout', () => {
  it('orders log keys by revision, byte for byte', () => {
    const layout = layoutOf('/vxnet');
    const keys = [9, 10, 100, 2].map((r) => layout.logEntry(r));
    expect([...keys].sort()).toEqual([2, 9, 10, 100].map((r) => layout.logEntry(r)));
    expect(layout.agent('10.0.0.1')).toBe('/vxnet/agents/10.0.0.1');
  });

  it('refuses a prefix etcd users would trip over, naming the value and an example', () => {
    for (const bad of ['', 'vxnet', '/vxnet/', '/a//b', '/sp ace']) {
      expect(() => layoutOf(bad)).toThrow(`etcd prefix ${JSON.stringify(bad)} is invalid`);
    }
    expect(() => layoutOf('vxnet')).toThrow('e.g. /vxnet');
    expect(layoutOf('/prod/vxnet-2').config).toBe('/prod/vxnet-2/config');
  });
});

describe('log entries', () => {
  it('round-trip a batch with one revision per change', () => {
    const encoded = encodeChanges([
      { type: 'config', config: networkConfig() },
      { type: 'put', record: agentRecord('10.0.0.1', 0) },
      { type: 'delete', ip: '10.0.0.9' },
    ]);
    expect(decodeLogEntry(encodeLogEntry(41, encoded))).toEqual([
      { type: 'config', config: networkConfig(), revision: 41 },
      { type: 'put', record: agentRecord('10.0.0.1', 0), revision: 42 },
      { type: 'delete', ip: '10.0.0.9', revision: 43 },
    ]);
  });

  it('refuses an entry with a change type it does not know', () => {
    expect(() => decodeLogEntry('{"first":3,"changes":[["upsert",1]]}')).toThrow('change 3 has an unknown type "upsert"');
  });
});

describe('chunkCallers', () => {
  const caller = (n: number, bytes = 10) => ({
    changes: Array.from({ length: n }, () => ({ type: 'delete' as const, ip: 'x', payload: 'x'.repeat(bytes) })),
  });

  it('keeps every caller whole and each transaction within the operation limit', () => {
    const queue = [caller(60), caller(60), caller(10), caller(1)];
    const chunks = chunkCallers(queue, 128, 1 << 20);
    expect(chunks.map((c) => c.length)).toEqual([2, 2]);
    expect(chunks.flat()).toEqual(queue);
  });

  it('splits by bytes too, and gives an oversized caller a transaction of its own', () => {
    const chunks = chunkCallers([caller(1, 400), caller(1, 400), caller(500)], 128, 1000);
    expect(chunks.map((c) => c.map((p) => p.changes.length))).toEqual([[1], [1], [500]]);
  });
});

describe('allocation history keys', () => {
  it('say all that retention needs, and sort in write order', async () => {
    const { historyEntry, historyUnitOf } = await import('./layout.js');
    const layout = layoutOf('/p');
    const ev = (atMs: number) => ({
      event: { at: new Date(atMs).toISOString(), kind: 'allocated' as const, agent: '10.0.0.1' },
      json: '{"x":1}',
      atMs,
    });
    const a = historyEntry(layout, 9, 0, [ev(5), ev(7)]);
    expect(a.unit).toEqual({
      key: '/p/history/0000000000000009.000000.7.2.14',
      pos: '0000000000000009.000000',
      events: 2,
      bytes: 14,
      atMs: 7,
    });
    expect(a.value).toBe('[{"x":1},{"x":1}]');
    expect(historyUnitOf(layout, a.unit.key)).toEqual(a.unit);
    expect(historyUnitOf(layout, '/p/history/garbage')).toBeUndefined();
    const b = historyEntry(layout, 10, 0, [ev(8)]);
    const c = historyEntry(layout, 9, 1, [ev(8)]);
    expect([b.unit.key, c.unit.key, a.unit.key].sort()).toEqual([a.unit.key, c.unit.key, b.unit.key]);
    // A prune bound below b's position removes a and c, never b.
    expect(c.unit.key < layout.historyFrom(b.unit.pos) && layout.historyFrom(b.unit.pos) <= b.unit.key).toBe(true);
  });
});
