// Exhaustion against a real master: a full overlay fails only itself; no VTEP left is a 503.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, cleanup, type MasterProcess, startMaster, tempDir, writeConfig } from './fixtures/master/master-process.js';

describe('master: exhaustion', () => {
  let dir: string;
  let master: MasterProcess;

  beforeAll(async () => {
    dir = await tempDir();
    const config = await writeConfig(dir, 'small.json', {
      vtep_subnet: '198.15.0.0/29',
      vtep_mac_oui: '70:B3:D5:00:00:00',
      overlays: [
        { name: 'small', subnet: '44.128.0.0/23', prefix: 24 },
        { name: 'big', subnet: '44.129.0.0/16', prefix: 24 },
      ],
    });
    master = await startMaster({ config, data: join(dir, 'data') });
  });
  afterAll(() => cleanup([dir]));

  it('marks only the full overlay STATUS_FAILED for the agent that did not fit', async () => {
    for (const n of [1, 2]) expect((await call(master.url, 'POST', '/overlay-master/agents', { ip: `10.0.0.${n}` })).status).toBe(200);
    const third = await call(master.url, 'POST', '/overlay-master/agents', { ip: '10.0.0.3' });
    expect(third.status).toBe(200);
    const [small, big] = third.body.overlays;
    expect(small.state.status).toBe('STATUS_FAILED');
    // Which pool (overlay, family, range, how many held) and the fix.
    expect(small.state.error).toBe(
      'no free /24 left in overlay small (IPv4 44.128.0.0/23: 2 of 2 held by agents); delete agents that left the cluster ' +
        '(POST /overlay-master/agents/delete), or run the master with --agent-ttl so dead agents expire; a bigger subnet or a longer ' +
        'prefix takes effect only once no agent holds a subnet of small (or add another overlay)',
    );
    expect(small.subnet).toBeUndefined();
    expect(big.subnet).toBe('44.129.2.0/24');
    expect(big.state.status).toBe('STATUS_CONFIGURING');
  });

  it('fills the failed overlay on re-registration once a subnet is freed', async () => {
    await call(master.url, 'POST', '/overlay-master/agents/delete', { agents: ['10.0.0.1'] });
    const again = await call(master.url, 'POST', '/overlay-master/agents', { ip: '10.0.0.3' });
    expect(again.body.overlays[0]).toMatchObject({ subnet: '44.128.0.0/24', state: { status: 'STATUS_CONFIGURING' } });
    expect(again.body.overlays[1].subnet).toBe('44.129.2.0/24');
  });

  it('answers 503 POOL_EXHAUSTED when no VTEP address is left, reserving nothing', async () => {
    for (const n of [4, 5, 6, 7])
      expect((await call(master.url, 'POST', '/overlay-master/agents', { ip: `10.0.0.${n}` })).status).toBe(200);
    const full = await call(master.url, 'POST', '/overlay-master/agents', { ip: '10.0.0.8' });
    expect(full.status).toBe(503);
    expect(full.body.error.code).toBe('POOL_EXHAUSTED');
    expect(full.body.error.message).toBe(
      'no free VTEP address left in the IPv4 VTEP pool vtep_subnet 198.15.0.0/29 (6 of 6 held by agents); delete agents that left ' +
        'the cluster (POST /overlay-master/agents/delete), or run the master with --agent-ttl so dead agents expire; a wider ' +
        'vtep_subnet takes effect only once every agent is deleted',
    );
    const state = await call(master.url, 'GET', '/overlay-master/state');
    expect(state.body.agents).toHaveLength(6);
    expect((await call(master.url, 'GET', '/metrics')).text).toMatch(/^vxnet_registrations_refused_total 1$/m);
  });
});
