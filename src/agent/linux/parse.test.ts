import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { findUnderlay, parseFdb, parseLinks, parseNeighbours, parseRoutes } from './parse.js';

// Captured on this machine (iproute2 6.1) from a namespace holding a vxnet-like setup.
const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8'));

describe('parsing ip -j / bridge -j output', () => {
  it('reads links with kind, alias, VXLAN parameters and global addresses only', () => {
    const links = parseLinks(fixture('addr'));
    const vtep = links.find((l) => l.name === 'vtep1024');
    expect(vtep).toEqual({
      name: 'vtep1024',
      kind: 'vxlan',
      alias: 'vxnet',
      mtu: 1450,
      mac: '70:b3:d5:0f:00:01',
      up: true,
      addresses: ['192.15.0.1/20'],
      vxlan: { vni: 1024, port: 64000, local: '198.18.0.1', dev: 'vxa19420u', learning: false },
    });
    expect(links.find((l) => l.name === 'm-dcos-1')).toMatchObject({
      kind: 'bridge',
      alias: 'vxnet',
      mtu: 1420,
      addresses: ['192.168.0.1/25'],
    });
    expect(links.find((l) => l.name === 'lo')).toMatchObject({ up: false, addresses: [] });
    expect(links.find((l) => l.name === 'lo')?.alias).toBeUndefined();
  });

  it('finds the underlay interface holding the agent IP', () => {
    expect(findUnderlay(parseLinks(fixture('addr')), '198.18.0.1')).toEqual({ dev: 'vxa19420u', mtu: 1500 });
    expect(findUnderlay(parseLinks(fixture('addr')), '198.18.0.7')).toBeUndefined();
  });

  it('keeps only permanent neighbour entries on the VTEP', () => {
    expect(parseNeighbours(fixture('neigh'))).toEqual([
      { ip: '192.15.0.4', mac: '70:b3:d5:0f:00:04' },
      { ip: '192.15.0.2', mac: '70:b3:d5:0f:00:02' },
      { ip: '192.15.0.3', mac: '70:b3:d5:0f:00:03' },
    ]); // the entry on the underlay interface is not ours
  });

  it('keeps only remote FDB entries on the VTEP', () => {
    expect(parseFdb(fixture('fdb'))).toEqual([]); // captured with "dev vtep1024": no ifname field
    const all = [
      { mac: '70:b3:d5:0f:00:02', ifname: 'vtep1024', dst: '198.18.0.3', flags: ['self'], state: 'permanent' },
      { mac: '33:33:00:00:00:01', ifname: 'eth0', flags: ['self'], state: 'permanent' },
    ];
    expect(parseFdb(all)).toEqual([{ mac: '70:b3:d5:0f:00:02', dst: '198.18.0.3' }]);
  });

  it('reads gateway routes with their device and skips connected ones', () => {
    expect(parseRoutes(fixture('route4'))).toEqual([{ dst: '192.168.1.0/24', via: '192.15.0.2', dev: 'vtep1024' }]);
  });

  it('survives output that is not what it expects', () => {
    expect(parseLinks({ not: 'an array' })).toEqual([]);
    expect(parseRoutes([null, 3, { dst: 'garbage', gateway: '1.2.3.4', dev: 'x' }])).toEqual([]);
  });
});
