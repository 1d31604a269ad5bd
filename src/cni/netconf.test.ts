import { describe, expect, it } from 'vitest';
import { findNetwork, parseConfList, pluginStdin } from './netconf.js';

const list = JSON.stringify({
  cniVersion: '1.0.0',
  name: 'dcos-1',
  plugins: [{ type: 'bridge', bridge: 'm-dcos-1' }, { type: 'portmap' }],
});

describe('parseConfList', () => {
  it('reads a conflist', () => {
    const l = parseConfList('/x/a.conflist', list);
    expect(l).toMatchObject({ name: 'dcos-1', cniVersion: '1.0.0', file: '/x/a.conflist' });
    expect(l.plugins.map((p) => p.type)).toEqual(['bridge', 'portmap']);
  });
  it('wraps a single-plugin .conf as a one-plugin list', () => {
    const l = parseConfList('a.conf', JSON.stringify({ cniVersion: '0.4.0', name: 'n', type: 'bridge', bridge: 'b' }));
    expect(l.plugins).toEqual([{ type: 'bridge', bridge: 'b' }]);
  });
  it.each([
    ['not JSON', '{', /a\.conflist: not valid JSON/],
    ['no name', JSON.stringify({ plugins: [{ type: 'bridge' }] }), /field "name" is missing/],
    ['no plugins', JSON.stringify({ name: 'n', plugins: [] }), /"plugins" must be a non-empty list \(network n\)/],
    ['a plugin type with a path', JSON.stringify({ name: 'n', plugins: [{ type: '../bin/sh' }] }), /plugins\[0\]\.type is "\.\.\/bin\/sh"/],
  ])('rejects %s with a message naming the field', (_d, text, re) => {
    expect(() => parseConfList('a.conflist', text)).toThrow(re);
  });
});

describe('findNetwork', () => {
  const lists = [parseConfList('a', list), parseConfList('b', list.replace('dcos-1', 'dcos-2'))];
  it('finds a network by name', () => expect(findNetwork(lists, 'dcos-2', '/d').file).toBe('b'));
  it('lists the known networks when the name is unknown', () =>
    expect(() => findNetwork(lists, 'dcos-9', '/d')).toThrow('unknown network "dcos-9" in /d; known networks: dcos-1, dcos-2'));
  it('points at the agent when there are no networks at all', () => expect(() => findNetwork([], 'x', '/d')).toThrow(/vxnet agent/));
});

describe('pluginStdin', () => {
  it('carries the list name and version and the previous result', () => {
    const l = parseConfList('a', list);
    expect(JSON.parse(pluginStdin(l, l.plugins[1]!, { ips: [] }))).toEqual({
      type: 'portmap',
      name: 'dcos-1',
      cniVersion: '1.0.0',
      prevResult: { ips: [] },
    });
    expect(JSON.parse(pluginStdin(l, l.plugins[0]!))).not.toHaveProperty('prevResult');
  });
});
