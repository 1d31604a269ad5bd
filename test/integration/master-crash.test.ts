// SIGKILL a real master in the middle of a registration storm: every
// registration it acknowledged must survive the restart, with no duplicates.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { call, cleanup, startMaster, tempDir, writeConfig } from './fixtures/master/master-process.js';

describe('master: crash safety', () => {
  const dirs: string[] = [];
  afterAll(() => cleanup(dirs));

  it('keeps every acknowledged allocation after SIGKILL during a storm', async () => {
    const dir = await tempDir();
    dirs.push(dir);
    const config = await writeConfig(dir, 'wide.json', {
      vtep_subnet: '198.16.0.0/16',
      vtep_mac_oui: '70:B3:D5:00:00:00',
      overlays: [{ name: 'wide', subnet: '10.0.0.0/8', prefix: 24 }],
    });
    const data = join(dir, 'data');
    const master = await startMaster({ config, data });
    const acked = new Map<string, unknown>();
    let next = 0;
    let stop = false;
    const client = async () => {
      while (!stop) {
        const n = next++;
        const ip = `172.16.${n >> 8}.${n & 255}`;
        try {
          const r = await call(master.url, 'POST', '/overlay-master/agents', { ip });
          if (r.status === 200) acked.set(ip, r.body);
        } catch {
          return; // the master is gone
        }
      }
    };
    const clients = Array.from({ length: 16 }, client);
    while (acked.size < 300) await new Promise((ok) => setTimeout(ok, 10));
    await master.kill();
    stop = true;
    await Promise.all(clients);
    expect(acked.size).toBeGreaterThanOrEqual(300);

    const again = await startMaster({ config, data });
    const state = await call(again.url, 'GET', '/overlay-master/state');
    const byIp = new Map(state.body.agents.map((a: { ip: string }) => [a.ip, a]));
    for (const [ip, body] of acked) expect(byIp.get(ip), ip).toEqual(body);
    const subnets = state.body.agents.map((a: { overlays: { subnet: string }[] }) => a.overlays[0]!.subnet);
    const vteps = state.body.agents.map(
      (a: { overlays: { backend: { vxlan: { vtep_ip: string } } }[] }) => a.overlays[0]!.backend.vxlan.vtep_ip,
    );
    expect(new Set(subnets).size).toBe(subnets.length);
    expect(new Set(vteps).size).toBe(vteps.length);
    // New registrations after the restart do not reuse anything recovered.
    const fresh = await call(again.url, 'POST', '/overlay-master/agents', { ip: '192.168.77.1' });
    expect(subnets).not.toContain(fresh.body.overlays[0].subnet);
    expect(await again.stop()).toBe(0);
  });
});
