// Leaked container addresses, collected: 12 vxnet containers on 3 hosts, 3
// of them killed without a CNI DEL (their network namespace deleted). After
// the grace period exactly those 3 reservations are released; the 9 live
// ones keep their addresses and still ping; an address no runtime claims is
// kept as suspect. Then `vxnet ipam check` before and after, `--release`,
// and the master's cluster-wide summary.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IpamCheck, IpamSummary } from '../src/api/types.js';
import { AGENT_PORT, BUSYBOX_IMAGE, CLI, ping, run, runOk, startCluster, waitFor, type Cluster, type Host } from '../src/testbed/index.js';

interface Ctr {
  h: Host;
  name: string;
  ip: string;
}

let cluster: Cluster;
const ctrs: Ctr[] = [];
const FAKE_ID = 'mesos-task-1';
let fakeFile = '';

const ipamFile = (c: Pick<Ctr, 'h' | 'ip'>) => join(c.h.stateDir, 'ipam', 'dcos-1', c.ip);
const holder = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split(/\r?\n/)[0] : undefined);
const agentUrl = (h: Host) => `http://${h.ip}:${AGENT_PORT}`;

async function ipamCheck(h: Host, extra: string[] = [], c: Cluster = cluster): Promise<{ text: string; json: IpamCheck }> {
  const text = await c.vxnet(h, ['ipam', 'check', '--agent', agentUrl(h), ...extra]);
  const json = await c.vxnet(h, ['ipam', 'check', '--agent', agentUrl(h), '--json']);
  if (json.code !== 0) throw new Error(`ipam check on ${h.ns} failed: ${json.stderr}`);
  return { text: text.stdout + text.stderr, json: JSON.parse(json.stdout) as IpamCheck };
}

describe('IPAM garbage collection', () => {
  beforeAll(async () => {
    cluster = await startCluster({
      hosts: 3,
      // Host 3 keeps leaked addresses for an hour: `--release` is shown there.
      agentArgs: (h) => [
        '--ipam-gc-grace',
        h.index === 3 ? '1h' : '3s',
        '--ipam-gc-interval',
        '500ms',
        '--container-state-dir',
        h.containersDir,
        '--podman-argv',
        '[]',
      ],
    });
    await cluster.waitAllOk(60_000);
    for (const h of cluster.hosts)
      for (let k = 1; k <= 4; k++) {
        const name = cluster.names.container(`g${h.index}${k}`);
        ctrs.push({ h, name, ip: await cluster.runContainer(h, name, 'dcos-1') });
      }
  }, 240_000);

  afterAll(async () => {
    await cluster?.teardown();
    expect(await cluster?.leftovers()).toEqual([]);
  }, 120_000);

  it('releases exactly the 3 reservations whose containers died without a CNI DEL, after the grace period', async () => {
    const [h1] = cluster.hosts as [Host, Host, Host];
    for (const c of ctrs) expect(holder(ipamFile(c))).toBe(c.name);
    // An address no runtime the agent knows made (as Mesos would): suspect, never released.
    const base = ctrs[0]!.ip.split('.').slice(0, 3).join('.');
    fakeFile = join(h1.stateDir, 'ipam', 'dcos-1', `${base}.120`);
    writeFileSync(fakeFile, `${FAKE_ID}\r\neth0`);

    const before = await ipamCheck(h1);
    console.log(`vxnet ipam check on ${h1.ns}, before:\n${before.text}`);
    expect(before.json.overlays).toEqual([expect.objectContaining({ name: 'dcos-1', used: 5, leaked: 0, suspect: 1, stranded: 0 })]);
    expect(before.json.overlays[0]!.addresses).toEqual([
      expect.objectContaining({ ip: `${base}.120`, container: FAKE_ID, runtime: 'unknown', state: 'suspect' }),
    ]);

    // Kill 3 (two on host 1, one on host 2) without CNI DEL: their network namespaces vanish, the files stay.
    const victims = [ctrs[0]!, ctrs[1]!, ctrs[4]!];
    const live = ctrs.filter((c) => !victims.includes(c));
    const killedAt = Date.now();
    for (const v of victims) await runOk(['ip', 'netns', 'del', v.name]);
    const releasedAfter = new Map<string, number>();
    await waitFor(
      'the 3 leaked reservations to be released',
      () => {
        for (const v of victims)
          if (!releasedAfter.has(v.name) && !existsSync(ipamFile(v))) releasedAfter.set(v.name, Date.now() - killedAt);
        return releasedAfter.size === victims.length;
      },
      { timeoutMs: 90_000, intervalMs: 50 },
    );
    console.log(
      `GC: kill (netns deleted, no CNI DEL) to reservation released, grace 3 s, collector every 0.5 s: ${victims
        .map((v) => `${v.name} ${releasedAfter.get(v.name)} ms`)
        .join(', ')}`,
    );

    // The 9 live ones are untouched: same files, same holders, and they still reach each other across hosts.
    for (const c of live) expect(holder(ipamFile(c))).toBe(c.name);
    expect(holder(fakeFile)).toBe(FAKE_ID);
    const from = live.find((c) => c.h.index === 3)!;
    const reached = await Promise.all(live.filter((c) => c !== from).map((c) => ping(from.name, c.ip, { count: 1, timeoutS: 2 })));
    expect(reached).toEqual(live.filter((c) => c !== from).map(() => true));

    const after = await ipamCheck(h1);
    console.log(`vxnet ipam check on ${h1.ns}, after:\n${after.text}`);
    expect(after.json.overlays).toEqual([expect.objectContaining({ name: 'dcos-1', used: 3, leaked: 0, suspect: 1 })]);
  }, 180_000);

  it('lists a leaked address with its container and why, and `--release` frees it at once, only from the host itself', async () => {
    const h3 = cluster.hosts[2]!;
    const victim = ctrs.find((c) => c.h === h3)!;
    await runOk(['ip', 'netns', 'del', victim.name]);
    const listed = await waitFor(
      'host 3 to list the leaked address',
      async () => {
        const { text, json } = await ipamCheck(h3);
        const a = json.overlays[0]?.addresses.find((x) => x.ip === victim.ip);
        return a?.state === 'leaked' ? { text, a } : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    console.log(`vxnet ipam check on ${h3.ns} (grace 1h), a leaked address:\n${listed.text}`);
    expect(listed.a).toMatchObject({ container: victim.name, runtime: 'vxnet', stranded: false });
    expect(listed.a.reason).toContain(`/run/netns/${victim.name} is gone`);
    expect(Date.parse(listed.a.releaseAt!) - Date.parse(listed.a.leakedSince!)).toBe(3_600_000);
    expect(holder(ipamFile(victim))).toBe(victim.name);

    // From elsewhere (the root namespace is not host 3): refused.
    const remote = await fetch(`${agentUrl(h3)}/overlay-agent/ipam/release`, { method: 'POST' });
    expect(remote.status).toBe(403);
    expect(holder(ipamFile(victim))).toBe(victim.name);

    const released = await cluster.vxnet(h3, ['ipam', 'check', '--release', '--agent', agentUrl(h3)]);
    console.log(`vxnet ipam check --release on ${h3.ns}:\n${released.stdout}${released.stderr}`);
    expect(released.code).toBe(0);
    expect(released.stdout).toContain(`released ${victim.ip} on dcos-1 (container ${victim.name}, by CNI DEL)`);
    expect(existsSync(ipamFile(victim))).toBe(false);
    for (const c of ctrs.filter((x) => x.h === h3 && x !== victim)) expect(holder(ipamFile(c))).toBe(c.name);
  }, 120_000);

  it("serves the agents' summaries and totals from the master", async () => {
    const [h1, h2, h3] = cluster.hosts as [Host, Host, Host];
    const summary = await waitFor(
      'the master to hold every agent’s current IPAM summary',
      async () => {
        const s = (await (await fetch(`${cluster.localMasterUrl}/overlay-master/ipam`)).json()) as IpamSummary;
        const t = s.totals['dcos-1'];
        return t && t.used === 9 && t.suspect === 1 && t.leaked === 0 ? s : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    // Agents come in registration order, whichever host was first.
    expect(Object.fromEntries(summary.agents.map((a) => [a.agent, a.overlays['dcos-1']?.used]))).toEqual({
      [h1.ip]: 3,
      [h2.ip]: 3,
      [h3.ip]: 3,
    });
    const text = await run(['node', CLI, 'ipam', 'check', '--master', cluster.localMasterUrl]);
    console.log(`vxnet ipam check --master:\n${text.stdout}${text.stderr}`);
    expect(text.stdout).toMatch(/total\s+dcos-1\s+9\s+0\s+1\s+0/);
  }, 60_000);
});

// Podman (a real podman 4.3, CNI backend, per host): the collector asks `podman
// ps -a` and reads libcni's result cache. A container podman removed while its
// CNI DEL failed (the plugin dir unusable for that one `podman rm -f`, as when
// a plugin upgrade is half done) is forgotten by podman but still holds its
// host-local reservation: released after the grace period. The live ones are
// kept, although their network namespaces (in podman's private mount
// namespace, /run/netns/netns-…) are invisible from the agent's.
describe('IPAM garbage collection of Podman containers', () => {
  let pc: Cluster;
  let ph: Host;
  const GRACE_MS = 2_000;
  // A process that stays in the host's engine mount namespace. The agent runs under `ip netns exec`,
  // a mount namespace of its own into which the kernel does not copy the nsfs pin of the engine
  // namespace, so the agent reaches podman through this process's /proc/<pid>/ns/mnt instead.
  const keepers = new Map<string, ChildProcess>();
  const storageArgs = (h: Host) => ['--root', h.podman!.root, '--runroot', h.podman!.runroot, '--storage-driver', 'overlay'];
  const podmanEnv = (h: Host, conf: string) => [
    'env',
    `CONTAINERS_CONF=${conf}`,
    `CONTAINERS_STORAGE_CONF=${join(h.podman!.dir, 'storage.conf')}`,
    'podman',
    ...storageArgs(h),
  ];
  /** podman on h as the test bed runs it, with another containers.conf. */
  const podmanArgv = (h: Host, conf = h.podman!.conf) => h.engines!.mnt.enter(podmanEnv(h, conf));
  /** The same podman, entered through the keeper: what the agent runs. */
  const agentPodmanArgv = (h: Host) => {
    const pid = keepers.get(h.ns)?.pid;
    if (!pid) throw new Error(`no keeper process in ${h.ns}'s engine mount namespace`);
    return ['nsenter', `--mount=/proc/${pid}/ns/mnt`, `--net=/proc/${pid}/ns/net`, '--', ...podmanEnv(h, h.podman!.conf)];
  };
  const podmanFile = (h: Host, ip: string) => join(h.stateDir, 'ipam', 'dcos-1', ip);

  beforeAll(async () => {
    pc = await startCluster({
      hosts: 1,
      podman: true,
      startAgents: false,
      agentArgs: (h) => [
        '--ipam-gc-grace',
        `${GRACE_MS}ms`,
        '--ipam-gc-interval',
        '500ms',
        '--container-state-dir',
        h.containersDir,
        '--podman-argv',
        JSON.stringify(agentPodmanArgv(h)),
        '--cni-cache-dir',
        h.engines!.mnt.outside('/var/lib/cni'),
      ],
    });
    ph = pc.hosts[0]!;
    const keeper = spawn(ph.engines!.mnt.enter(['sleep', '3600'])[0]!, ph.engines!.mnt.enter(['sleep', '3600']).slice(1), {
      stdio: 'ignore',
    });
    keepers.set(ph.ns, keeper);
    const ours = readlinkSync('/proc/self/ns/mnt');
    await waitFor(
      'the keeper to enter the engine mount namespace',
      () => {
        try {
          return readlinkSync(`/proc/${keeper.pid}/ns/mnt`) !== ours || undefined;
        } catch {
          return undefined;
        }
      },
      { timeoutMs: 10_000, intervalMs: 20 },
    );
    await pc.startAgent(ph);
    await pc.waitAllOk(60_000);
  }, 240_000);

  afterAll(async () => {
    for (const keeper of keepers.values()) keeper.kill('SIGKILL');
    await pc?.teardown();
    expect(await pc?.leftovers()).toEqual([]);
  }, 120_000);

  it('releases the reservation of a container podman forgot without its CNI DEL, and keeps the live ones', async () => {
    const p = ph.podman!;
    const run1 = async (name: string) => {
      const id = (await p.podmanOk(['run', '-d', '--name', name, '--network', 'dcos-1', BUSYBOX_IMAGE, 'sleep', '600'])).trim();
      const ip = (await p.podmanOk(['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', name])).trim();
      const sandbox = (await p.podmanOk(['inspect', '-f', '{{.NetworkSettings.SandboxKey}}', name])).trim();
      expect(holder(podmanFile(ph, ip))).toBe(id);
      // Its network namespace exists only in podman's mount namespace.
      expect(sandbox).toMatch(/^\/run\/netns\//);
      expect(existsSync(sandbox)).toBe(false);
      return { name, id, ip, sandbox };
    };
    const live = [await run1('pl1'), await run1('pl2'), await run1('pl3')];

    // `podman rm -f` with no usable CNI plugin: podman removes the container, its DEL fails, the reservation stays.
    // The plugin dir is taken away in podman's own containers.conf, not in a copy given to `rm` alone:
    // when the process dies, conmon starts `podman container cleanup` with the container's config,
    // and that cleanup raced `rm` to the DEL (and often won, releasing the address itself).
    mkdirSync(join(pc.tmpDir, 'no-plugins'));
    const working = readFileSync(p.conf, 'utf8');
    const noPlugins = working.replace(
      'cni_plugin_dirs = ["/usr/lib/cni"]',
      `cni_plugin_dirs = [${JSON.stringify(join(pc.tmpDir, 'no-plugins'))}]`,
    );
    expect(noPlugins).not.toBe(working);
    const gone = await run1('pgone');
    writeFileSync(p.conf, noPlugins);
    let rm: Awaited<ReturnType<typeof run>>;
    try {
      rm = await run([...podmanArgv(ph), 'rm', '-f', '-t', '0', gone.name], { timeoutMs: 60_000 });
    } finally {
      writeFileSync(p.conf, working);
    }
    console.log(`podman rm -f with no CNI plugins: exit ${rm.code}, ${rm.stderr.trim().split('\n').slice(-2).join(' | ')}`);
    expect((await p.podman(['container', 'exists', gone.name])).code).toBe(1);
    expect(holder(podmanFile(ph, gone.ip))).toBe(gone.id);

    const forgotAt = Date.now();
    const seen = await ipamCheck(ph, [], pc);
    console.log(`vxnet ipam check once podman forgot ${gone.name}:\n${seen.text}`);
    await waitFor('the forgotten podman reservation to be released', () => !existsSync(podmanFile(ph, gone.ip)) || undefined, {
      timeoutMs: 60_000,
      intervalMs: 50,
    });
    console.log(`GC (podman): forgotten to released ${Date.now() - forgotAt} ms, grace ${GRACE_MS} ms, collector every 0.5 s`);
    // Well past the grace period, the live ones keep their reservations and are listed live.
    await new Promise((r) => setTimeout(r, 2 * GRACE_MS));
    for (const s of live) expect(holder(podmanFile(ph, s.ip))).toBe(s.id);
    const { text, json } = await ipamCheck(ph, [], pc);
    console.log(`vxnet ipam check with podman containers:\n${text}`);
    expect(json.overlays).toEqual([expect.objectContaining({ name: 'dcos-1', used: 3, leaked: 0, suspect: 0 })]);
    // Only addresses that are not live are listed.
    for (const s of live) expect(json.overlays[0]!.addresses.map((a) => a.ip)).not.toContain(s.ip);
    expect(holder(podmanFile(ph, gone.ip))).toBeUndefined();
  }, 240_000);
});
