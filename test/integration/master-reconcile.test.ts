// Restarting a real master over a store that contradicts the new config.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, cleanup, runCli, startMaster, tempDir, writeConfig } from './fixtures/master/master-process.js';

const base = {
  vtep_subnet: '192.15.0.0/20',
  vtep_mac_oui: '70:B3:D5:00:00:00',
  overlays: [
    { name: 'dcos-1', subnet: '192.168.0.0/17', prefix: 24 },
    { name: 'dcos-2', subnet: '192.168.128.0/17', prefix: 24 },
  ],
};

describe('master: reconciliation on restart', () => {
  let dir: string;
  let data: string;

  beforeAll(async () => {
    dir = await tempDir();
    data = join(dir, 'data');
    const master = await startMaster({ config: await writeConfig(dir, 'base.json', base), data });
    for (const ip of ['10.0.0.1', '10.0.0.2']) await call(master.url, 'POST', '/overlay-master/agents', { ip });
    // A container on dcos-2: removing dcos-2 from the config is then refused, as a reload without --force would.
    const report = {
      containers: [{ id: 'c0ffee', name: 'web', network: 'dcos-2', ip: '192.168.128.2', interface: 'eth0', runtime: 'cni' }],
    };
    expect((await call(master.url, 'PUT', '/overlay-master/agents/10.0.0.1/containers', report)).status).toBe(200);
    expect(await master.stop()).toBe(0);
  });
  afterAll(() => cleanup([dir]));

  const refuse = async (name: string, config: unknown) => {
    const r = await runCli(['master', '--config', await writeConfig(dir, name, config), '--data', data, '--listen', '127.0.0.1:0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`refusing to start: the store in ${data} contradicts the config`);
    return r.stderr;
  };

  it('refuses a removed overlay while a container is attached, listing it and the fixes', async () => {
    const text = await refuse('removed.json', { ...base, overlays: [base.overlays[0]] });
    expect(text).toContain('overlay dcos-2 is not in the config but 1 container(s) are still attached to it');
    expect(text).toContain('web (c0ffee) 192.168.128.2 on agent 10.0.0.1');
    expect(text).toContain('put dcos-2 back in the config (subnet: 192.168.128.0/17, prefix: 24)');
    expect(text).toContain(`vxnet network delete dcos-2 --data ${data}`);
  });

  it('refuses a changed prefix showing old and new', async () => {
    const text = await refuse('prefix.json', { ...base, overlays: [{ ...base.overlays[0], prefix: 25 }, base.overlays[1]] });
    expect(text).toContain('overlay dcos-1 changed: old subnet: 192.168.0.0/17, prefix: 24; new subnet: 192.168.0.0/17, prefix: 25');
  });

  it('refuses a changed subnet showing old and new', async () => {
    const text = await refuse('subnet.json', { ...base, overlays: [base.overlays[0], { ...base.overlays[1], subnet: '10.128.0.0/17' }] });
    expect(text).toContain('overlay dcos-2 changed: old subnet: 192.168.128.0/17, prefix: 24; new subnet: 10.128.0.0/17, prefix: 24');
  });

  it('refuses a changed vtep_subnet and OUI showing old and new', async () => {
    expect(await refuse('vtep.json', { ...base, vtep_subnet: '192.15.16.0/20' })).toContain(
      'vtep_subnet changed from 192.15.0.0/20 to 192.15.16.0/20',
    );
    expect(await refuse('oui.json', { ...base, vtep_mac_oui: '70:B3:D6:00:00:00' })).toContain(
      'vtep_mac_oui changed from 70:b3:d5:00:00:00 to 70:b3:d6:00:00:00',
    );
  });

  it('exits 1 with the formatted issues for an invalid config', async () => {
    const r = await runCli([
      'master',
      '--config',
      await writeConfig(dir, 'bad.json', { ...base, overlays: [{ name: 'dcos-1', subnet: '192.168.0.0/17', prefix: 12 }] }),
      '--data',
      data,
      '--listen',
      '127.0.0.1:0',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('overlays[0].prefix');
  });

  it('lets `vxnet network delete` free the overlay (refusing while a master runs) so the restart succeeds', async () => {
    const running = await startMaster({ config: await writeConfig(dir, 'base.json', base), data });
    const busy = await runCli(['network', 'delete', 'dcos-2', '--data', data]);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(/another vxnet master \(pid \d+\) is using/);
    expect(await running.stop()).toBe(0);

    // With the master's config, it refuses while that config still lists the overlay, deleting nothing.
    const baseFile = await writeConfig(dir, 'base-again.json', base);
    const listed = await runCli(['network', 'delete', 'dcos-2', '--data', data, '--config', baseFile]);
    expect(listed.code).toBe(1);
    expect(listed.stderr).toContain(`overlay dcos-2 is still in --config ${baseFile}`);
    expect(listed.stderr).toContain('nothing was deleted');

    const del = await runCli(['network', 'delete', 'dcos-2', '--data', data]);
    expect(del.code).toBe(0);
    expect(del.stderr).toBe('');
    expect(del.stdout).toContain("next: if the master's --config still lists overlay dcos-2");
    expect(del.stdout).toContain('deleted overlay dcos-2');
    expect(del.stdout).toContain('freed its subnets on 2 agent(s) and removed it from the stored config');

    const master = await startMaster({ config: await writeConfig(dir, 'removed.json', { ...base, overlays: [base.overlays[0]] }), data });
    const state = await call(master.url, 'GET', '/overlay-master/state');
    expect(state.body.network.overlays.map((o: { name: string }) => o.name)).toEqual(['dcos-1']);
    expect(state.body.agents.map((a: { overlays: { subnet: string }[] }) => a.overlays.map((o) => o.subnet))).toEqual([
      ['192.168.0.0/24'],
      ['192.168.1.0/24'],
    ]);
    expect(await master.stop()).toBe(0);

    const unknown = await runCli(['network', 'delete', 'dcos-2', '--data', data]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('overlay "dcos-2" is not in the store');
  });

  it('accepts an added overlay and gives existing agents a subnet in it', async () => {
    const added = { ...base, overlays: [base.overlays[0], { name: 'dcos-3', subnet: '44.128.0.0/16', prefix: 24 }] };
    const master = await startMaster({ config: await writeConfig(dir, 'added.json', added), data });
    const agent = await call(master.url, 'GET', '/overlay-master/agents/10.0.0.2');
    expect(agent.body.overlays.map((o: { info: { name: string }; subnet: string }) => [o.info.name, o.subnet])).toEqual([
      ['dcos-1', '192.168.1.0/24'],
      ['dcos-3', '44.128.1.0/24'],
    ]);
    expect(await master.stop()).toBe(0);
  });
});
