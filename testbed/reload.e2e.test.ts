// Networks changed while everything runs: an overlay added, disabled,
// re-enabled, refused deletion while a container is attached, deleted with
// --force, a change of a subnet in use refused, and one SIGHUP, on 3 hosts,
// while a 20 ms ping on another overlay must lose no packet. One cluster for
// the file; the tests run in order. Reload-to-converged is measured and
// printed, never asserted.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MasterState } from '../src/api/types.js';
import type { NetworkConfig } from '../src/config/types.js';
import { DEFAULT_NETWORK_CONFIG } from '../src/config/types.js';
import {
  CLI,
  type Cluster,
  type Host,
  inNetns,
  peerEntries,
  ping,
  type Proc,
  run,
  runOk,
  startCluster,
  startProcess,
  stopProcess,
  waitFor,
} from '../src/testbed/index.js';

const EXTRA = { name: 'extra', subnet: '10.77.0.0/16', prefix: 24 };
const HUP = { name: 'hup', subnet: '10.78.0.0/16', prefix: 24 };
const base: NetworkConfig = DEFAULT_NETWORK_CONFIG;
const withOverlays = (...extra: NetworkConfig['overlays']): NetworkConfig => ({ ...base, overlays: [...base.overlays, ...extra] });
const WAIT = { timeoutMs: 60_000 };

let c: Cluster;
let pinger: Proc | undefined;
let target = '';
const extraCtrs: { host: Host; name: string; ip: string }[] = [];

const writeConfig = (config: NetworkConfig): void => writeFileSync(join(c.tmpDir, 'config.json'), JSON.stringify(config, null, 2));
const reload = (...flags: string[]) =>
  run(['node', CLI, 'network', 'reload', '--master', c.localMasterUrl, ...flags], { timeoutMs: 60_000 });
const state = async (): Promise<MasterState> => (await (await fetch(`${c.localMasterUrl}/overlay-master/state`)).json()) as MasterState;
const subnetsOf = (s: MasterState, overlay: string): (string | undefined)[] =>
  s.agents.map((a) => a.overlays.find((o) => o.info.name === overlay)?.subnet);

async function links(h: Host): Promise<string[]> {
  return (JSON.parse(await runOk(['ip', '-n', h.ns, '-j', 'link', 'show'])) as { ifname: string }[]).map((l) => l.ifname);
}

/** What vxnet keeps on a host for `overlay`, as text per kind (empty lists: nothing left). */
async function traces(h: Host, overlay: string, overlaySubnet: string, peerSubnets: string[]): Promise<Record<string, string[]>> {
  const nft = await runOk(inNetns(h.ns, ['nft', 'list', 'ruleset']));
  const routes = (await peerEntries(h.ns)).routes;
  return {
    links: (await links(h)).filter((l) => l === `m-${overlay}` || l === `d-${overlay}`),
    routes: routes.filter((r) => peerSubnets.includes(r)),
    nft: nft.includes(overlaySubnet) ? [overlaySubnet] : [],
    conflist: existsSync(join(h.cniConfDir, `vxnet-${overlay}.conflist`)) ? [`vxnet-${overlay}.conflist`] : [],
  };
}

/** Each agent's subnet in `overlay`, as the master lists it now. */
async function allocation(overlay: string): Promise<Map<string, string>> {
  const s = await state();
  return new Map(s.agents.flatMap((a) => a.overlays.filter((o) => o.info.name === overlay && o.subnet).map((o) => [a.ip, o.subnet!])));
}

/**
 * Waits until every host has all of `overlay` (bridges, a route to each
 * peer's subnet in `held`, NAT, conflist), or none of it.
 */
async function converged(overlay: string, overlaySubnet: string, present: boolean, held: Map<string, string>): Promise<void> {
  expect(held.size).toBe(c.hosts.length);
  await waitFor(
    `overlay ${overlay} ${present ? 'on' : 'gone from'} every host`,
    async () => {
      for (const h of c.hosts) {
        const peers = [...held].filter(([ip]) => ip !== h.ip).map(([, subnet]) => subnet);
        const t = await traces(h, overlay, overlaySubnet, peers);
        const ok = present
          ? t.links!.length === 2 && t.routes!.length === peers.length && t.nft!.length === 1 && t.conflist!.length === 1
          : Object.values(t).every((v) => v.length === 0);
        if (!ok) return undefined;
      }
      return true;
    },
    WAIT,
  );
}

/** Reloads and measures until every host has converged; prints the figure. */
async function reloadAndWait(what: string, config: NetworkConfig, overlay: string, subnet: string, present: boolean): Promise<string> {
  writeConfig(config);
  const started = performance.now();
  const r = await reload();
  const answered = performance.now();
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  await converged(overlay, subnet, present, await allocation(overlay));
  const done = performance.now();
  console.log(
    `reload→converged (${what}, 3 hosts): ${Math.round(done - started)} ms ` +
      `(the CLI answered after ${Math.round(answered - started)} ms, node start-up included)`,
  );
  return r.stdout;
}

beforeAll(async () => {
  c = await startCluster({ hosts: 3 });
  await c.waitAllOk();
  const [h1, h2] = c.hosts;
  const a = c.names.container('pa');
  await c.runContainer(h1!, a, 'dcos-1', ['sleep', '900']);
  target = await c.runContainer(h2!, c.names.container('pb'), 'dcos-1', ['sleep', '900']);
  expect(await ping(a, target, { count: 3, timeoutS: 2 })).toBe(true);
  // Every reply line carries its icmp_seq: a gap below the last one answered is a lost packet.
  pinger = startProcess('ping', inNetns(a, ['ping', '-n', '-i', '0.02', target]), join(c.tmpDir, 'ping.log'));
});

afterAll(async () => {
  if (pinger) await stopProcess(pinger, 1_000);
  await c?.teardown();
  if (c)
    expect(
      await waitFor('nothing left behind', async () => ((await c.leftovers()).length === 0 ? [] : undefined), { timeoutMs: 10_000 }),
    ).toEqual([]);
});

describe('networks changed while everything runs', () => {
  let extraSubnets: (string | undefined)[] = [];

  it('adds an overlay: every agent gets a subnet, every host its bridges, routes, conflist and NAT', async () => {
    const out = await reloadAndWait('add', withOverlays(EXTRA), 'extra', EXTRA.subnet, true);
    expect(out).toContain('added extra');
    extraSubnets = subnetsOf(await state(), 'extra');
    expect(extraSubnets.every((s) => s?.startsWith('10.77.'))).toBe(true);
    expect(new Set(extraSubnets).size).toBe(3);
    // Containers on it reach each other across hosts.
    for (const h of [c.hosts[0]!, c.hosts[2]!]) {
      const name = c.names.container(`x${h.index}`);
      extraCtrs.push({ host: h, name, ip: await c.runContainer(h, name, 'extra', ['sleep', '900']) });
    }
    expect(await ping(extraCtrs[0]!.name, extraCtrs[1]!.ip, { count: 2, timeoutS: 2 })).toBe(true);
  });

  it('disables it: the data plane goes from every host, allocations and host-local data stay', async () => {
    const out = await reloadAndWait('disable', withOverlays({ ...EXTRA, enabled: false }), 'extra', EXTRA.subnet, false);
    expect(out).toContain('disabled extra');
    const s = await state();
    expect(subnetsOf(s, 'extra')).toEqual(extraSubnets);
    expect(s.agents[0]!.overlays.find((o) => o.info.name === 'extra')!.info.enabled).toBe(false);
    expect(existsSync(join(c.hosts[0]!.stateDir, 'ipam', 'extra'))).toBe(true);
  });

  it('re-enables it: the same subnets come back, and the data plane with them', async () => {
    await reloadAndWait('re-enable', withOverlays(EXTRA), 'extra', EXTRA.subnet, true);
    expect(subnetsOf(await state(), 'extra')).toEqual(extraSubnets);
  });

  it('refuses to delete it while a container is attached, listing it, and changes nothing', async () => {
    const x = extraCtrs[0]!;
    // The master knows the container once the agent has reported it.
    await waitFor(
      'the container on extra to be reported',
      async () => {
        const body = (await (await fetch(`${c.localMasterUrl}/overlay-master/containers`)).json()) as { containers: { ip: string }[] };
        return body.containers.some((k) => k.ip === x.ip) || undefined;
      },
      WAIT,
    );
    const before = await state();
    writeConfig(withOverlays());
    const r = await reload();
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('refused, nothing changed');
    expect(r.stderr).toContain('overlay extra is not in the config but');
    expect(r.stderr).toContain(`${x.ip} on agent ${x.host.ip}`);
    expect(r.stderr).toContain('vxnet network reload --force');
    const after = await state();
    expect(after.network).toEqual(before.network);
    expect(subnetsOf(after, 'extra')).toEqual(extraSubnets);
  });

  it('deletes it with --force: every trace goes from every host, host-local data included', async () => {
    writeConfig(withOverlays());
    const started = performance.now();
    const held = await allocation('extra');
    const r = await reload('--force');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('deleted extra (freed its subnets on 3 agent(s); forced: 2 container(s)');
    await converged('extra', EXTRA.subnet, false, held);
    await waitFor(
      'host-local data of extra gone from every host',
      async () => c.hosts.every((h) => !existsSync(join(h.stateDir, 'ipam', 'extra'))) || undefined,
      WAIT,
    );
    console.log(`reload→converged (delete, 3 hosts, host-local data included): ${Math.round(performance.now() - started)} ms`);
    const s = await state();
    expect(s.network.overlays.map((o) => o.name)).toEqual(['dcos-1', 'dcos-2']);
    expect(subnetsOf(s, 'extra')).toEqual([undefined, undefined, undefined]);
  });

  it('refuses a change of a subnet in use, naming it, and changes nothing', async () => {
    const before = await state();
    writeConfig({ ...base, overlays: [{ ...base.overlays[0]!, subnet: '10.90.0.0/17' }, base.overlays[1]!] });
    const r = await reload();
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('overlay dcos-1 changed: old subnet: 192.168.0.0/17, prefix: 24; new subnet: 10.90.0.0/17, prefix: 24');
    expect(await state()).toEqual(before);
  });

  it('SIGHUP re-reads the config file and applies it', async () => {
    writeConfig(withOverlays(HUP));
    const started = performance.now();
    process.kill(c.master.pid, 'SIGHUP');
    await waitFor('the master to list overlay hup', async () => (await allocation('hup')).size === c.hosts.length || undefined, WAIT);
    await converged('hup', HUP.subnet, true, await allocation('hup'));
    console.log(`SIGHUP→converged (add, 3 hosts): ${Math.round(performance.now() - started)} ms`);
    expect(c.master.log()).toContain('SIGHUP: config reloaded');
    expect(c.master.isRunning()).toBe(true);
  });

  it('the ping on dcos-1 lost no packet through all of it', async () => {
    const p = pinger!;
    pinger = undefined;
    await stopProcess(p, 1_000);
    const seqs = [...p.log().matchAll(/icmp_seq=(\d+)/g)].map((m) => Number(m[1]));
    const last = Math.max(...seqs);
    const got = new Set(seqs);
    const lost = Array.from({ length: last }, (_, i) => i + 1).filter((n) => !got.has(n));
    console.log(`ping ${target} every 20 ms: ${got.size} answered up to icmp_seq ${last}, lost ${lost.length}`);
    expect(got.size).toBeGreaterThan(100);
    expect(lost).toEqual([]);
  });
});
