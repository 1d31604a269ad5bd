// `vxnet container` against the reference CNI plugins in a throwaway host
// namespace, with a conflist shaped like the agent's (docs/CONTRACTS.md).
import { mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CLI,
  createUnderlay,
  inHostNetns,
  inNetns,
  leftovers,
  makeRunPrefix,
  ping,
  run,
  runNames,
  waitFor,
  type Underlay,
} from '../src/testbed/index.js';

const names = runNames(makeRunPrefix());
let ul: Underlay;
let dir: string;
const conf = () => join(dir, 'cni');
const state = () => join(dir, 'containers');
const ipam = () => join(dir, 'ipam');

function conflist(network: string, bridge: string, range: { subnet: string; gateway: string; rangeStart?: string; rangeEnd?: string }) {
  return {
    cniVersion: '0.4.0',
    name: network,
    plugins: [
      {
        type: 'bridge',
        bridge,
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        mtu: 1420,
        ipam: { type: 'host-local', dataDir: ipam(), ranges: [[range]], routes: [{ dst: '0.0.0.0/0' }] },
      },
    ],
  };
}

// Directory options go before the arguments: everything after "--" belongs to the command.
const vx = ([sub, ...args]: string[]) =>
  run(inHostNetns(ul.hosts[0]!.ns, ['node', CLI, 'container', sub!, '--cni-conf-dir', conf(), '--state-dir', state(), ...args]));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), `vxnet-${names.prefix}-`));
  mkdirSync(conf());
  writeFileSync(
    join(conf(), 'vxnet-dcos-1.conflist'),
    JSON.stringify(conflist('dcos-1', 'm-dcos-1', { subnet: '192.168.0.0/25', gateway: '192.168.0.1' })),
  );
  // A one-address range, to exhaust on purpose.
  writeFileSync(
    join(conf(), 'vxnet-tiny.conflist'),
    JSON.stringify(
      conflist('tiny', 'm-tiny', { subnet: '192.168.9.0/25', gateway: '192.168.9.1', rangeStart: '192.168.9.2', rangeEnd: '192.168.9.2' }),
    ),
  );
  ul = await createUnderlay({ names, hosts: 1 });
});

afterAll(async () => {
  for (const n of ['a', 'b', 't1', 't2']) await vx(['rm', names.container(n)]);
  await ul?.destroy();
  rmSync(dir, { recursive: true, force: true });
  await waitFor('no leftovers', async () => (await leftovers(names)).length === 0, { timeoutMs: 5_000 });
  expect(await leftovers(names)).toEqual([]);
});

describe('vxnet container', () => {
  it('runs two containers that reach each other and their gateway, lists them, and removes them without a trace', async () => {
    const a = await vx(['run', names.container('a'), '--network', 'dcos-1', '--', 'sleep', '300']);
    expect(a.stderr).toBe('');
    const ipA = a.stdout.trim();
    expect(ipA).toMatch(/^192\.168\.0\.([2-9]|[1-9]\d|1[01]\d|12[0-6])$/);
    const b = await vx(['run', names.container('b'), '--network', 'dcos-1']);
    const ipB = b.stdout.trim();
    expect(ipB).not.toBe(ipA);
    expect(await ping(names.container('a'), ipB)).toBe(true);
    expect(await ping(names.container('b'), '192.168.0.1')).toBe(true);

    const exec = await vx(['exec', names.container('a'), '--', 'ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0']);
    expect(exec.stdout).toContain(`${ipA}/25`);
    const ls = await vx(['ls', '--json']);
    const rows = JSON.parse(ls.stdout) as { name: string; ip: string; running: boolean; pid?: number }[];
    const rowA = rows.find((r) => r.name === names.container('a'))!;
    expect(rowA).toMatchObject({ ip: ipA, running: true });

    expect((await vx(['rm', names.container('a'), names.container('b')])).stdout).toContain(`removed ${names.container('a')}`);
    expect(existsSync(`/run/netns/${names.container('a')}`)).toBe(false);
    expect(() => process.kill(rowA.pid!, 0)).toThrow();
    expect(readdirSync(join(ipam(), 'dcos-1')).filter((f) => f.startsWith('192.'))).toEqual([]);
    const again = await vx(['rm', names.container('a')]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('nothing to do');
  });

  it('names the known networks when the network is unknown', async () => {
    const r = await vx(['run', names.container('a'), '--network', 'nope']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('unknown network "nope"');
    expect(r.stderr).toContain('known networks: dcos-1, tiny');
    expect(existsSync(`/run/netns/${names.container('a')}`)).toBe(false);
  });

  it('refuses to run inside `ip netns exec`, where the namespace would vanish', async () => {
    const r = await run(
      inNetns(ul.hosts[0]!.ns, [
        'node',
        CLI,
        'container',
        'run',
        '--cni-conf-dir',
        conf(),
        '--state-dir',
        state(),
        names.container('a'),
        '--network',
        'dcos-1',
      ]),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('nsenter --net=/run/netns/HOST');
    expect(existsSync(`/run/netns/${names.container('a')}`)).toBe(false);
  });

  it('refuses an invalid name and a name in use', async () => {
    const bad = await vx(['run', '../etc', '--network', 'dcos-1']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/container name "\.\.\/etc" is invalid/);
    expect((await vx(['run', names.container('a'), '--network', 'dcos-1'])).code).toBe(0);
    const dup = await vx(['run', names.container('a'), '--network', 'dcos-1']);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain('already in use');
    expect(await ping(ul.hosts[0]!.ns, (await vx(['ls', '--json'])).stdout.match(/192\.168\.0\.\d+/)![0])).toBe(true);
  });

  it('reports a command that cannot start and rolls the container back', async () => {
    const r = await vx(['run', names.container('b'), '--network', 'dcos-1', '--', '/nonexistent/cmd']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/"\/nonexistent\/cmd" exited at once with status \d+: .*No such file/);
    expect(existsSync(`/run/netns/${names.container('b')}`)).toBe(false);
  });

  it('shows the plugin message when the range is exhausted and rolls back', async () => {
    expect((await vx(['run', names.container('t1'), '--network', 'tiny'])).stdout.trim()).toBe('192.168.9.2');
    const r = await vx(['run', names.container('t2'), '--network', 'tiny']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no IP addresses available/);
    expect(r.stderr).toContain('exhausted');
    expect(existsSync(`/run/netns/${names.container('t2')}`)).toBe(false);
    expect(JSON.parse((await vx(['ls', '--json'])).stdout).map((x: { name: string }) => x.name)).not.toContain(names.container('t2'));
  });
});
