import { describe, expect, it } from 'vitest';
import { VxnetError } from '../errors.js';
import { agentIp, parseContainers, parseDelete, parseRegister, parseSince, parseStatus } from './requests.js';

function badRequest(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(VxnetError);
    expect((e as VxnetError).code).toBe('BAD_REQUEST');
    return (e as VxnetError).message;
  }
  throw new Error('expected a BAD_REQUEST');
}

describe('parseRegister', () => {
  it('defaults every switch to true', () => {
    expect(parseRegister({ ip: '10.0.0.1' })).toEqual({
      ip: '10.0.0.1',
      networkConfig: { allocate_subnet: true, mesos_bridge: true, docker_bridge: true },
    });
    expect(parseRegister({ ip: '10.0.0.1', network_config: { docker_bridge: false } }).networkConfig.docker_bridge).toBe(false);
  });

  it.each([
    ['a bad IP', { ip: '10.0.0.256' }, 'ip: "10.0.0.256" is not an IPv4 address'],
    ['an IPv6 address', { ip: 'fd00::1' }, 'ip: "fd00::1" is not an IPv4 address'],
    ['a missing ip', {}, 'ip: undefined is not an IPv4 address'],
    ['the unspecified address', { ip: '0.0.0.0' }, 'ip: "0.0.0.0" is not a unicast host address'],
    ['a multicast address', { ip: '239.1.1.1' }, 'ip: "239.1.1.1" is not a unicast host address (multicast: 224.0.0.0/4)'],
    ['a loopback address', { ip: '127.0.0.1' }, 'ip: "127.0.0.1" is not a unicast host address (loopback: 127.0.0.0/8)'],
    ['a link-local address', { ip: '169.254.1.1' }, 'ip: "169.254.1.1" is link-local (169.254.0.0/16), which is not routed between hosts'],
    ['a "this network" address', { ip: '0.1.2.3' }, 'ip: "0.1.2.3" is not a unicast host address ("this host" addresses: 0.0.0.0/8)'],
    ['a reserved address', { ip: '240.0.0.1' }, 'ip: "240.0.0.1" is not a unicast host address (reserved and broadcast: 240.0.0.0/4)'],
    ['the broadcast address', { ip: '255.255.255.255' }, 'is not a unicast host address (reserved and broadcast: 240.0.0.0/4)'],
    ['a wrong switch type', { ip: '10.0.0.1', network_config: { mesos_bridge: 'yes' } }, 'network_config.mesos_bridge: "yes" is invalid'],
    [
      'an unknown field',
      { ip: '10.0.0.1', colour: 1 },
      'body: {"ip":"10.0.0.1","colour":1} is invalid (Unrecognized key(s) in object: \'colour\')',
    ],
    ['an array body', [1], 'body: [1] is not a JSON object'],
    ['a string body', 'hi', 'body: "hi" is not a JSON object'],
  ])('rejects %s naming field and value', (_what, body, text) => {
    expect(badRequest(() => parseRegister(body))).toContain(text);
  });
});

describe('other bodies', () => {
  it('parses a status report and rejects an unknown status', () => {
    expect(parseStatus({ overlays: [{ name: 'dcos-1', status: 'STATUS_OK' }] }).overlays).toHaveLength(1);
    expect(badRequest(() => parseStatus({ overlays: [{ name: 'dcos-1', status: 'FINE' }] }))).toContain(
      'overlays[0].status: "FINE" is invalid',
    );
  });

  it('checks container addresses', () => {
    const ok = { containers: [{ id: 'c', network: 'dcos-1', ip: '192.168.0.2', interface: 'eth0' }] };
    expect(parseContainers(ok).containers[0]!.ip).toBe('192.168.0.2');
    const bad = { containers: [{ id: 'c', network: 'dcos-1', ip: 'x', interface: 'eth0' }] };
    expect(badRequest(() => parseContainers(bad))).toContain('containers[0].ip: "x" is not an IP address');
    const v6only = { containers: [{ id: 'c', network: 'v6', ip: 'FD01:0::2', ip6: 'fd01::2', interface: 'eth0' }] };
    expect(parseContainers(v6only).containers[0]).toEqual({ id: 'c', network: 'v6', ip: 'fd01::2', ip6: 'fd01::2', interface: 'eth0' });
    const bad6 = { containers: [{ id: 'c', network: 'dcos-1', ip: '192.168.0.2', ip6: '192.168.0.3', interface: 'eth0' }] };
    expect(badRequest(() => parseContainers(bad6))).toContain('containers[0].ip6: "192.168.0.3" is not an IPv6 address');
  });

  it('names a value too deep to print instead of overflowing the stack', () => {
    let deep: unknown = [];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(badRequest(() => parseDelete({ agents: [deep] }))).toContain('agents[0]: [...] is not an IPv4 address');
  });

  it('parses delete lists, dropping duplicates', () => {
    expect(parseDelete({ agents: ['10.0.0.3', '10.0.0.3', '10.0.0.4'] })).toEqual(['10.0.0.3', '10.0.0.4']);
    expect(badRequest(() => parseDelete({ agents: ['10.0.0.3', 7] }))).toContain('agents[1]: 7 is not an IPv4 address');
    expect(badRequest(() => parseDelete({ agents: '10.0.0.3' }))).toContain('agents: "10.0.0.3" is invalid');
  });

  it('parses since and agent IPs', () => {
    expect(parseSince(undefined)).toBeUndefined();
    expect(parseSince('42')).toBe(42);
    expect(badRequest(() => parseSince('-1'))).toContain('since: "-1" is not a revision');
    expect(agentIp('10.0.0.9')).toBe('10.0.0.9');
    expect(badRequest(() => agentIp('010.0.0.9'))).toContain('"010.0.0.9"');
  });
});

describe('lookups by IP', () => {
  it('accept any IPv4 address, so agents stored before a rule tightened can still be deleted', () => {
    expect(parseDelete({ agents: ['127.0.0.1', '239.1.1.1'] })).toEqual(['127.0.0.1', '239.1.1.1']);
  });
});
