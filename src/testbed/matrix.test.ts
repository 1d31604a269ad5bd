import { describe, expect, it } from 'vitest';
import { containerTable, pingMatrix } from './matrix.js';

const ctrs = [
  { label: 'h1-a', host: 'h1 198.18.0.1', network: 'dcos-1', ip: '192.168.0.2' },
  { label: 'h2-a', host: 'h2 198.18.0.2', network: 'dcos-1', ip: '192.168.1.2' },
];

describe('demo tables', () => {
  it('lists each container with its host and IP in aligned columns', () => {
    expect(containerTable(ctrs).split('\n')).toEqual([
      'CONTAINER  HOST           NETWORK  IP',
      'h1-a       h1 198.18.0.1  dcos-1   192.168.0.2',
      'h2-a       h2 198.18.0.2  dcos-1   192.168.1.2',
    ]);
  });
  it('marks each pair ok or FAIL and leaves the diagonal out', () => {
    expect(pingMatrix(ctrs, (i) => i === 0).split('\n')).toEqual(['FROM \\ TO  h1-a  h2-a', 'h1-a       -     ok', 'h2-a       FAIL  -']);
  });
});
