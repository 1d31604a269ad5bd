// HTTPS and client certificates against a real master process, with
// certificates made at test time by the openssl CLI in a temp dir: a test CA,
// a server certificate for 127.0.0.1, client certificates with IP SANs, and
// a second CA the master does not know.
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MasterClient } from '../../src/agent/master-client.js';
import { cleanup, type MasterProcess, startMasterProcess, tempDir } from './fixtures/master/master-process.js';

const run = promisify(execFile);
const STATUS = { overlays: [{ name: 'dcos-1', status: 'STATUS_OK' as const }] };
const JOIN = 'join-token-0123456789abcdef';

let dir: string;
const file = (name: string) => join(dir, name);
const pem = (name: string) => readFile(file(name));

async function makeCa(name: string): Promise<void> {
  await run(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'].concat([
      '-keyout',
      file(`${name}.key`),
      '-out',
      file(`${name}.pem`),
      '-days',
      '2',
      '-subj',
      `/CN=vxnet test ${name}`,
    ]),
  );
}

/** A certificate signed by `ca` with the given extensions (e.g. subjectAltName=IP:10.0.0.1). */
async function makeCert(name: string, ca: string, extensions: string[]): Promise<void> {
  await writeFile(file(`${name}.ext`), `${extensions.join('\n')}\n`);
  await run(
    'openssl',
    ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'].concat([
      '-keyout',
      file(`${name}.key`),
      '-out',
      file(`${name}.csr`),
      '-subj',
      `/CN=${name}`,
    ]),
  );
  await run(
    'openssl',
    ['x509', '-req', '-in', file(`${name}.csr`), '-CA', file(`${ca}.pem`), '-CAkey', file(`${ca}.key`)].concat([
      '-set_serial',
      String(Date.now()),
      '-days',
      '2',
      '-out',
      file(`${name}.pem`),
      '-extfile',
      file(`${name}.ext`),
    ]),
  );
}

const never = new AbortController().signal;
const stopAfterFirstFailure = () => {
  const c = new AbortController();
  return { signal: c.signal, log: () => c.abort() };
};

beforeAll(async () => {
  dir = await tempDir('vxnet-tls-');
  await makeCa('ca');
  await makeCa('other-ca');
  await makeCert('server', 'ca', ['subjectAltName=IP:127.0.0.1', 'extendedKeyUsage=serverAuth']);
  await makeCert('agent1', 'ca', ['subjectAltName=IP:10.0.0.1', 'extendedKeyUsage=clientAuth']);
  await makeCert('agent2', 'ca', ['subjectAltName=IP:10.0.0.2', 'extendedKeyUsage=clientAuth']);
  await makeCert('stranger', 'other-ca', ['subjectAltName=IP:10.0.0.1', 'extendedKeyUsage=clientAuth']);
  await writeFile(file('join'), `${JOIN}\n`);
}, 60_000);
afterAll(() => cleanup([dir]));

describe('HTTPS with tokens', () => {
  let master: MasterProcess;
  beforeAll(async () => {
    master = await startMasterProcess(
      ['master', '--data', file('data1'), '--listen', '127.0.0.1:0', '--token-file', file('join')].concat([
        '--tls-cert',
        file('server.pem'),
        '--tls-key',
        file('server.key'),
      ]),
    );
  });
  afterAll(async () => {
    await master.stop();
  });

  it('serves HTTPS that an agent with --ca verifies', async () => {
    expect(master.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const client = new MasterClient({ urls: [master.url], token: JOIN, tls: { ca: await pem('ca.pem') } });
    const info = await client.register({ ip: '10.0.0.5' }, never);
    expect(info?.ip).toBe('10.0.0.5');
    await client.putStatus('10.0.0.5', STATUS);
  });

  it('is refused by an agent that trusts another CA', async () => {
    const client = new MasterClient({ urls: [master.url], token: JOIN, tls: { ca: await pem('other-ca.pem') } });
    // Node names why: the master's certificate is not signed by the CA the agent trusts.
    await expect(client.putStatus('10.0.0.5', STATUS)).rejects.toThrow(/failed: (unable to verify|self-signed certificate)/);
    const { signal, log } = stopAfterFirstFailure();
    const untrusting = new MasterClient({ urls: [master.url], token: JOIN, tls: { ca: await pem('other-ca.pem') }, log });
    expect(await untrusting.register({ ip: '10.0.0.6' }, signal)).toBeUndefined();
  });
});

describe('mTLS: a client certificate speaks for the IP in its SAN', () => {
  let master: MasterProcess;
  beforeAll(async () => {
    master = await startMasterProcess(
      ['master', '--data', file('data2'), '--listen', '127.0.0.1:0'].concat([
        '--tls-cert',
        file('server.pem'),
        '--tls-key',
        file('server.key'),
        '--tls-client-ca',
        file('ca.pem'),
      ]),
    );
  });
  afterAll(async () => {
    await master.stop();
  });

  const withCert = async (name: string, log?: (m: string) => void) =>
    new MasterClient({
      urls: [master.url],
      tls: { ca: await pem('ca.pem'), cert: await pem(`${name}.pem`), key: await pem(`${name}.key`) },
      ...(log && { log }),
    });

  it('lets the certificate for 10.0.0.1 register and write for 10.0.0.1, and not for 10.0.0.2', async () => {
    const one = await withCert('agent1');
    expect((await one.register({ ip: '10.0.0.1' }, never))?.ip).toBe('10.0.0.1');
    await one.putStatus('10.0.0.1', STATUS);
    await one.putContainers('10.0.0.1', { containers: [] });

    const two = await withCert('agent2');
    expect((await two.register({ ip: '10.0.0.2' }, never))?.ip).toBe('10.0.0.2');
    await expect(one.putStatus('10.0.0.2', STATUS)).rejects.toThrow(/answered 403/);
    await expect(one.putContainers('10.0.0.2', { containers: [] })).rejects.toThrow(/answered 403/);
    const { signal, log } = stopAfterFirstFailure();
    expect(await (await withCert('agent1', log)).register({ ip: '10.0.0.2' }, signal)).toBeUndefined();
  });

  it('gives no rights to a certificate from an unknown CA, nor to no certificate', async () => {
    const stranger = await withCert('stranger');
    await expect(stranger.putStatus('10.0.0.1', STATUS)).rejects.toThrow(/answered 401/);
    const plain = new MasterClient({ urls: [master.url], tls: { ca: await pem('ca.pem') } });
    await expect(plain.putStatus('10.0.0.1', STATUS)).rejects.toThrow(/answered 401/);
  });
});
