import { describe, expect, it } from 'vitest';
import { checkAgentFlags, parseListen } from './options.js';

const base = { master: 'http://198.18.0.254:5050', ip: '198.18.0.1', listen: ':5051', stateDir: '/s', cniConfDir: '/c', mtu: '1420', vxlanPort: '64000', maxAttempts: '4', tickMs: '1000' };

describe('agent flags', () => {
  it('accepts good flags and splits several masters', () => {
    const r = checkAgentFlags({ ...base, master: 'http://a:1, http://b:2' });
    expect(r.errors).toEqual([]);
    expect(r.flags).toMatchObject({ masters: ['http://a:1', 'http://b:2'], listen: { host: '0.0.0.0', port: 5051 }, mtu: 1420 });
  });

  const bad = [
    { description: 'missing master', flags: { master: undefined }, text: '--master is missing' },
    { description: 'IPv6 agent ip', flags: { ip: 'fd00::1' }, text: '--ip "fd00::1" is not an IPv4 address' },
    { description: 'MTU too small', flags: { mtu: '100' }, text: '--mtu "100" is not valid: use a whole number from 552 to 9000' },
    { description: 'port not a number', flags: { vxlanPort: '4789x' }, text: '--vxlan-port "4789x" is not valid' },
    { description: 'listen without port', flags: { listen: 'localhost' }, text: '--listen "localhost" is not HOST:PORT' },
  ];
  for (const c of bad) {
    it(`refuses ${c.description}, naming the flag, value and fix`, () => {
      const r = checkAgentFlags({ ...base, ...c.flags });
      expect(r.flags).toBeUndefined();
      expect(r.errors.join('\n')).toContain(c.text);
    });
  }

  it('parses listen addresses', () => {
    expect(parseListen('127.0.0.1:5051')).toEqual({ host: '127.0.0.1', port: 5051 });
    expect(parseListen('[::1]:80')).toEqual({ host: '::1', port: 80 });
    expect(parseListen(':99999')).toBeUndefined();
  });
});
