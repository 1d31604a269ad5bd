import { describe, expect, it } from 'vitest';
import { containerIps, parseResult, pluginErrorMessage } from './result.js';

describe('CNI results', () => {
  it('picks the container interface addresses without prefix length', () => {
    const r = parseResult(
      JSON.stringify({
        interfaces: [{ name: 'm-dcos-1' }, { name: 'veth1' }, { name: 'eth0', sandbox: '/run/netns/a' }],
        ips: [
          { address: 'fd01::5/64', interface: 2 },
          { address: '192.168.0.5/25', gateway: '192.168.0.1', interface: 2 },
          { address: '10.9.9.9/24', interface: 0 },
        ],
      }),
    );
    expect(containerIps(r, 'eth0')).toEqual({ ip: '192.168.0.5', ip6: 'fd01::5' });
  });
  it('treats an empty DEL output as an empty result', () => expect(parseResult('  \n')).toEqual({}));
  it('shows the plugin error message and details', () => {
    expect(
      pluginErrorMessage(JSON.stringify({ code: 999, msg: 'failed to allocate for range 0', details: 'no IP addresses available' }), ''),
    ).toBe('failed to allocate for range 0: no IP addresses available');
    expect(pluginErrorMessage('garbage', 'line1\nboom')).toBe('line1\nboom');
  });
});
