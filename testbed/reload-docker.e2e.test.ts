// Networks changed while everything runs, Docker side: with a real dockerd on
// each of 2 hosts, an overlay added by `vxnet network reload` gets its Docker
// network on every host, disabling removes it, re-enabling brings it back
// over the same subnets, a delete is refused while a Docker container is
// attached (naming it), and after --force every empty host drops the network
// at once while a host whose container still holds it keeps it, says so in
// engines.docker.detail, and drops it once the container is gone (vxnet
// never stops or disconnects a user's container). One cluster for the file;
// tests run in order. Timings are printed, never asserted.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentOverlayState, MasterState } from '../src/api/types.js';
import type { NetworkConfig } from '../src/config/types.js';
import { DEFAULT_NETWORK_CONFIG } from '../src/config/types.js';
import { AGENT_PORT, CLI, type Cluster, type Host, ping, run, startCluster, waitFor } from '../src/testbed/index.js';

const EXTRA = { name: 'extra', subnet: '10.77.0.0/16', prefix: 24 };
const base: NetworkConfig = DEFAULT_NETWORK_CONFIG;
const withOverlays = (...extra: NetworkConfig['overlays']): NetworkConfig => ({ ...base, overlays: [...base.overlays, ...extra] });
const WAIT = { timeoutMs: 60_000 };

let c: Cluster;

const writeConfig = (config: NetworkConfig): void => writeFileSync(join(c.tmpDir, 'config.json'), JSON.stringify(config, null, 2));
const reload = (...flags: string[]) =>
  run(['node', CLI, 'network', 'reload', '--master', c.localMasterUrl, ...flags], { timeoutMs: 60_000 });
const state = async (): Promise<MasterState> => (await (await fetch(`${c.localMasterUrl}/overlay-master/state`)).json()) as MasterState;
const agentState = async (h: Host): Promise<AgentOverlayState> =>
  (await (await fetch(`http://${h.ip}:${AGENT_PORT}/overlay-agent/overlay`)).json()) as AgentOverlayState;

interface Inspected {
  Labels: Record<string, string>;
  Options: Record<string, string>;
  IPAM: { Config: { Subnet: string }[] };
}
const inspect = async (h: Host, network: string): Promise<Inspected | undefined> => {
  const r = await h.docker!.docker(['network', 'inspect', network]);
  return r.code === 0 ? (JSON.parse(r.stdout) as Inspected[])[0] : undefined;
};

/** The docker half of each agent's subnet in `overlay`, as the master lists it. */
async function dockerHalves(overlay: string): Promise<Map<string, string>> {
  const s = await state();
  return new Map(
    s.agents.flatMap((a) =>
      a.overlays.filter((o) => o.info.name === overlay && o.docker_bridge?.ip).map((o) => [a.ip, o.docker_bridge!.ip!] as [string, string]),
    ),
  );
}

/** Waits until `overlay`'s Docker network is on the given hosts (vxnet's label, the host's docker half) or gone from them. */
async function dockerNetworks(overlay: string, present: boolean, hosts: Host[] = c.hosts): Promise<void> {
  const halves = present ? await dockerHalves(overlay) : new Map<string, string>();
  if (present) expect(halves.size).toBe(c.hosts.length);
  await waitFor(
    `Docker network ${overlay} ${present ? 'on' : 'gone from'} ${hosts.map((h) => h.ns).join(', ')}`,
    async () => {
      for (const h of hosts) {
        const n = await inspect(h, overlay);
        const ok = present
          ? n?.Labels['io.vxnet.overlay'] === overlay &&
            n.Options['com.docker.network.bridge.name'] === `d-${overlay}` &&
            n.IPAM.Config.map((x) => x.Subnet).join() === halves.get(h.ip)
          : n === undefined;
        if (!ok) return undefined;
      }
      return true;
    },
    WAIT,
  );
}

/** Milliseconds from `since` to the first line of h's agent log (ISO-stamped) that contains `text` and was written after `since`. */
function agentLogAfter(h: Host, text: string, since: number): number | undefined {
  for (const line of h.agent!.log().split('\n')) {
    const at = Date.parse(line.slice(0, line.indexOf(' ')));
    if (at >= since && line.includes(text)) return at - since;
  }
  return undefined;
}

async function reloadAndWait(what: string, config: NetworkConfig, present: boolean): Promise<string> {
  writeConfig(config);
  const started = performance.now();
  const startedAt = Date.now();
  const r = await reload();
  const answered = performance.now();
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  await dockerNetworks('extra', present);
  // The agents' own log lines say when each acted, without the CLI's start-up or this test's polling.
  const op = present ? 'create Docker network extra' : 'remove Docker network extra';
  const agents = c.hosts.map((h) => `${h.ns.split('-').pop()} ${agentLogAfter(h, op, startedAt) ?? '?'} ms`).join(', ');
  console.log(
    `reload→Docker networks converged (${what}, ${c.hosts.length} hosts): ${Math.round(performance.now() - started)} ms ` +
      `(the CLI answered after ${Math.round(answered - started)} ms; agents logged "${op}" at ${agents})`,
  );
  return r.stdout;
}

beforeAll(async () => {
  c = await startCluster({ hosts: 2, docker: true });
  await c.waitAllOk(60_000);
  await dockerNetworks('dcos-1', true);
}, 240_000);

afterAll(async () => {
  await c?.teardown();
  if (c)
    expect(
      await waitFor('nothing left behind', async () => ((await c.leftovers()).length === 0 ? [] : undefined), { timeoutMs: 20_000 }).catch(
        async () => c.leftovers(),
      ),
    ).toEqual([]);
}, 240_000);

describe('networks changed while everything runs: Docker', () => {
  let halves = new Map<string, string>();
  let holder = { name: '', ip: '' };

  it('adds an overlay: its Docker network appears on every host, and Docker containers on it reach each other', async () => {
    expect(await reloadAndWait('add', withOverlays(EXTRA), true)).toContain('added extra');
    halves = await dockerHalves('extra');
    const [h1, h2] = c.hosts as [Host, Host];
    const a = await c.runDockerContainer(h1, 'xa', 'extra', ['sleep', '3600']);
    const b = await c.runDockerContainer(h2, 'xb', 'extra', ['sleep', '3600']);
    expect(await ping(a.ns, b.ip, { count: 2, timeoutS: 2 })).toBe(true);
    await h1.docker!.dockerOk(['rm', '-f', 'xa']);
    await h2.docker!.dockerOk(['rm', '-f', 'xb']);
  });

  it('disables it: the Docker network goes from every host once empty', async () => {
    expect(await reloadAndWait('disable', withOverlays({ ...EXTRA, enabled: false }), false)).toContain('disabled extra');
  });

  it('re-enables it: the Docker network comes back over the same subnets', async () => {
    await reloadAndWait('re-enable', withOverlays(EXTRA), true);
    expect(await dockerHalves('extra')).toEqual(halves);
  });

  it('refuses to delete it while a Docker container is attached, naming the container, and changes nothing', async () => {
    const h1 = c.hosts[0]!;
    holder = { name: 'holder', ip: (await c.runDockerContainer(h1, 'holder', 'extra', ['sleep', '3600'])).ip };
    await waitFor(
      'the Docker container on extra to be reported',
      async () => {
        const body = (await (await fetch(`${c.localMasterUrl}/overlay-master/containers`)).json()) as { containers: { ip: string }[] };
        return body.containers.some((k) => k.ip === holder.ip) || undefined;
      },
      WAIT,
    );
    writeConfig(withOverlays());
    const r = await reload();
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('refused, nothing changed');
    expect(r.stderr).toMatch(new RegExp(`holder \\([0-9a-f]{12}\\) ${holder.ip.replaceAll('.', '\\.')} on agent ${h1.ip}`));
    expect(r.stderr).toContain('vxnet network reload --force');
    expect((await state()).network.overlays.map((o) => o.name)).toContain('extra');
    await dockerNetworks('extra', true);
  });

  it('deletes it with --force: gone at once where empty; kept and reported where a container still holds it, gone once it stops', async () => {
    const [h1, h2] = c.hosts as [Host, Host];
    writeConfig(withOverlays());
    const started = performance.now();
    const r = await reload('--force');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('deleted extra');
    await dockerNetworks('extra', false, [h2]);
    console.log(`reload --force→Docker network gone from the empty host: ${Math.round(performance.now() - started)} ms`);
    // vxnet never stops a user's container: the network stays while it holds it, and the agent says why.
    const detail = await waitFor(
      'the agent on h1 to report the Docker network it keeps',
      async () =>
        (await agentState(h1)).engines?.docker?.detail?.match(/Docker network extra is no longer needed.*?once they are gone/)?.[0],
      WAIT,
    );
    expect(detail).toBe('Docker network extra is no longer needed but containers still use it (holder); it is removed once they are gone');
    expect(h1.agent!.log()).toContain(`warning: ${detail}`);
    expect(await inspect(h1, 'extra')).toBeDefined();
    expect((await agentState(h1)).engines?.docker?.status).toBe('ok');
    // Once the container is gone, the agent removes the network (Docker's events wake it).
    await h1.docker!.dockerOk(['rm', '-f', 'holder']);
    await dockerNetworks('extra', false);
    await waitFor(
      'the warning to clear',
      async () => !(await agentState(h1)).engines?.docker?.detail?.includes('extra') || undefined,
      WAIT,
    );
    // The overlays left are untouched.
    await dockerNetworks('dcos-1', true);
  });
});
