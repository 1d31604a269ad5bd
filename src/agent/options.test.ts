import { describe, expect, it } from 'vitest';
import { checkAgentFlags, checkCniBinDir, checkIpOnHost } from './options.js';

const base = {
  master: 'http://198.18.0.254:5050',
  ip: '198.18.0.1',
  listen: ':5051',
  stateDir: '/s',
  cniConfDir: '/c',
  mtu: '1420',
  vxlanPort: '64000',
  maxAttempts: '4',
  tickMs: '1000',
};

describe('agent flags', () => {
  it('accepts good flags and splits several masters', () => {
    const r = checkAgentFlags({ ...base, master: 'http://a:1, http://b:2' });
    expect(r.errors).toEqual([]);
    expect(r.flags).toMatchObject({ masters: ['http://a:1', 'http://b:2'], listen: { host: '0.0.0.0', port: 5051 }, mtu: 1420 });
  });

  const bad = [
    { description: 'missing master', flags: { master: undefined }, text: '--master is missing' },
    { description: 'IPv6 agent ip', flags: { ip: 'fd00::1' }, text: '--ip "fd00::1" is not an IPv4 address' },
    { description: 'MTU too small', flags: { mtu: '100' }, text: '--mtu "100" is not valid: use auto (' },
    { description: 'MTU neither auto nor a number', flags: { mtu: 'jumbo' }, text: 'or a whole number from 552 to 9000' },
    { description: 'port not a number', flags: { vxlanPort: '4789x' }, text: '--vxlan-port "4789x" is not valid' },
    { description: 'a full re-read more often than every second', flags: { resyncMs: '10' }, text: '--resync-ms "10" is not valid' },
    { description: 'listen without port', flags: { listen: 'localhost' }, text: '--listen "localhost" is not HOST:PORT' },
  ];
  for (const c of bad) {
    it(`refuses ${c.description}, naming the flag, value and fix`, () => {
      const r = checkAgentFlags({ ...base, ...c.flags });
      expect(r.flags).toBeUndefined();
      expect(r.errors.join('\n')).toContain(c.text);
    });
  }

  it('takes --mtu auto (any case) or a number', () => {
    expect(checkAgentFlags({ ...base, mtu: 'auto' }).flags?.mtu).toBe('auto');
    expect(checkAgentFlags({ ...base, mtu: 'AUTO' }).flags?.mtu).toBe('auto');
    expect(checkAgentFlags({ ...base, mtu: '8950' }).flags?.mtu).toBe(8950);
  });

  it('reads --listen as the master does', () => {
    expect(checkAgentFlags({ ...base, listen: '127.0.0.1:5051' }).flags?.listen).toEqual({ host: '127.0.0.1', port: 5051 });
    expect(checkAgentFlags({ ...base, listen: '[::1]:80' }).flags?.listen).toEqual({ host: '::1', port: 80 });
    expect(checkAgentFlags({ ...base, listen: ':99999' }).errors).toEqual([
      '--listen ":99999" is not HOST:PORT: use e.g. :5051 or 127.0.0.1:5051',
    ]);
  });
});

describe('--cni-bin-dir', () => {
  it('accepts a directory holding every plugin the conflists use', () => {
    expect(
      checkCniBinDir('/usr/lib/cni/', (p) => ['/usr/lib/cni/bridge', '/usr/lib/cni/host-local', '/usr/lib/cni/portmap'].includes(p)),
    ).toEqual([]);
  });
  it('names the directory and each missing plugin, and the fix', () => {
    const [e] = checkCniBinDir('/opt/cni', (p) => p === '/opt/cni/bridge');
    expect(e).toContain('--cni-bin-dir "/opt/cni" lacks the CNI plugin(s) host-local, portmap');
    expect(e).toContain('apt-get install containernetworking-plugins');
  });
});

describe('--ip on this host', () => {
  const addrs = JSON.stringify([
    { ifname: 'lo', addr_info: [{ local: '127.0.0.1' }] },
    { ifname: 'ul0', addr_info: [{ local: '198.18.0.1' }] },
  ]);
  it('accepts an address of one of the interfaces', () => {
    expect(checkIpOnHost('198.18.0.1', addrs)).toEqual([]);
  });
  it("refuses another address, listing the host's addresses", () => {
    const [e] = checkIpOnHost('10.99.0.1', addrs);
    expect(e).toContain('--ip "10.99.0.1" is not an address of this host (it has 198.18.0.1)');
  });
  it('says so when the host has only loopback', () => {
    expect(checkIpOnHost('198.18.0.1', JSON.stringify([{ ifname: 'lo', addr_info: [{ local: '127.0.0.1' }] }]))[0]).toContain(
      'no IPv4 address besides loopback',
    );
  });
});
