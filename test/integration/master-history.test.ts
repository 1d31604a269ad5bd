// Allocation history, utilisation and pool threshold events against a real
// master process: "which host had 44.128.0.0/24, and when" after register,
// delete and re-register (over HTTP and with `vxnet history`, across a
// restart), utilisation numbers and gauges, `pool` events at 80/90/100 %.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryAnswer, PoolEvent, UtilisationView } from '../../src/api/types.js';
import { call, cleanup, type MasterProcess, runCli, startMaster, tempDir, writeConfig } from './fixtures/master/master-process.js';

const register = async (url: string, ip: string) => {
  const r = await call(url, 'POST', '/overlay-master/agents', { ip });
  expect(r.status, r.text).toBe(200);
  return r.body as { overlays: { subnet?: string; state: { status: string; error?: string } }[] };
};
const remove = async (url: string, ip: string) =>
  expect((await call(url, 'POST', '/overlay-master/agents/delete', { agents: [ip] })).status).toBe(200);

/** Follows the watch stream and collects its `pool` events. */
function poolEvents(url: string): { events: PoolEvent[]; stop: () => void; opened: Promise<void> } {
  const controller = new AbortController();
  const events: PoolEvent[] = [];
  let opened!: () => void;
  const ready = new Promise<void>((ok) => (opened = ok));
  void (async () => {
    const res = await fetch(`${url}/overlay-master/watch`, { signal: controller.signal });
    opened();
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (/^event: pool$/m.test(frame)) events.push(JSON.parse(/^data: (.*)$/m.exec(frame)![1]!) as PoolEvent);
        end = buffer.indexOf('\n\n');
      }
    }
  })().catch(() => undefined);
  return { events, stop: () => controller.abort(), opened: ready };
}

describe('master: allocation history, utilisation and pool events', () => {
  let dir: string;
  let data: string;
  let config: string;
  let master: MasterProcess;

  beforeAll(async () => {
    dir = await tempDir('vxnet-history-');
    data = join(dir, 'data');
    config = await writeConfig(dir, 'config.json', {
      vtep_subnet: '198.15.0.0/27', // 30 VTEP addresses
      vtep_mac_oui: '70:B3:D5:00:00:00',
      overlays: [{ name: 'small', subnet: '44.128.0.0/20', prefix: 24 }], // 16 agent subnets
    });
    master = await startMaster({ config, data });
  });
  afterAll(() => cleanup([dir]));

  it('answers which host had a subnet, and when, after register, delete and re-register; also after a restart', async () => {
    expect((await register(master.url, '10.0.0.1')).overlays[0]!.subnet).toBe('44.128.0.0/24');
    await remove(master.url, '10.0.0.1');
    // Lowest free first: the next agent gets the same subnet; the first one, back, another.
    expect((await register(master.url, '10.0.0.2')).overlays[0]!.subnet).toBe('44.128.0.0/24');
    expect((await register(master.url, '10.0.0.1')).overlays[0]!.subnet).toBe('44.128.1.0/24');

    const who = async (query: string) => {
      const r = await call<HistoryAnswer>(master.url, 'GET', `/overlay-master/history?${query}`);
      expect(r.status, r.text).toBe(200);
      return r.body.events.map((e) => `${e.kind} ${e.agent} ${e.overlay ?? 'vtep'} ${e.subnet ?? e.vtepIp}`);
    };
    expect(await who('subnet=44.128.0.0/24')).toEqual([
      'allocated 10.0.0.1 small 44.128.0.0/24',
      'freed 10.0.0.1 small 44.128.0.0/24',
      'allocated 10.0.0.2 small 44.128.0.0/24',
    ]);
    // A block inside it, and one containing it, find the same; an address of the VTEP pool finds VTEP events.
    expect(await who('subnet=44.128.0.77')).toHaveLength(3);
    expect(await who('subnet=44.128.0.0%2F16')).toHaveLength(4);
    expect(await who('agent=10.0.0.1')).toEqual([
      'allocated 10.0.0.1 vtep 198.15.0.1',
      'allocated 10.0.0.1 small 44.128.0.0/24',
      'freed 10.0.0.1 vtep 198.15.0.1',
      'freed 10.0.0.1 small 44.128.0.0/24',
      'allocated 10.0.0.1 vtep 198.15.0.2',
      'allocated 10.0.0.1 small 44.128.1.0/24',
    ]);
    const all = await call<HistoryAnswer>(master.url, 'GET', '/overlay-master/history?limit=2');
    expect(all.body.more).toBe(true);
    expect(all.body.events).toHaveLength(2);
    const times = (await call<HistoryAnswer>(master.url, 'GET', '/overlay-master/history')).body.events.map((e) => Date.parse(e.at));
    expect(times.every((t, i) => i === 0 || t >= times[i - 1]!)).toBe(true);

    // Bad parameters: 400 naming the parameter, the value and the fix.
    const bad = await call(master.url, 'GET', '/overlay-master/history?limit=0');
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('query parameter limit=\\"0\\" is not a whole number from 1 to 10000');
    const since = await call(master.url, 'GET', '/overlay-master/history?since=yesterday');
    expect([since.status, since.text.includes('give an ISO-8601 time')]).toEqual([400, true]);

    // The CLI, as an operator asks it.
    const cli = await runCli(['history', '--subnet', '44.128.0.0/24', '--master', master.url]);
    expect(cli.code, cli.stderr).toBe(0);
    const rows = cli.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^TIME\s+EVENT\s+AGENT\s+EPOCH\s+OVERLAY\s+BLOCK$/);
    expect(rows.slice(1).map((r) => r.split(/\s+/).slice(1, 3).join(' '))).toEqual([
      'allocated 10.0.0.1',
      'freed 10.0.0.1',
      'allocated 10.0.0.2',
    ]);
    const wrong = await runCli(['history', '--since', 'last tuesday', '--master', master.url]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('--since "last tuesday" is no time');

    // The history is durable: a restarted master answers the same.
    expect(await master.stop()).toBe(0);
    master = await startMaster({ config, data });
    expect(await who('subnet=44.128.0.0/24')).toHaveLength(3);
  });

  it('serves utilisation per overlay and agent, as JSON, gauges and in `vxnet state`', async () => {
    const containers = [
      { id: 'c1', network: 'small', ip: '44.128.0.2', interface: 'eth0' },
      { id: 'd1', network: 'small', ip: '44.128.0.130', interface: 'eth0', runtime: 'docker' },
    ];
    expect((await call(master.url, 'PUT', '/overlay-master/agents/10.0.0.2/containers', { containers })).status).toBe(200);
    const u = (await call<UtilisationView>(master.url, 'GET', '/overlay-master/utilisation')).body;
    expect(u.vtep).toEqual([{ family: 4, cidr: '198.15.0.0/27', used: 2, free: 28, total: 30, percent: 6.7 }]);
    const small = u.overlays[0]!.families[0]!;
    expect(small.subnets).toEqual({ used: 2, free: 14, total: 16, percent: 12.5, quarantined: 0 });
    // Two agents, each with both bridge halves of a /24: 2 x 2 x 125 addresses.
    expect(small.containers).toEqual({ used: 2, free: 498, total: 500, percent: 0.4 });
    expect(u.agents.find((a) => a.ip === '10.0.0.2')!.overlays[0]!.containers).toMatchObject({ used: 2, total: 250 });
    const metrics = (await call(master.url, 'GET', '/metrics')).text;
    expect(metrics).toMatch(/^vxnet_overlay_container_addresses_used\{overlay="small",family="ipv4"\} 2$/m);
    expect(metrics).toMatch(/^vxnet_overlay_container_addresses_free\{overlay="small",family="ipv4"\} 498$/m);
    expect(metrics).toMatch(/^vxnet_vtep_addresses_used\{family="ipv4"\} 2$/m);
    expect(metrics).toMatch(/^vxnet_agent_container_addresses_ratio\{agent="10.0.0.2"\} 0.008$/m);
    const state = await runCli(['state', '--master', master.url]);
    expect(state.stdout).toContain('UTILISATION');
    expect(state.stdout).toMatch(/^small\s+IPv4\s+44\.128\.0\.0\/20 \/24\s+2 \/ 16 \(12\.5%\), 14 free\s+2 \/ 500 \(0\.4%\), 498 free$/m);
  });

  it('sends a pool event at 80, 90 and 100 % (and down again), and says which pool ran out and the fix', async () => {
    const watch = poolEvents(master.url);
    await watch.opened;
    // 2 of 16 held: 11 more reach 13 (81 %), 2 more 15 (94 %), one more 16 (100 %).
    for (let n = 10; n < 24; n++) await register(master.url, `10.0.1.${n}`);
    const overflow = await register(master.url, '10.0.1.99');
    expect(overflow.overlays[0]!.state.error).toContain(
      'no free /24 left in overlay small (IPv4 44.128.0.0/20: 16 of 16 held by agents); delete agents that left the cluster',
    );
    await remove(master.url, '10.0.1.23');
    const seen = () => watch.events.map((e) => `${e.pool} ${e.overlay} ${e.direction} ${e.threshold} ${e.used}/${e.total}`);
    await expect
      .poll(seen, { timeout: 10_000 })
      .toEqual(['overlay small up 80 13/16', 'overlay small up 90 15/16', 'overlay small up 100 16/16', 'overlay small down 100 15/16']);
    expect(watch.events[0]).toMatchObject({ type: 'pool', family: 4, cidr: '44.128.0.0/20', level: 80 });
    watch.stop();
  });
});
