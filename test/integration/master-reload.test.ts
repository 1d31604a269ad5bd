// `POST /overlay-master/network/reload` on a real master: admin only, all or
// nothing, and `vxnet network reload` reports what changed or why not.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, cleanup, runCli, startMasterProcess, tempDir, writeConfig } from './fixtures/master/master-process.js';

const base = {
  vtep_subnet: '192.15.0.0/20',
  vtep_mac_oui: '70:B3:D5:00:00:00',
  overlays: [{ name: 'dcos-1', subnet: '192.168.0.0/17', prefix: 24 }],
};
const extra = { name: 'extra', subnet: '44.128.0.0/16', prefix: 24 };
const ADMIN = 'admin-token-0123456789abcdef';
const JOIN = 'join-token-0123456789abcdefgh';

describe('master: network reload', () => {
  let dir: string;
  let config: string;
  let adminFile: string;
  let url: string;
  const admin = { authorization: `Bearer ${ADMIN}` };

  beforeAll(async () => {
    dir = await tempDir();
    config = await writeConfig(dir, 'config.json', base);
    adminFile = join(dir, 'admin');
    await writeFile(adminFile, ADMIN);
    await writeFile(join(dir, 'join'), JOIN);
    const argv = ['master', '--data', join(dir, 'data'), '--listen', '127.0.0.1:0', '--config', config];
    url = (await startMasterProcess([...argv, '--admin-token-file', adminFile, '--token-file', join(dir, 'join')])).url;
    const res = await call(url, 'POST', '/overlay-master/agents', { ip: '10.0.0.1' }, { authorization: `Bearer ${JOIN}` });
    expect(res.status).toBe(200);
  });
  afterAll(() => cleanup([dir]));

  it('needs the admin token', async () => {
    expect((await call(url, 'POST', '/overlay-master/network/reload', {})).status).toBe(401);
    expect((await call(url, 'POST', '/overlay-master/network/reload', {}, { authorization: `Bearer ${JOIN}` })).status).toBe(403);
  });

  it('re-reads the --config file and answers what changed', async () => {
    await writeConfig(dir, 'config.json', { ...base, overlays: [...base.overlays, extra] });
    const res = await call(url, 'POST', '/overlay-master/network/reload', {}, admin);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ added: ['extra'], agents: 1, summary: 'added extra; 1 agent record(s) updated' });
    const agent = await call(url, 'GET', '/overlay-master/agents/10.0.0.1');
    expect(agent.body.overlays.map((o: { subnet: string }) => o.subnet)).toEqual(['192.168.0.0/24', '44.128.0.0/24']);
  });

  it('refuses a change of a subnet in use with 409 and every refusal, changing nothing', async () => {
    const before = await call(url, 'GET', '/overlay-master/state');
    await writeConfig(dir, 'config.json', {
      ...base,
      overlays: [
        { ...base.overlays[0], prefix: 25 },
        { ...extra, subnet: '44.129.0.0/16' },
      ],
    });
    const res = await call(url, 'POST', '/overlay-master/network/reload', {}, admin);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('RECONCILE_REFUSED');
    expect(res.body.error.message).toContain('overlay dcos-1 changed');
    expect(res.body.error.message).toContain('overlay extra changed');
    expect((await call(url, 'GET', '/overlay-master/state')).body).toEqual(before.body);
  });

  it('answers an invalid config file with 400 naming the field', async () => {
    await writeConfig(dir, 'config.json', { ...base, overlays: [{ ...base.overlays[0], prefix: 12 }] });
    const res = await call(url, 'POST', '/overlay-master/network/reload', {}, admin);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('overlays[0].prefix');
  });

  it('refuses a bad force value', async () => {
    const res = await call(url, 'POST', '/overlay-master/network/reload?force=yes', {}, admin);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('force (in the query)');
  });

  it('vxnet network reload prints the summary, or the refusal with exit code 2', async () => {
    await writeConfig(dir, 'config.json', base);
    const ok = await runCli(['network', 'reload', '--master', url, '--admin-token-file', adminFile]);
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toContain('deleted extra (freed its subnets on 1 agent(s))');
    await writeConfig(dir, 'config.json', { ...base, vtep_subnet: '192.15.16.0/20' });
    const refused = await runCli(['network', 'reload', '--master', url, '--admin-token-file', adminFile]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('vxnet network reload: refused, nothing changed:');
    expect(refused.stderr).toContain('vtep_subnet changed from 192.15.0.0/20 to 192.15.16.0/20');
    const noToken = await runCli(['network', 'reload', '--master', url]);
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toContain('--admin-token-file');
  });
});
