import { describe, expect, it } from 'vitest';
import { createBody, parseDockerHost, toObserved } from './engine.js';

describe('parseDockerHost', () => {
  it('takes unix:///path and tcp://host:port', () => {
    expect(parseDockerHost('unix:///run/docker.sock')).toEqual({ kind: 'unix', path: '/run/docker.sock', url: 'unix:///run/docker.sock' });
    expect(parseDockerHost('tcp://127.0.0.1:2375')).toMatchObject({ kind: 'tcp', origin: 'http://127.0.0.1:2375' });
  });
  for (const bad of ['unix://relative.sock', 'http://x:1', 'tcp://x', '/var/run/docker.sock', 'tcp://h:99999']) {
    it(`refuses ${bad}, saying what it should be`, () => {
      expect(parseDockerHost(bad)).toMatch(/is (not unix:\/\/\/absolute\/path|neither unix:\/\/\/path nor tcp:\/\/host:port)/);
    });
  }
});

describe('engine shapes', () => {
  it("creates a bridge network on d-<name>, no masquerade, the MTU and vxnet's label", () => {
    expect(
      createBody({ name: 'dcos', bridge: 'd-dcos', ranges: [{ subnet: '44.128.0.128/25', gateway: '44.128.0.129' }], mtu: 1420 }),
    ).toEqual({
      Name: 'dcos',
      CheckDuplicate: true,
      Driver: 'bridge',
      EnableIPv6: false,
      IPAM: { Driver: 'default', Config: [{ Subnet: '44.128.0.128/25', Gateway: '44.128.0.129' }] },
      Options: {
        'com.docker.network.bridge.name': 'd-dcos',
        'com.docker.network.bridge.enable_ip_masquerade': 'false',
        'com.docker.network.driver.mtu': '1420',
      },
      Labels: { 'io.vxnet.overlay': 'dcos' },
    });
  });

  it("reads an inspected network, with its containers' addresses without length", () => {
    const id = 'c'.repeat(64);
    expect(
      toObserved({
        Id: 'n1',
        Name: 'dcos',
        Driver: 'bridge',
        Options: null,
        Labels: null,
        IPAM: { Config: [{ Subnet: '44.128.0.128/25', Gateway: '44.128.0.129' }] },
        Containers: { [id]: { Name: 'web', IPv4Address: '44.128.0.130/25', IPv6Address: '' }, 'ep-x': { Name: 'remote' } },
      }),
    ).toEqual({
      id: 'n1',
      name: 'dcos',
      driver: 'bridge',
      options: {},
      labels: {},
      ranges: [{ subnet: '44.128.0.128/25', gateway: '44.128.0.129' }],
      containers: [{ id, name: 'web', ip: '44.128.0.130' }],
    });
  });
});
