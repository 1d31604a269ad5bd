import { describe, expect, it } from 'vitest';
import type { Op } from '../model.js';
import { execute, opLines, parseBatchErrors, toBatches } from './execute.js';
import type { Exec } from './exec.js';

const vtep: Op = {
  kind: 'link-add',
  link: {
    name: 'vtep1024',
    kind: 'vxlan',
    mtu: 1450,
    mac: '70:b3:d5:0f:00:01',
    addresses: [],
    vxlan: { vni: 1024, port: 64000, local: '198.18.0.1', dev: 'eth9', learning: false },
  },
};

describe('executor', () => {
  const lines: { description: string; op: Op; expected: string[] }[] = [
    {
      description: 'a VTEP is created up, with its MAC and MTU, then marked as ours',
      op: vtep,
      expected: [
        'link add name vtep1024 address 70:b3:d5:0f:00:01 mtu 1450 up type vxlan id 1024 dstport 64000 local 198.18.0.1 dev eth9 nolearning',
        'link set dev vtep1024 alias vxnet',
      ],
    },
    {
      description: 'IPv6 addresses skip DAD so a portless bridge can use them at once',
      op: { kind: 'addr-add', dev: 'm-dual', address: 'fd01::1/65' },
      expected: ['addr replace fd01::1/65 dev m-dual nodad'],
    },
    {
      description: 'IPv4 addresses are replaced idempotently',
      op: { kind: 'addr-add', dev: 'm-dual', address: '44.128.0.1/25' },
      expected: ['addr replace 44.128.0.1/25 dev m-dual'],
    },
    {
      description: 'neighbour entries are permanent',
      op: { kind: 'neigh-replace', ip: '198.15.0.2', mac: '70:b3:d5:0f:00:02' },
      expected: ['neigh replace 198.15.0.2 lladdr 70:b3:d5:0f:00:02 dev vtep1024 nud permanent'],
    },
    {
      description: 'FDB entries use replace so repeats stay idempotent',
      op: { kind: 'fdb-replace', mac: '70:b3:d5:0f:00:02', dst: '198.18.0.2' },
      expected: ['fdb replace 70:b3:d5:0f:00:02 dev vtep1024 dst 198.18.0.2 self permanent'],
    },
    {
      description: 'routes are onlink and carry our protocol number',
      op: { kind: 'route-replace', dst: '44.128.1.0/24', via: '198.15.0.2' },
      expected: ['route replace 44.128.1.0/24 via 198.15.0.2 dev vtep1024 onlink proto 177'],
    },
  ];
  for (const c of lines) it(c.description, () => expect(opLines(c.op)).toEqual(c.expected));

  it('groups consecutive ops per tool, keeping the order', () => {
    const ops: Op[] = [
      vtep,
      { kind: 'fdb-replace', mac: '70:b3:d5:0f:00:02', dst: '198.18.0.2' },
      { kind: 'neigh-replace', ip: '198.15.0.2', mac: '70:b3:d5:0f:00:02' },
    ];
    const batches = toBatches(ops);
    expect(batches.map((b) => [b.tool, b.opOf])).toEqual([
      ['ip', [0, 0]],
      ['bridge', [1]],
      ['ip', [2]],
    ]);
  });

  it("maps the kernel's error text back to the failing op", async () => {
    expect(parseBatchErrors('Cannot find device "nosuch"\nCommand failed -:2\n')).toEqual(new Map([[2, 'Cannot find device "nosuch"']]));
    const ops: Op[] = [vtep, { kind: 'neigh-replace', ip: '198.15.0.2', mac: '70:b3:d5:0f:00:02' }];
    const calls: { file: string; args: readonly string[]; stdin?: string }[] = [];
    // Stands in for `ip` only to inject a failure the real tool would print.
    const exec: Exec = async (file, args, stdin) => {
      calls.push({ file, args, stdin });
      return { code: 1, stdout: '', stderr: 'RTNETLINK answers: Operation not permitted\nCommand failed -:3\n' };
    };
    const failures = await execute(exec, ops);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args).toEqual(['-force', '-batch', '-']);
    expect(failures).toEqual([{ op: ops[1], error: 'RTNETLINK answers: Operation not permitted' }]);
  });
});
