// bench:agent (e)-(g): vxnet beside Docker's own swarm overlay, on the same two
// host namespaces (each with a real dockerd) and in the same run.
//   (e) iperf3 TCP container->container across hosts: vxnet, swarm overlay and
//       the host->host underlay, interleaved; medians, and CPU seconds per GB.
//   (f) ping p50 RTT through the same three paths, interleaved.
//   (g) time from `docker run -d` returning on host B until a container on
//       host A first gets a ping reply from the new container (also reported
//       from when docker run was invoked and from the container's
//       State.StartedAt: with Docker 20.10 the container's interface is only
//       moved into its netns by runc's prestart hook, so the first reply comes
//       shortly before the process starts, hence before docker run returns).
// Any selection of e, f, g shares one cluster and one swarm. Default kernel
// settings everywhere: no sysctl is changed here (vxnet's agent sets a 10 ms
// ARP retry on its own bridges; that is part of what is measured).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BUSYBOX_IMAGE,
  inNetns,
  run,
  runOk,
  sleep,
  startCluster,
  startProcess,
  stopProcess,
  waitFor,
  WaitAborted,
  type Cluster,
  type Host,
} from '../src/testbed/index.js';
import { iperfRun } from './iperf.js';

export interface BenchResult {
  name: string;
  value: string;
  floor: string;
  target: string;
  pass: boolean;
  info?: boolean;
}

const SWARM_SUBNET = '10.250.0.0/24';
const SWARM_POOL = '10.251.0.0/16'; // swarm's default address pool (its ingress network); inside the namespaces only
const SWARM_NET = 'ovl';
const VX_NET = 'dcos-1';
const REPS = 5;
const IPERF_SECONDS = 3;
const FIRST_REPS = 7;

type PathKey = 'vxnet' | 'docker' | 'underlay';
interface Path {
  key: PathKey;
  label: string;
  clientNs: string;
  serverNs: string;
  serverIp: string;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const fmt = (xs: number[], d = 1) => xs.map((x) => x.toFixed(d)).join(', ');
const rotate = <T>(xs: T[], k: number): T[] => xs.map((_, i) => xs[(i + k) % xs.length]!);
const nowMs = () => performance.timeOrigin + performance.now();

/** p50 of the per-reply RTTs of one `ping -c 50 -i 0.01`. */
async function pingP50(p: Path, count = 50): Promise<number> {
  const r = await run(inNetns(p.clientNs, ['ping', '-n', '-c', String(count), '-i', '0.01', '-W', '1', p.serverIp]), { timeoutMs: 30_000 });
  const times = [...r.stdout.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]));
  if (times.length < count * 0.8)
    throw new Error(`ping ${p.label} ${p.serverIp}: only ${times.length}/${count} replies\n${r.stdout.slice(-500)}${r.stderr}`);
  return median(times);
}

/** The address 6 below the top of an IPv4 subnet (e.g. 192.168.1.128/25 -> 192.168.1.250): free in a fresh IPAM pool. */
function highAddress(cidr: string): string {
  const [ip, len] = cidr.split('/') as [string, string];
  const n = ip.split('.').reduce((a, o) => a * 256 + Number(o), 0) + 2 ** (32 - Number(len)) - 6;
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

interface Ctr {
  name: string;
  ip: string;
  ns: string;
  host: Host;
}
interface FirstPing {
  fromReturn: number;
  fromStart: number;
  fromCtrStart: number;
  runMs: number;
  seq: number;
  errors: number;
}

export async function benchDockerPeer(sections: string[], results: BenchResult[], log: (s: string) => void): Promise<void> {
  const c: Cluster = await startCluster({ hosts: 2, docker: true });
  const attached: string[] = [];
  const made: { host: Host; name: string }[] = [];
  let swarmHosts: Host[] = [];
  const [h1, h2] = [c.hosts[0]!, c.hosts[1]!];

  const attach = async (name: string, pid: string): Promise<string> => {
    const ns = c.names.container(name);
    await runOk(['ip', 'netns', 'attach', ns, pid.trim()]);
    attached.push(ns);
    return ns;
  };
  const dockerRun = async (h: Host, name: string, network: string): Promise<Ctr> => {
    made.push({ host: h, name });
    await h.docker!.dockerOk(['run', '-d', '--name', name, '--network', network, BUSYBOX_IMAGE, 'sleep', '3600']);
    const ip = (await h.docker!.dockerOk(['inspect', '-f', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, name])).trim();
    const ns = await attach(name, await h.docker!.dockerOk(['inspect', '-f', '{{.State.Pid}}', name]));
    return { name, ip, ns, host: h };
  };
  const mtu = async (ns: string, dev = 'eth0') => (await runOk(['ip', '-n', ns, '-o', 'link', 'show', dev])).match(/mtu (\d+)/)?.[1] ?? '?';

  try {
    await c.waitAllOk(60_000);
    for (const h of c.hosts)
      await waitFor(`${VX_NET} on ${h.ns}'s dockerd`, async () => (await h.docker!.docker(['network', 'inspect', VX_NET])).code === 0, {
        timeoutMs: 30_000,
      });

    // --- Docker swarm overlay, the peer -------------------------------------
    let swarmWhy: string | undefined;
    try {
      const t0 = performance.now();
      swarmHosts.push(h1);
      await h1.docker!.dockerOk(['swarm', 'init', '--advertise-addr', h1.ip, '--default-addr-pool', SWARM_POOL], { timeoutMs: 60_000 });
      const token = (await h1.docker!.dockerOk(['swarm', 'join-token', '-q', 'worker'])).trim();
      swarmHosts.push(h2);
      await h2.docker!.dockerOk(['swarm', 'join', '--token', token, `${h1.ip}:2377`], { timeoutMs: 60_000 });
      await waitFor(
        '2 Ready swarm nodes',
        async () => {
          const out = await h1.docker!.dockerOk(['node', 'ls', '--format', '{{.Status}}']);
          return out.split('\n').filter((l) => l.trim() === 'Ready').length === 2;
        },
        { timeoutMs: 30_000, intervalMs: 200 },
      );
      await h1.docker!.dockerOk(['network', 'create', '-d', 'overlay', '--attachable', '--subnet', SWARM_SUBNET, SWARM_NET]);
      log(`  swarm up (init, join, network) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    } catch (e) {
      swarmWhy = (e as Error).message.split('\n').slice(0, 3).join(' ');
      log(`  Docker swarm overlay cannot run here: ${swarmWhy}`);
    }

    // --- containers ------------------------------------------------------------
    const va = await dockerRun(h1, 'vx-a', VX_NET);
    const vb = await dockerRun(h2, 'vx-b', VX_NET);
    await waitFor(
      `vxnet ${va.ip} -> ${vb.ip}`,
      async () => (await run(inNetns(va.ns, ['ping', '-n', '-c', '1', '-W', '1', vb.ip]))).code === 0,
      { timeoutMs: 20_000 },
    );
    let sa: Ctr | undefined;
    let sb: Ctr | undefined;
    if (!swarmWhy) {
      try {
        sa = await dockerRun(h1, 'sw-a', SWARM_NET);
        sb = await dockerRun(h2, 'sw-b', SWARM_NET);
        const [x, y] = [sa, sb];
        await waitFor(
          `swarm ${x.ip} -> ${y.ip}`,
          async () => (await run(inNetns(x.ns, ['ping', '-n', '-c', '1', '-W', '1', y.ip]))).code === 0,
          { timeoutMs: 30_000, intervalMs: 200 },
        );
      } catch (e) {
        swarmWhy = `swarm containers: ${(e as Error).message.split('\n').slice(0, 3).join(' ')}`;
        log(`  Docker swarm overlay cannot run here: ${swarmWhy}`);
        sa = sb = undefined;
      }
    }
    const mtus = `vxnet MTU ${await mtu(va.ns)}${sa ? `, swarm MTU ${await mtu(sa.ns)}` : ''}, underlay MTU ${await mtu(h1.ns, 'ul0')}`;
    log(`  ${mtus}`);
    const paths: Path[] = [
      { key: 'vxnet', label: `vxnet ${va.ip}->${vb.ip}`, clientNs: va.ns, serverNs: vb.ns, serverIp: vb.ip },
      ...(sa && sb
        ? [{ key: 'docker' as const, label: `swarm ${sa.ip}->${sb.ip}`, clientNs: sa.ns, serverNs: sb.ns, serverIp: sb.ip }]
        : []),
      { key: 'underlay', label: `underlay ${h1.ip}->${h2.ip}`, clientNs: h1.ns, serverNs: h2.ns, serverIp: h2.ip },
    ];
    const noDocker = `Docker overlay: unavailable (${swarmWhy ?? ''})`;
    if (process.env.DEVICES) await logDevices(h1, log);

    // --- (e) throughput -------------------------------------------------------
    if (sections.includes('e')) {
      log(`(e) iperf3 -t ${IPERF_SECONDS}, ${REPS} interleaved repetitions of ${paths.map((p) => p.key).join(', ')}...`);
      const tput = new Map<PathKey, { gbps: number[]; cpuPerGB: number[]; softirqPerGB: number[] }>(
        paths.map((p) => [p.key, { gbps: [], cpuPerGB: [], softirqPerGB: [] }]),
      );
      for (let r = 0; r < REPS; r++) {
        for (const p of rotate(paths, r)) {
          const x = await iperfRun({ ...p, seconds: IPERF_SECONDS, logFile: `${c.tmpDir}/iperf-${p.key}-${r}.log` });
          tput.get(p.key)!.gbps.push(x.gbps);
          tput.get(p.key)!.cpuPerGB.push(x.perGB.busy);
          tput.get(p.key)!.softirqPerGB.push(x.perGB.softirq);
        }
      }
      const m = (k: PathKey) => {
        const t = tput.get(k);
        return t ? { gbps: median(t.gbps), cpu: median(t.cpuPerGB), softirq: median(t.softirqPerGB) } : undefined;
      };
      for (const p of paths)
        log(
          `  ${p.label}: Gbit/s [${fmt(tput.get(p.key)!.gbps, 2)}] median ${m(p.key)!.gbps.toFixed(2)}; CPU s/GB [${fmt(tput.get(p.key)!.cpuPerGB, 2)}] median ${m(p.key)!.cpu.toFixed(2)}; softirq s/GB [${fmt(tput.get(p.key)!.softirqPerGB, 3)}] median ${m(p.key)!.softirq.toFixed(3)}`,
        );
      const v = m('vxnet')!;
      const u = m('underlay')!;
      const d = m('docker');
      results.push({
        name: `(e) iperf3 TCP container->container, median of ${REPS} (${mtus})`,
        value: `vxnet ${v.gbps.toFixed(2)} Gbit/s`,
        floor: `underlay ${u.gbps.toFixed(2)} Gbit/s (vxnet/underlay ${(v.gbps / u.gbps).toFixed(2)}); ${d ? `Docker overlay ${d.gbps.toFixed(2)} Gbit/s (vxnet/Docker ${(v.gbps / d.gbps).toFixed(2)})` : noDocker}`,
        target: '>= Docker overlay',
        pass: d !== undefined && v.gbps >= d.gbps,
      });
      const perGB = [
        { what: 'CPU seconds per GB moved (all CPUs, non-idle, whole machine)', key: 'cpu', digits: 2 },
        { what: 'softirq CPU-seconds per GB moved (whole machine, /proc/stat)', key: 'softirq', digits: 3 },
      ] as const;
      for (const { what, key, digits } of perGB)
        results.push({
          name: `(e) ${what}`,
          value: `vxnet ${v[key].toFixed(digits)} s/GB`,
          floor: `underlay ${u[key].toFixed(digits)} s/GB; ${d ? `Docker overlay ${d[key].toFixed(digits)} s/GB` : noDocker}`,
          target: 'none (reported)',
          pass: true,
          info: true,
        });
    }

    // --- (f) latency ----------------------------------------------------------
    if (sections.includes('f')) {
      log(`(f) ping -c 50 -i 0.01, ${REPS} interleaved repetitions...`);
      const lat = new Map<PathKey, number[]>(paths.map((p) => [p.key, []]));
      for (let r = 0; r < REPS; r++) for (const p of rotate(paths, r)) lat.get(p.key)!.push(await pingP50(p));
      for (const p of paths) log(`  ${p.label}: p50 ms [${fmt(lat.get(p.key)!, 3)}] median ${median(lat.get(p.key)!).toFixed(3)}`);
      const v = median(lat.get('vxnet')!);
      const u = median(lat.get('underlay')!);
      const d = lat.has('docker') ? median(lat.get('docker')!) : undefined;
      results.push({
        name: `(f) ping RTT p50 across hosts, median of ${REPS}x50`,
        value: `vxnet ${v.toFixed(3)} ms`,
        floor: `underlay ${u.toFixed(3)} ms; ${d !== undefined ? `Docker overlay ${d.toFixed(3)} ms` : noDocker}`,
        target: '<= Docker overlay',
        pass: d !== undefined && v <= d,
      });
    }

    // --- (g) time to first ping -----------------------------------------------
    if (sections.includes('g')) {
      const vxHalf = JSON.parse(await h2.docker!.dockerOk(['network', 'inspect', VX_NET]))[0].IPAM.Config[0].Subnet as string;
      const targets: { key: 'vxnet' | 'docker'; from: Ctr; network: string; ip: string }[] = [
        { key: 'vxnet', from: va, network: VX_NET, ip: highAddress(vxHalf) },
        ...(sa ? [{ key: 'docker' as const, from: sa, network: SWARM_NET, ip: highAddress(SWARM_SUBNET) }] : []),
      ];
      log(
        `(g) first ping after docker run on ${h2.ns}, ${FIRST_REPS} interleaved repetitions (${targets.map((t) => `${t.key} ${t.ip}`).join(', ')})...`,
      );
      const first = new Map<string, number[]>(targets.map((t) => [t.key, []]));
      const fromStart = new Map<string, number[]>(targets.map((t) => [t.key, []]));
      const fromCtr = new Map<string, number[]>(targets.map((t) => [t.key, []]));
      for (let r = 0; r < FIRST_REPS; r++) {
        for (const t of rotate(targets, r)) {
          const x = await firstPing(c, t.from, h2, t.network, t.ip, `${t.key}-new`, `${c.tmpDir}/first-${t.key}-${r}.log`, made);
          log(
            `    ${t.key} #${r + 1}: docker run took ${x.runMs.toFixed(0)} ms; first reply ${x.fromReturn.toFixed(1)} ms after it returned, ${x.fromStart.toFixed(1)} ms after it was invoked, ${x.fromCtrStart.toFixed(1)} ms after State.StartedAt (icmp_seq ${x.seq}, ${x.errors} error lines before)`,
          );
          first.get(t.key)!.push(x.fromReturn);
          fromStart.get(t.key)!.push(x.fromStart);
          fromCtr.get(t.key)!.push(x.fromCtrStart);
        }
      }
      for (const t of targets)
        log(
          `  ${t.key}: after docker run returned, ms [${fmt(first.get(t.key)!)}] median ${median(first.get(t.key)!).toFixed(1)}; after it was invoked, ms [${fmt(fromStart.get(t.key)!)}] median ${median(fromStart.get(t.key)!).toFixed(1)}; after State.StartedAt, ms [${fmt(fromCtr.get(t.key)!)}] median ${median(fromCtr.get(t.key)!).toFixed(1)}`,
        );
      const v = median(first.get('vxnet')!);
      const d = first.has('docker') ? median(first.get('docker')!) : undefined;
      results.push({
        name: `(g) docker run -d returned -> first ping reply across hosts, median of ${FIRST_REPS}`,
        value: `vxnet ${v.toFixed(1)} ms [${fmt(first.get('vxnet')!, 0)}]`,
        floor: d !== undefined ? `Docker overlay ${d.toFixed(1)} ms [${fmt(first.get('docker')!, 0)}]` : noDocker,
        target: '<= 100 ms (negative: the reply came before docker run returned)',
        pass: v <= 100,
      });
      const vs = median(fromStart.get('vxnet')!);
      const ds = fromStart.has('docker') ? median(fromStart.get('docker')!) : undefined;
      results.push({
        name: `(g) docker run -d invoked -> first ping reply across hosts, median of ${FIRST_REPS}`,
        value: `vxnet ${vs.toFixed(1)} ms [${fmt(fromStart.get('vxnet')!, 0)}]`,
        floor: ds !== undefined ? `Docker overlay ${ds.toFixed(1)} ms [${fmt(fromStart.get('docker')!, 0)}]` : noDocker,
        target: '< Docker overlay (what a user waits for: includes docker run itself)',
        pass: ds !== undefined && vs < ds,
      });
      const vc = median(fromCtr.get('vxnet')!);
      const dc = fromCtr.has('docker') ? median(fromCtr.get('docker')!) : undefined;
      results.push({
        name: `(g) container State.StartedAt -> first ping reply across hosts, median of ${FIRST_REPS}`,
        value: `vxnet ${vc.toFixed(1)} ms [${fmt(fromCtr.get('vxnet')!, 0)}]`,
        floor: dc !== undefined ? `Docker overlay ${dc.toFixed(1)} ms [${fmt(fromCtr.get('docker')!, 0)}]` : noDocker,
        target: 'none (reported)',
        pass: true,
        info: true,
      });
    }
    // --- (g) CNI: first ping after `vxnet container run` (CNI ADD) returned ----------
    if (sections.includes('g')) {
      const cniMs: number[] = [];
      for (let r = 0; r < FIRST_REPS; r++) {
        const x = await firstPingCni(c, va, h2, `${c.tmpDir}/first-cni-${r}.log`);
        log(
          `    cni #${r + 1}: ${x.ip}: container run took ${x.runMs.toFixed(0)} ms; first reply ${x.fromReturn.toFixed(1)} ms after it returned`,
        );
        cniMs.push(x.fromReturn);
      }
      const v = median(cniMs);
      results.push({
        name: `(g) vxnet container run (CNI ADD) returned -> first ping reply across hosts, median of ${FIRST_REPS}`,
        value: `vxnet ${v.toFixed(1)} ms [${fmt(cniMs, 0)}]`,
        floor: 'ping every 10 ms from a Docker container on the other host, default sysctls',
        target: '<= 100 ms',
        pass: v <= 100,
      });
    }
  } finally {
    // Names of container netns first, then our containers, then leave the swarm; the teardown does the rest.
    for (const ns of attached) await run(['ip', 'netns', 'del', ns]);
    for (const { host, name } of made) await host.docker?.docker(['rm', '-f', name], { timeoutMs: 60_000 });
    for (const h of [...swarmHosts].reverse()) {
      const r = await h.docker!.docker(['swarm', 'leave', '--force'], { timeoutMs: 60_000 });
      if (r.code !== 0 && !/not part of a swarm/.test(r.stderr)) log(`  docker swarm leave on ${h.ns}: ${r.stderr.trim()}`);
    }
    swarmHosts = [];
    await c.teardown();
    const left = await waitFor('nothing left behind', async () => ((await c.leftovers()).length === 0 ? [] : undefined), {
      timeoutMs: 20_000,
    }).catch(async () => c.leftovers());
    if (left.length) log(`  left behind: ${left.join(', ')}`);
  }
}

/**
 * From `from`'s netns, `ping -D -i 0.01` the address `ip` before the container
 * exists; `docker run -d --ip ip` on host h; the first reply's timestamp minus
 * the moment docker run returned. Every neighbour entry for `ip` outside the
 * engines (the pinging container and both hosts; permanent ones are kept) is
 * flushed first, so each repetition meets the address for the first time (the
 * address is reused, and both networks derive a container's MAC from its
 * address, so a left-over entry would skip ARP).
 */
async function firstPing(
  c: Cluster,
  from: Ctr,
  h: Host,
  network: string,
  ip: string,
  name: string,
  logFile: string,
  made: { host: Host; name: string }[],
): Promise<FirstPing> {
  for (const ns of [from.ns, ...c.hosts.map((x) => x.ns)]) await run(['ip', '-n', ns, 'neigh', 'flush', 'to', ip]);
  const pinger = startProcess(`ping-${name}`, inNetns(from.ns, ['ping', '-n', '-D', '-i', '0.01', '-W', '1', ip]), logFile);
  made.push({ host: h, name });
  try {
    await waitFor(
      'ping to start',
      () => pinger.log().includes('PING') || (pinger.isRunning() ? undefined : Promise.reject(new Error(pinger.log()))),
      { timeoutMs: 5_000, intervalMs: 10 },
    );
    await sleep(200);
    // The address may still be held a moment after the previous rm (swarm's IPAM is the manager's).
    let started = 0;
    let returned = 0;
    await waitFor(
      `docker run --ip ${ip} on ${network}`,
      async () => {
        started = nowMs();
        const r = await h.docker!.docker(['run', '-d', '--name', name, '--network', network, '--ip', ip, BUSYBOX_IMAGE, 'sleep', '3600']);
        returned = nowMs();
        if (r.code === 0) return true;
        await h.docker!.docker(['rm', '-f', name]);
        if (!/already in use|no available ip|address.*(in use|allocated)/i.test(r.stderr))
          throw new WaitAborted(`docker run on ${network} failed: ${r.stderr.trim()}`);
        return false;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    const first = await waitFor(
      `a reply from ${ip}`,
      () => {
        const m = pinger.log().match(new RegExp(`^\\[(\\d+\\.\\d+)\\] \\d+ bytes from ${ip.replace(/\./g, '\\.')}: icmp_seq=(\\d+)`, 'm'));
        return m ? { at: Number(m[1]) * 1000, seq: Number(m[2]) } : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 10 },
    );
    const lines = pinger.log().split('\n');
    const errors = lines
      .slice(
        0,
        lines.findIndex((l) => l.includes(`from ${ip}: icmp_seq=${first.seq} `)),
      )
      .filter((l) => / From /.test(l)).length;
    // The container's start as dockerd records it (after its network is set up, when its process starts).
    const startedAt = (await h.docker!.dockerOk(['inspect', '-f', '{{.State.StartedAt}}', name])).trim();
    const frac = startedAt.match(/\.(\d+)Z$/)?.[1] ?? '0';
    const ctrStart = Date.parse(startedAt.replace(/\.\d+Z$/, 'Z')) + Number(`0.${frac}`) * 1000;
    return {
      fromReturn: first.at - returned,
      fromStart: first.at - started,
      fromCtrStart: first.at - ctrStart,
      runMs: returned - started,
      seq: first.seq,
      errors,
    };
  } finally {
    await stopProcess(pinger);
    await h.docker!.docker(['rm', '-f', name], { timeoutMs: 60_000 });
  }
}

/** The address host-local hands out next on host h's dcos-1 (round robin after the last one it reserved). */
function nextCniAddress(h: Host): string {
  const dir = join(h.stateDir, 'ipam', VX_NET);
  const last = existsSync(join(dir, 'last_reserved_ip.0')) ? readFileSync(join(dir, 'last_reserved_ip.0'), 'utf8').trim() : undefined;
  if (!last) throw new Error(`no host-local state in ${dir} yet`);
  const o = last.split('.').map(Number);
  return `${o[0]}.${o[1]}.${o[2]}.${o[3]! + 1}`;
}

/**
 * As firstPing, for a CNI container (vxnet's runtime, the reference plugins):
 * ping the address host-local will hand out next, then `vxnet container run`
 * on host h; the first reply's timestamp minus the moment the command returned.
 */
async function firstPingCni(c: Cluster, from: Ctr, h: Host, logFile: string): Promise<{ ip: string; fromReturn: number; runMs: number }> {
  const name = c.names.container(`fp${Math.floor(Math.random() * 1e6)}`);
  // One container first, so host-local has state to predict from.
  if (!existsSync(join(h.stateDir, 'ipam', VX_NET, 'last_reserved_ip.0'))) {
    await c.runContainer(h, name, VX_NET, ['sleep', '5']);
    await c.removeContainer(h, name);
  }
  const ip = nextCniAddress(h);
  for (const ns of [from.ns, ...c.hosts.map((x) => x.ns)]) await run(['ip', '-n', ns, 'neigh', 'flush', 'to', ip]);
  const pinger = startProcess(`ping-${name}`, inNetns(from.ns, ['ping', '-n', '-D', '-i', '0.01', '-W', '1', ip]), logFile);
  try {
    await waitFor('ping to start', () => pinger.log().includes('PING') || undefined, { timeoutMs: 5_000, intervalMs: 10 });
    await sleep(200);
    const started = nowMs();
    const got = await c.runContainer(h, name, VX_NET, ['sleep', '3600']);
    const returned = nowMs();
    if (got !== ip) throw new Error(`host-local gave ${got}, not the predicted ${ip}`);
    const first = await waitFor(
      `a reply from ${ip}`,
      () => {
        const m = pinger.log().match(new RegExp(`^\\[(\\d+\\.\\d+)\\] \\d+ bytes from ${ip.replace(/\./g, '\\.')}: icmp_seq=`, 'm'));
        return m ? Number(m[1]) * 1000 : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 10 },
    );
    return { ip, fromReturn: first - returned, runMs: returned - started };
  } finally {
    await stopProcess(pinger);
    await c.removeContainer(h, name).catch(() => undefined);
  }
}

const OFFLOADS =
  /^(rx-checksumming|tx-checksum-ip-generic|generic-receive-offload|rx-gro-list|rx-udp-gro-forwarding|tx-udp_tnl[^:]*|tcp-segmentation-offload):/;

/** `ip -d link` and the offloads that matter of a device, from argv prefix `enter` (a namespace). */
async function describeDevice(enter: string[], dev: string): Promise<string> {
  const link = (await run([...enter, 'ip', '-d', 'link', 'show', dev])).stdout.trim();
  const k = (await run([...enter, 'ethtool', '-k', dev])).stdout;
  const offloads = k
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => OFFLOADS.test(l))
    .join('; ');
  return `${link}\n      ${offloads}`;
}

/**
 * DEVICES=1: vxnet's and the swarm overlay's devices on host 1 side by side
 * (the swarm's vxlan device and bridge live in a namespace of dockerd's,
 * `<exec-root>/netns/1-<network id>`, seen only in the engine's mount
 * namespace), and each host namespace's nftables/iptables rules.
 */
async function logDevices(h: Host, log: (s: string) => void): Promise<void> {
  const host = ['ip', 'netns', 'exec', h.ns];
  log('  --- vxnet devices (host 1)');
  for (const dev of ['vtep1024', 'ul0']) log(`    ${await describeDevice(host, dev)}`);
  const mnt = h.engines?.mnt.file;
  const execRoot = h.docker?.execRoot;
  if (mnt && execRoot) {
    const inMnt = ['nsenter', `--mount=${mnt}`, '--'];
    const ls = await run([...inMnt, 'ls', join(execRoot, 'netns')]);
    for (const f of ls.stdout.split('\n').filter((x) => /^1-/.test(x))) {
      const enter = [...inMnt, 'nsenter', `--net=${join(execRoot, 'netns', f)}`, '--'];
      const links = JSON.parse((await run([...enter, 'ip', '-j', '-d', 'link', 'show'])).stdout || '[]') as {
        ifname: string;
        linkinfo?: { info_kind?: string };
      }[];
      log(`  --- swarm overlay namespace ${f}: ${links.map((l) => `${l.ifname}(${l.linkinfo?.info_kind ?? '-'})`).join(' ')}`);
      for (const l of links.filter((x) => ['vxlan', 'bridge', 'veth'].includes(x.linkinfo?.info_kind ?? '')))
        log(`    ${await describeDevice(enter, l.ifname)}`);
      log(`    nft in ${f}: ${(await run([...enter, 'nft', 'list', 'ruleset'])).stdout.trim() || '(none)'}`);
    }
  }
  log(`  --- host 1 nft ruleset:\n${(await run([...host, 'nft', 'list', 'ruleset'])).stdout}`);
}
