import { describe, expect, it } from 'vitest';
import type { AgentInfo, ContainerInfo } from '../api/types.js';
import { canonicalize } from '../config/canonical.js';
import type { NetworkConfig } from '../config/types.js';
import { VxnetError } from '../errors.js';
import { MemoryStore } from '../store/memory/memory-store.js';
import { checkAgentAddress, checkContainers } from './request-checks.js';
import { MasterService } from './service.js';

const config: NetworkConfig = {
  vtep_subnet: '44.0.0.0/24',
  vtep_mac_oui: '70:B3:D5:00:00:00',
  overlays: [
    { name: 'a', subnet: '10.10.0.0/16', prefix: 24 },
    { name: 'b', subnet: '10.20.0.0/16', prefix: 24 },
    { name: 'v6', subnet6: 'fd10::/64', prefix6: 80 },
  ],
};
const parsed = canonicalize(config);
const all = { allocate_subnet: true, mesos_bridge: true, docker_bridge: true };
const reg = (ip: string, allocate_subnet = true) => ({ ip, networkConfig: { ...all, allocate_subnet } });
const info = async (json: Promise<string>) => JSON.parse(await json) as AgentInfo;
const container = (ip: string, network = 'a', more: Partial<ContainerInfo> = {}): ContainerInfo => ({
  id: `c-${ip}`,
  network,
  ip,
  interface: 'eth0',
  ...more,
});

function refusal(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(VxnetError);
    return { code: (e as VxnetError).code, message: (e as VxnetError).message };
  }
  throw new Error('expected a refusal');
}

describe('checkAgentAddress', () => {
  it.each([
    ['inside vtep_subnet', '44.0.0.9', 'ip: "44.0.0.9" is inside vtep_subnet (44.0.0.0/24)'],
    ["inside an overlay's subnet", '10.20.3.4', 'ip: "10.20.3.4" is inside the subnet of overlay b (10.20.0.0/16)'],
  ])('refuses an agent address %s, naming the pool', (_what, ip, text) => {
    const r = refusal(() => checkAgentAddress(ip, parsed));
    expect(r.code).toBe('BAD_REQUEST');
    expect(r.message).toContain(text);
    expect(r.message).toContain("give the agent's own underlay IPv4 address");
  });

  it('accepts an underlay address', () => {
    expect(() => checkAgentAddress('198.18.0.1', parsed)).not.toThrow();
  });
});

describe('checkContainers against the reporting agent allocation', () => {
  const agent = {
    ip: '198.18.0.1',
    seq: 1,
    networkConfig: all,
    vtepIp: '44.0.0.1',
    vtepMac: '70:b3:d5:00:00:01',
    overlays: { a: { subnet: '10.10.0.0/24' }, v6: { subnet6: 'fd10::/80' } },
    status: {},
    containers: [],
  };
  const check = (containers: ContainerInfo[], owners: Record<string, string> = {}) =>
    refusal(() => checkContainers(agent, { containers }, parsed, (ip) => owners[ip]));

  it.each([
    [
      'an address outside every overlay',
      [container('8.8.8.8')],
      'BAD_REQUEST',
      'containers[0].ip: "8.8.8.8" is not in overlay a (10.10.0.0/16)',
    ],
    [
      "another agent's subnet",
      [container('10.10.1.5')],
      'CONFLICT',
      `containers[0].ip: "10.10.1.5" is outside agent 198.18.0.1's subnet of overlay a (10.10.0.0/24)`,
    ],
    ["another overlay's address", [container('10.20.0.5')], 'BAD_REQUEST', 'containers[0].ip: "10.20.0.5" is not in overlay a'],
    [
      'an overlay where the agent holds nothing',
      [container('10.20.0.5', 'b')],
      'CONFLICT',
      'containers[0].ip: "10.20.0.5" is on overlay b, where agent 198.18.0.1 holds no IPv4 subnet',
    ],
    [
      'IPv6 on an IPv4-only overlay',
      [container('fd00::1')],
      'BAD_REQUEST',
      'containers[0].ip: "fd00::1" is IPv6 but overlay a has no IPv6 subnet',
    ],
    ['the network address', [container('10.10.0.0')], 'BAD_REQUEST', 'is a network, broadcast or bridge gateway address of 10.10.0.0/24'],
    ['the mesos gateway', [container('10.10.0.1')], 'BAD_REQUEST', '(halves 10.10.0.0/25 and 10.10.0.128/25)'],
    ['the docker gateway', [container('10.10.0.129')], 'BAD_REQUEST', 'containers[0].ip: "10.10.0.129" is a network'],
    ['the broadcast address', [container('10.10.0.255')], 'BAD_REQUEST', 'containers[0].ip: "10.10.0.255" is a network'],
    ['an IPv6 gateway', [container('fd10::1', 'v6')], 'BAD_REQUEST', 'containers[0].ip: "fd10::1" is a network'],
    [
      'an ip6 on an IPv4-only overlay',
      [container('10.10.0.5', 'a', { ip6: 'fd10::5' })],
      'BAD_REQUEST',
      'containers[0].ip6: "fd10::5" is IPv6 but overlay a has no IPv6 subnet',
    ],
    [
      'the same address twice',
      [container('10.10.0.5'), container('10.10.0.5', 'a', { id: 'other' })],
      'BAD_REQUEST',
      'containers[1].ip: "10.10.0.5" is reported twice (also as containers[0].ip)',
    ],
    [
      'an unknown overlay',
      [container('10.10.0.5', 'zz')],
      'BAD_REQUEST',
      'containers[0].network: "zz" is not a configured overlay; use one of: a, b, v6',
    ],
  ])('refuses %s', (_what, containers, code, text) => {
    const r = check(containers);
    expect(r.code).toBe(code);
    expect(r.message).toContain(text);
  });

  it('refuses an address another agent reports, naming it', () => {
    const r = check([container('10.10.0.5')], { '10.10.0.5': '198.18.0.2' });
    expect(r).toMatchObject({ code: 'CONFLICT' });
    expect(r.message).toContain('containers[0].ip: "10.10.0.5" is reported by agent 198.18.0.2 too');
  });

  it('accepts CNI and Docker containers in either half, IPv6-only ones, and addresses it reported before', () => {
    const ok = [
      container('10.10.0.2'),
      container('10.10.0.126'),
      container('10.10.0.130', 'a', { runtime: 'docker', interface: '' }),
      container('fd10::2', 'v6'),
    ];
    expect(() => checkContainers(agent, { containers: ok }, parsed, (ip) => (ip === '10.10.0.2' ? agent.ip : undefined))).not.toThrow();
  });
});

describe('MasterService with these checks', () => {
  const start = () => MasterService.start(new MemoryStore(), config, { storeArgs: '--data /d' });

  it('keeps the subnets of an agent that re-registers with allocate_subnet: false (same IP, same answer)', async () => {
    const svc = await start();
    const first = await info(svc.register(reg('198.18.0.1')));
    await svc.reportContainers('198.18.0.1', { containers: [container('10.10.0.2')] });
    const again = await info(svc.register(reg('198.18.0.1', false)));
    expect(again).toEqual(first);
    // The /24 stays taken: the next agent gets the following one.
    const next = await info(svc.register(reg('198.18.0.4')));
    expect(next.overlays.find((o) => o.info.name === 'a')!.subnet).toBe('10.10.1.0/24');
    expect(svc.reads.containers().containers.map((c) => c.ip)).toEqual(['10.10.0.2']);
  });

  it('still registers an agent that holds nothing without subnets', async () => {
    const svc = await start();
    const bare = await info(svc.register(reg('198.18.0.1', false)));
    expect(bare.overlays.map((o) => o.subnet)).toEqual([undefined, undefined, undefined]);
  });

  it('refuses to register an agent inside vtep_subnet or an overlay, storing nothing', async () => {
    const svc = await start();
    await expect(svc.register(reg('44.0.0.7'))).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(svc.register(reg('10.10.9.9'))).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect(svc.agentCount).toBe(0);
  });

  it("refuses a container another agent reports, and frees the address when that agent's report drops it", async () => {
    const svc = await start();
    await svc.register(reg('198.18.0.1'));
    await svc.register(reg('198.18.0.2'));
    await svc.reportContainers('198.18.0.1', { containers: [container('10.10.0.2')] });
    // Outside 198.18.0.2's own subnet first of all.
    await expect(svc.reportContainers('198.18.0.2', { containers: [container('10.10.0.2')] })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    await svc.reportContainers('198.18.0.1', { containers: [container('10.10.0.3')] });
    expect(svc.reads.containers().containers.map((c) => c.ip)).toEqual(['10.10.0.3']);
  });
});
