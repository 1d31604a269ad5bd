import { describe, expect, it } from 'vitest';
import { ipamSummary } from './ipam-summary.js';
import { parseContainers } from './requests.js';

const counts = (used: number, leaked = 0, suspect = 0, stranded = 0) => ({ used, leaked, suspect, stranded });

describe('ipamSummary', () => {
  it('lists each agent in the given order and totals per overlay; agents without a report count nothing', () => {
    const s = ipamSummary([
      { ip: '198.18.0.1', ipam: { 'dcos-1': counts(4, 1, 0, 0), 'dcos-2': counts(1) } },
      { ip: '198.18.0.2' },
      { ip: '198.18.0.3', ipam: { 'dcos-1': counts(2, 0, 1, 1) } },
    ]);
    expect(s.agents).toEqual([
      { agent: '198.18.0.1', overlays: { 'dcos-1': counts(4, 1), 'dcos-2': counts(1) } },
      { agent: '198.18.0.2', overlays: {} },
      { agent: '198.18.0.3', overlays: { 'dcos-1': counts(2, 0, 1, 1) } },
    ]);
    expect(s.totals).toEqual({ 'dcos-1': counts(6, 1, 1, 1), 'dcos-2': counts(1) });
  });
});

describe('the containers report with an IPAM summary', () => {
  it('keeps a well-formed summary', () => {
    expect(parseContainers({ containers: [], ipam: { 'dcos-1': counts(3, 1) } }).ipam).toEqual({ 'dcos-1': counts(3, 1) });
  });

  const bad = [
    { description: 'a key that is no overlay name', ipam: { '../x': counts(1) }, field: 'ipam' },
    { description: 'a negative count', ipam: { 'dcos-1': counts(-1) }, field: 'ipam' },
    { description: 'an unknown field', ipam: { 'dcos-1': { ...counts(1), extra: 1 } }, field: 'ipam' },
    {
      description: 'more than 256 overlays',
      ipam: Object.fromEntries(Array.from({ length: 257 }, (_, i) => [`o${i}`, counts(1)])),
      field: 'ipam',
    },
  ];
  for (const c of bad) {
    it(`refuses ${c.description}, naming the field`, () => {
      expect(() => parseContainers({ containers: [], ipam: c.ipam })).toThrow(new RegExp(c.field));
    });
  }
});
