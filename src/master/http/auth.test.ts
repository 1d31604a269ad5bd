import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import type { AgentRecord } from '../../store/store.js';
import { issueCredential, matchesHash } from '../credentials.js';
import { MasterAuth, sanIps } from './auth.js';
import { hostGuard, hostName } from './host-guard.js';

const JOIN = 'join-token-0123456789';
const ADMIN = 'admin-token-0123456789';
const request = (authorization?: string, socket: object = {}) =>
  ({ headers: authorization === undefined ? {} : { authorization }, raw: { socket } }) as unknown as FastifyRequest;
const certSocket = (san: string, authorized = true) => ({
  encrypted: true,
  authorized,
  getPeerCertificate: () => ({ subjectaltname: san }),
});
const record = (credential?: string) => ({ ip: '10.0.0.1', ...(credential && { credential }) }) as AgentRecord;
const code = (f: () => void): string | undefined => {
  try {
    f();
    return undefined;
  } catch (e) {
    return (e as { code: string }).code;
  }
};

describe('MasterAuth', () => {
  const auth = new MasterAuth({ joinToken: JOIN, adminToken: ADMIN, clientCerts: true });
  const cred = issueCredential();
  const other = issueCredential();

  it.each([
    ['the join token, for an IP without credential', `Bearer ${JOIN}`, {}, undefined, undefined],
    ['the join token, for an IP with a credential', `Bearer ${JOIN}`, {}, cred.hash, 'FORBIDDEN'],
    ['its credential (rotation)', `Bearer ${cred.secret}`, {}, cred.hash, undefined],
    ["another agent's credential", `Bearer ${other.secret}`, {}, cred.hash, 'FORBIDDEN'],
    ['the admin token (reset)', `Bearer ${ADMIN}`, {}, cred.hash, undefined],
    ['nothing', undefined, {}, cred.hash, 'UNAUTHORIZED'],
    ['a certificate for the IP', undefined, certSocket('IP Address:10.0.0.1'), cred.hash, undefined],
    ['a certificate for another IP', undefined, certSocket('DNS:x, IP Address:10.0.0.2'), undefined, 'FORBIDDEN'],
    ['an unverified certificate for the IP', undefined, certSocket('IP Address:10.0.0.1', false), undefined, 'UNAUTHORIZED'],
  ])('registration with %s', (_what, authorization, socket, held, expected) => {
    const access = auth.registration(auth.callerOf(request(authorization, socket)))!;
    expect(code(() => access.check('10.0.0.1', held === undefined ? undefined : record(held)))).toBe(expected);
  });

  it('lets only the agent itself write for it, and only the admin token delete', () => {
    const write = (authorization: string) => auth.agentWrite(auth.callerOf(request(authorization)))!;
    expect(code(() => write(`Bearer ${cred.secret}`).check('10.0.0.1', record(cred.hash)))).toBeUndefined();
    expect(code(() => write(`Bearer ${other.secret}`).check('10.0.0.1', record(cred.hash)))).toBe('FORBIDDEN');
    expect(code(() => write(`Bearer ${JOIN}`).check('10.0.0.1', record(cred.hash)))).toBe('FORBIDDEN');
    expect(code(() => write(`Bearer ${ADMIN}`).check('10.0.0.1', record(cred.hash)))).toBe('FORBIDDEN');
    expect(code(() => auth.requireAdmin(auth.callerOf(request(`Bearer ${ADMIN}`))))).toBeUndefined();
    expect(code(() => auth.requireAdmin(auth.callerOf(request(`Bearer ${JOIN}`))))).toBe('FORBIDDEN');
    expect(code(() => auth.requireAdmin(auth.callerOf(request())))).toBe('UNAUTHORIZED');
  });

  it('is open, with no checks, when nothing is configured', () => {
    const open = new MasterAuth({});
    expect(open.open).toBe(true);
    expect(open.registration(open.callerOf(request()))).toBeUndefined();
    expect(code(() => open.requireAdmin(open.callerOf(request())))).toBeUndefined();
  });
});

describe('credentials', () => {
  it('match only their own secret, and a malformed hash matches nothing', () => {
    const c = issueCredential();
    expect(matchesHash(c.secret, c.hash)).toBe(true);
    expect(matchesHash(`${c.secret}x`, c.hash)).toBe(false);
    expect(matchesHash(c.secret, 'abc')).toBe(false);
  });

  it('reads IPv4 SANs only', () => {
    expect(sanIps('DNS:a.example, IP Address:10.0.0.1, IP Address:FD00:0:0:0:0:0:0:1')).toEqual(['10.0.0.1']);
    expect(sanIps(undefined)).toEqual([]);
  });
});

describe('hostGuard', () => {
  it.each([
    ['127.0.0.1:5050', true],
    ['localhost', true],
    ['[::1]:5050', true],
    ['app.localhost:80', true],
    ['10.0.0.9:5050', true],
    ['Master.Example.:5050', true],
    ['evil.example:5050', false],
    ['10.0.0.10', false],
  ])('Host %s allowed: %s', (host, allowed) => {
    const check = hostGuard('10.0.0.9', ['master.example']);
    expect(code(() => check(host))).toBe(allowed ? undefined : 'FORBIDDEN');
  });

  it('reads names without port, brackets or trailing dot', () => {
    expect(hostName('[FD00::1]:80')).toBe('fd00::1');
    expect(hostName('fd00::1')).toBe('fd00::1');
    expect(hostName('A.example.:1')).toBe('a.example');
  });
});
