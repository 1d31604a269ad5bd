// The seed's example against a real master process, plus idempotence.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, cleanup, type MasterProcess, runCli, startMaster, tempDir, writeConfig } from './fixtures/master/master-process.js';

const seedNetwork = {
  vtep_subnet: '198.15.0.0/20',
  vtep_mac_oui: '70:B3:D5:00:00:00',
  overlays: [{ name: 'dcos', subnet: '44.128.0.0/16', prefix: 24 }],
};
const seedAgents = ['10.10.0.120', '10.10.0.118', '10.10.0.119'];

describe('master: the seed example', () => {
  let dir: string;
  let master: MasterProcess;

  beforeAll(async () => {
    dir = await tempDir();
    master = await startMaster({ config: await writeConfig(dir, 'seed.json', seedNetwork), data: join(dir, 'data') });
  });
  afterAll(() => cleanup([dir]));

  it('reproduces the seed JSON exactly (agents without a mesos bridge, as in the seed)', async () => {
    for (const ip of seedAgents) {
      const r = await call(master.url, 'POST', '/overlay-master/agents', { ip, network_config: { mesos_bridge: false } });
      expect(r.status).toBe(200);
      const s = await call(master.url, 'PUT', `/overlay-master/agents/${ip}/status`, { overlays: [{ name: 'dcos', status: 'STATUS_OK' }] });
      expect(s.status).toBe(200);
    }
    const expected = JSON.parse(await readFile(join(import.meta.dirname, 'fixtures/master/seed-state.json'), 'utf8'));
    const state = await call(master.url, 'GET', '/overlay-master/state');
    expect(state.status).toBe(200);
    expect(state.body).toEqual(expected);
  });

  it('answers a re-registration with the identical agent info and writes nothing', async () => {
    const before = await call(master.url, 'GET', '/overlay-master/agents/10.10.0.118');
    const revision = (await call(master.url, 'GET', '/healthz')).body.revision;
    const again = await call(master.url, 'POST', '/overlay-master/agents', { ip: '10.10.0.118', network_config: { mesos_bridge: false } });
    expect(again.body).toEqual(before.body);
    expect((await call(master.url, 'GET', '/healthz')).body.revision).toBe(revision);
  });

  it('adds the mesos bridge (lower half) when the agent asks for it', async () => {
    const r = await call(master.url, 'POST', '/overlay-master/agents', { ip: '10.10.0.119' });
    expect(r.body.overlays[0].mesos_bridge).toEqual({ name: 'm-dcos', ip: '44.128.2.0/25' });
    expect(r.body.overlays[0].subnet).toBe('44.128.2.0/24');
  });

  it('gives identical values after delete and re-register', async () => {
    const before = await call(master.url, 'GET', '/overlay-master/agents/10.10.0.118');
    const del = await call(master.url, 'POST', '/overlay-master/agents/delete', { agents: ['10.10.0.118'] });
    expect(del.status).toBe(200);
    expect(del.body.agents.map((a: { ip: string }) => a.ip)).toEqual(['10.10.0.120', '10.10.0.119']);
    expect((await call(master.url, 'GET', '/overlay-master/agents/10.10.0.118')).status).toBe(404);
    const again = await call(master.url, 'POST', '/overlay-master/agents', { ip: '10.10.0.118', network_config: { mesos_bridge: false } });
    const { state: _s1, ...valuesBefore } = before.body.overlays[0];
    const { state: _s2, ...valuesAgain } = again.body.overlays[0];
    expect(valuesAgain).toEqual(valuesBefore);
    expect(again.body.overlays[0].state).toEqual({ status: 'STATUS_CONFIGURING' });
  });

  it('prints the state as tables with `vxnet state`', async () => {
    await call(master.url, 'PUT', '/overlay-master/agents/10.10.0.120/containers', {
      containers: [{ id: 'web-1', network: 'dcos', ip: '44.128.0.2', interface: 'eth0' }],
    });
    const r = await runCli(['state', '--master', master.url]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^dcos\s+44\.128\.0\.0\/16\s+24\s+3\s+253$/m);
    expect(r.stdout).toMatch(/^10\.10\.0\.120\s+198\.15\.0\.1\/20\s+70:b3:d5:0f:00:01\s+dcos\s+44\.128\.0\.0\/24\s+STATUS_OK$/m);
    expect(r.stdout).toMatch(/^10\.10\.0\.120\s+web-1\s+-\s+cni\s+dcos\s+44\.128\.0\.2\s+eth0$/m);
    // No agent reported a container engine: no ENGINES table.
    expect(r.stdout).not.toContain('ENGINES');
    const json = await runCli(['state', '--master', master.url, '--json']);
    expect(JSON.parse(json.stdout).agents).toHaveLength(3);
  });

  it('explains an unreachable master and exits 1', async () => {
    const port = await closedPort();
    const r = await runCli(['state', '--master', `http://127.0.0.1:${port}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot read the state from http://127.0.0.1:${port}/ (ECONNREFUSED)`);
  });
});

/** A loopback port nothing listens on (taken, then released). */
function closedPort(): Promise<number> {
  return new Promise((ok) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => ok(port));
    });
  });
}
