// npm run bench:datapath — issue 10, data path: what the kernel's knobs give
// vxnet's overlay. On a 2-host cluster (agents stopped once the containers
// reach each other: the data plane stays, and nothing re-programs it under
// the bench), each experiment is timed interleaved against the unchanged
// path: underlay, overlay as is, overlay with the change, over RUNS rounds
// (median). Every run also gives softirq CPU-seconds per GB (/proc/stat).
// EXPERIMENTS picks by the first word of a name (default: every experiment
// below, without the diagnostics): no-conntrack, rps-vtep, rps-bridge-ports,
// rps-container, udpcsum-flip, gro-veth, gro-underlay, udp-gro-forwarding,
// gro-list, gro-off, notrack, notrack-inner; diagnostics: probe (device
// settings, nftables, conntrack entries), skb (packets per device per run),
// perf (the top kernel symbols per path), cpus (how busy each CPU was).
//   EXPERIMENTS=notrack,gro-list   MTUS=1500,9000   RUNS=5
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { VXLAN_PORT } from '../src/api/types.js';
import { type Cluster, type Host, ping, run, runOk, startCluster, startProcess, waitFor } from '../src/testbed/index.js';
import { iperfRun } from './iperf.js';

const nproc = () => availableParallelism();
const RUNS = Number(process.env.RUNS ?? 5);
const MTUS = (process.env.MTUS ?? '1500,9000').split(',').map(Number);
const log = (s: string) => process.stdout.write(`${s}\n`);
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

interface Env {
  c: Cluster;
  h: [Host, Host];
  /** Container namespaces and the server container's IP. */
  a: string;
  b: string;
  ipB: string;
  port: number;
}

interface Experiment {
  name: string;
  apply(e: Env): Promise<void>;
  revert(e: Env): Promise<void>;
}

/** Host-side veths of containers, by bridge. */
async function portsOf(ns: string, bridge: string): Promise<string[]> {
  const links = JSON.parse(await runOk(['ip', '-n', ns, '-j', 'link', 'show', 'master', bridge])) as { ifname: string }[];
  return links.map((l) => l.ifname);
}

const ethtool = (ns: string, dev: string, ...kv: string[]) => runOk(['ip', 'netns', 'exec', ns, 'ethtool', '-K', dev, ...kv]);

async function forEachHostDev(e: Env, devs: (h: Host) => Promise<string[]>, f: (ns: string, dev: string) => Promise<unknown>) {
  for (const h of e.h) for (const d of await devs(h)) await f(h.ns, d);
}
const containerVeths = (h: Host) => portsOf(h.ns, 'm-dcos-1');

function ethtoolExperiment(name: string, devs: (e: Env, h: Host) => Promise<string[]>, on: string[], off: string[]): Experiment {
  return {
    name,
    apply: (e) =>
      forEachHostDev(
        e,
        (h) => devs(e, h),
        (ns, d) => ethtool(ns, d, ...on),
      ),
    revert: (e) =>
      forEachHostDev(
        e,
        (h) => devs(e, h),
        (ns, d) => ethtool(ns, d, ...off),
      ),
  };
}

/** A table of the bench's own, so vxnet's table is left as the agent made it. */
const BENCH_TABLE = 'vxnetbench';
function notrackScript(port: number, inner: boolean): string {
  const rules = [`udp dport ${port} notrack`];
  if (inner) rules.push('ip saddr 10.0.0.0/8 ip daddr 10.0.0.0/8 notrack');
  return (
    `table ip ${BENCH_TABLE} {\n` +
    `  chain pre { type filter hook prerouting priority raw; policy accept;\n    ${rules.join('\n    ')}\n  }\n` +
    `  chain out { type filter hook output priority raw; policy accept;\n    ${rules.join('\n    ')}\n  }\n}\n`
  );
}
function nftExperiment(name: string, inner: boolean): Experiment {
  return {
    name,
    apply: async (e) => {
      for (const h of e.h) await runOk(['ip', 'netns', 'exec', h.ns, 'nft', '-f', '-'], { input: notrackScript(e.port, inner) });
    },
    revert: async (e) => {
      for (const h of e.h) await run(['ip', 'netns', 'exec', h.ns, 'nft', 'delete', 'table', 'ip', BENCH_TABLE]);
    },
  };
}

/**
 * vtep1024 made again with other vxlan flags (the kernel refuses to change
 * the checksum flags in place), with its address, neighbours, FDB and routes.
 */
async function remakeVtep(ns: string, flags: string[]): Promise<void> {
  const j = async <T>(argv: string[]) => JSON.parse(await runOk(['ip', '-n', ns, '-j', ...argv])) as T;
  const [link] = await j<{ address: string; mtu: number; linkinfo: { info_data: { id: number; local: string; port: number } } }[]>([
    '-d',
    'link',
    'show',
    'vtep1024',
  ]);
  const [addr] = await j<{ addr_info: { family: string; local: string; prefixlen: number }[] }[]>(['addr', 'show', 'dev', 'vtep1024']);
  const neigh = await j<{ dst: string; lladdr: string }[]>(['neigh', 'show', 'dev', 'vtep1024', 'nud', 'permanent']);
  const routes = await j<{ dst: string; gateway: string }[]>(['route', 'show', 'proto', '177']);
  const fdb = (
    JSON.parse(await runOk(['bridge', '-n', ns, '-j', 'fdb', 'show', 'dev', 'vtep1024'])) as { mac: string; dst?: string }[]
  ).filter((f) => f.dst);
  const d = link!.linkinfo.info_data;
  const lines = [
    'link del dev vtep1024',
    `link add name vtep1024 address ${link!.address} mtu ${link!.mtu} type vxlan id ${d.id} dstport ${d.port} local ${d.local} dev ul0 nolearning ${flags.join(' ')}`,
    'link set dev vtep1024 alias vxnet up',
    ...addr!.addr_info.filter((a) => a.family === 'inet').map((a) => `addr add ${a.local}/${a.prefixlen} dev vtep1024`),
    ...neigh.map((n) => `neigh replace ${n.dst} lladdr ${n.lladdr} dev vtep1024 nud permanent`),
    ...routes.map((r) => `route replace ${r.dst} via ${r.gateway} dev vtep1024 onlink proto 177`),
  ];
  await runOk(['ip', '-n', ns, '-batch', '-'], { input: `${lines.join('\n')}\n` });
  const fdbLines = fdb.map((f) => `fdb append ${f.mac} dev vtep1024 dst ${f.dst} self permanent`);
  await runOk(['bridge', '-n', ns, '-batch', '-'], { input: `${fdbLines.join('\n')}\n` });
}
/** The VTEP's outer UDP checksum flipped from what the agent made, and back. */
function udpCsumExperiment(): Experiment {
  const was = new Map<string, boolean>();
  const csum = async (ns: string) => {
    const [l] = JSON.parse(await runOk(['ip', '-n', ns, '-j', '-d', 'link', 'show', 'vtep1024'])) as {
      linkinfo: { info_data: { udp_csum?: boolean } };
    }[];
    return l!.linkinfo.info_data.udp_csum === true;
  };
  const flag = (on: boolean) => [on ? 'udpcsum' : 'noudpcsum'];
  return {
    name: "udpcsum-flip (vtep1024: agent's setting vs the other)",
    apply: async (e) => {
      for (const h of e.h) {
        const on = await csum(h.ns);
        if (!was.has(h.ns)) log(`    agent made vtep1024 with ${flag(on)[0]}`);
        was.set(h.ns, on);
        await remakeVtep(h.ns, flag(!on));
      }
    },
    revert: async (e) => {
      for (const h of e.h) await remakeVtep(h.ns, flag(was.get(h.ns)!));
    },
  };
}

/** Writes a sysfs file of a host namespace's own /sys (ip netns exec mounts it). */
const sysfsWrite = (ns: string, file: string, value: string) => runOk(['ip', 'netns', 'exec', ns, 'tee', file], { input: `${value}\n` });

/**
 * RPS on a device's receive queue: the packets it receives are handed on to
 * another CPU, so the receiving host's work (the inner forward, the bridge and
 * the container's TCP receive) is not done by the CPU that sends.
 */
function rpsExperiment(name: string, devs: (e: Env) => Promise<[ns: string, dev: string][]>): Experiment {
  const all = ((1 << Math.min(nproc(), 31)) - 1).toString(16);
  const set = async (e: Env, mask: string) => {
    for (const [ns, d] of await devs(e)) await sysfsWrite(ns, `/sys/class/net/${d}/queues/rx-0/rps_cpus`, mask);
  };
  return { name, apply: (e) => set(e, all), revert: (e) => set(e, '0') };
}
const onHosts = (devs: (h: Host) => Promise<string[]>) => async (e: Env) =>
  (await Promise.all(e.h.map(async (h) => (await devs(h)).map((d): [string, string] => [h.ns, d])))).flat();

/**
 * vxnet's nat table taken away and put back: with no rule that needs it, the
 * kernel stops tracking connections in the host namespace, so this is the
 * most that conntrack costs the path (the underlay run keeps it).
 */
function withoutNatExperiment(): Experiment {
  const saved = new Map<string, string>();
  return {
    name: 'no-conntrack (vxnet nat table removed)',
    apply: async (e) => {
      for (const h of e.h) {
        saved.set(h.ns, await runOk(['ip', 'netns', 'exec', h.ns, 'nft', 'list', 'table', 'ip', 'vxnet']));
        await runOk(['ip', 'netns', 'exec', h.ns, 'nft', 'delete', 'table', 'ip', 'vxnet']);
      }
    },
    revert: async (e) => {
      for (const h of e.h) await runOk(['ip', 'netns', 'exec', h.ns, 'nft', '-f', '-'], { input: saved.get(h.ns)! });
    },
  };
}

const EXPERIMENTS: Experiment[] = [
  withoutNatExperiment(),
  rpsExperiment(
    'rps-vtep (vtep1024)',
    onHosts(async () => ['vtep1024']),
  ),
  rpsExperiment('rps-bridge-ports (container veths, host side)', onHosts(containerVeths)),
  rpsExperiment('rps-container (eth0 in both containers)', async (e) => [
    [e.a, 'eth0'],
    [e.b, 'eth0'],
  ]),
  udpCsumExperiment(),
  ethtoolExperiment('gro-veth (container veths, host side)', async (_e, h) => containerVeths(h), ['gro', 'on'], ['gro', 'off']),
  ethtoolExperiment('gro-underlay (ul0)', async () => ['ul0'], ['gro', 'on'], ['gro', 'off']),
  ethtoolExperiment(
    'udp-gro-forwarding (ul0)',
    async () => ['ul0'],
    ['gro', 'on', 'rx-udp-gro-forwarding', 'on'],
    ['gro', 'off', 'rx-udp-gro-forwarding', 'off'],
  ),
  ethtoolExperiment('gro-list (ul0)', async () => ['ul0'], ['gro', 'on', 'rx-gro-list', 'on'], ['gro', 'off', 'rx-gro-list', 'off']),
  ethtoolExperiment('gro-off (vtep1024)', async () => ['vtep1024'], ['gro', 'off'], ['gro', 'on']),
  nftExperiment('notrack (VXLAN port)', false),
  nftExperiment('notrack-inner (VXLAN port + overlay<->overlay)', true),
];

async function probe(e: Env): Promise<void> {
  for (const dev of ['ul0', 'vtep1024', 'm-dcos-1', ...(await containerVeths(e.h[0]))]) {
    log(`  --- ${dev}: ip -d link`);
    log((await runOk(['ip', '-n', e.h[0].ns, '-d', 'link', 'show', dev])).trim());
    const k = await runOk(['ip', 'netns', 'exec', e.h[0].ns, 'ethtool', '-k', dev]);
    log(
      k
        .split('\n')
        .filter((l) => /gro|gso|tx-checksum-ip-generic|rx-checksum|udp|scatter|tcp-seg|generic/.test(l))
        .join('\n'),
    );
  }
  log('  --- nft list ruleset (host 1)');
  log(await runOk(['ip', 'netns', 'exec', e.h[0].ns, 'nft', 'list', 'ruleset']));
  log('  --- conntrack entries for the VXLAN port during a 1 s iperf (host 1)');
  const pending = iperfRun({ serverNs: e.b, serverIp: e.ipB, clientNs: e.a, seconds: 2, logFile: `${e.c.tmpDir}/iperf.log` });
  await new Promise((r) => setTimeout(r, 1000));
  const ct = (await run(['ip', 'netns', 'exec', e.h[0].ns, 'cat', '/proc/net/nf_conntrack'])).stdout;
  log(
    ct
      .split('\n')
      .filter((l) => l.includes(`dport=${e.port}`) || l.includes('dport=5201'))
      .join('\n') || '  (none)',
  );
  await pending;
}

/** tx/rx packets of each device of host ns (in `ip -s -j link`). */
async function packetCounts(ns: string): Promise<Map<string, { tx: number; rx: number }>> {
  const links = JSON.parse(await runOk(['ip', '-n', ns, '-s', '-j', 'link', 'show'])) as {
    ifname: string;
    stats64: { rx: { packets: number }; tx: { packets: number } };
  }[];
  return new Map(links.map((l) => [l.ifname, { tx: l.stats64.tx.packets, rx: l.stats64.rx.packets }]));
}

/**
 * Average skb size per device (bytes moved / packets counted) for one run of
 * each path: 64 KB means GSO/GRO super-packets survive the hop, ~MTU means
 * every segment is handled on its own. Host 1 sends, host 2 receives.
 */
async function skbSizes(e: Env): Promise<void> {
  for (const which of ['underlay', 'overlay'] as const) {
    const before = await Promise.all(e.h.map((h) => packetCounts(h.ns)));
    const r = await measure(e, which);
    const after = await Promise.all(e.h.map((h) => packetCounts(h.ns)));
    const bytes = (r.gbps * 1e9 * 3) / 8;
    const parts = e.h.flatMap((_h, k) =>
      [...after[k]!].flatMap(([dev, a]) => {
        const b = before[k]!.get(dev);
        if (!b || dev === 'lo') return [];
        const tx = a.tx - b.tx;
        const rx = a.rx - b.rx;
        if (tx + rx < 100) return [];
        return [`h${k + 1} ${dev} tx ${tx} (${(bytes / Math.max(tx, 1) / 1024).toFixed(1)} KB/pkt) rx ${rx}`];
      }),
    );
    log(`  ${which} ${r.gbps.toFixed(2)} Gbit/s, softirq ${r.softirq.toFixed(3)} s/GB: ${parts.join('; ')}`);
  }
}

/** Per-CPU ticks from /proc/stat: busy (all but idle and iowait) and softirq. */
function perCpu(): { busy: number; softirq: number }[] {
  return readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .filter((l) => /^cpu\d+ /.test(l))
    .map((l) => {
      const f = l.trim().split(/\s+/).slice(1).map(Number);
      const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
      return { busy: user + nice + system + irq + softirq + steal, softirq };
    });
}

/** How busy each CPU was during one run of each path: is one CPU the bound? */
async function cpuSplit(e: Env): Promise<void> {
  for (const which of ['underlay', 'overlay'] as const) {
    const before = perCpu();
    const t0 = performance.now();
    const r = await measure(e, which);
    const ticks = ((performance.now() - t0) / 1000) * 100;
    const after = perCpu();
    const parts = after.map((a, i) => {
      const b = before[i]!;
      return `cpu${i} busy ${((100 * (a.busy - b.busy)) / ticks).toFixed(0)} % (softirq ${((100 * (a.softirq - b.softirq)) / ticks).toFixed(0)} %)`;
    });
    log(`  ${which} ${r.gbps.toFixed(2)} Gbit/s: ${parts.join(', ')}`);
  }
}

/**
 * `perf record -a` (no call graphs) over one run of each path: the kernel
 * symbols with the most samples, to say where the overlay's extra CPU goes.
 */
async function profile(e: Env): Promise<void> {
  for (const which of ['underlay', 'overlay'] as const) {
    const data = `${e.c.tmpDir}/perf-${which}.data`;
    const rec = startProcess('perf', ['perf', 'record', '-a', '-q', '-o', data, '--', 'sleep', '3.5'], `${e.c.tmpDir}/perf.log`);
    const r = await measure(e, which);
    await waitFor('perf record to end', () => !rec.isRunning(), { timeoutMs: 20_000, intervalMs: 100 });
    const rep = await runOk(['perf', 'report', '-i', data, '--stdio', '--no-children', '--sort', 'sym', '--percent-limit', '1.2'], {
      timeoutMs: 120_000,
    });
    const top = rep
      .split('\n')
      .filter((l) => /^\s+\d/.test(l))
      .map((l) => l.trim().replace(/\s+/g, ' '));
    log(`  --- ${which} ${r.gbps.toFixed(2)} Gbit/s, softirq ${r.softirq.toFixed(3)} s/GB; perf top symbols:\n    ${top.join('\n    ')}`);
  }
}

async function measure(e: Env, which: 'underlay' | 'overlay') {
  const [h1, h2] = e.h;
  const p =
    which === 'underlay' ? { serverNs: h2.ns, serverIp: h2.ip, clientNs: h1.ns } : { serverNs: e.b, serverIp: e.ipB, clientNs: e.a };
  const r = await iperfRun({ ...p, seconds: 3, logFile: `${e.c.tmpDir}/iperf.log` });
  return { gbps: r.gbps, softirq: r.perGB.softirq, busy: r.perGB.busy };
}

type M = Awaited<ReturnType<typeof measure>>;
const summary = (xs: M[]) =>
  `${median(xs.map((x) => x.gbps)).toFixed(2)} Gbit/s, softirq ${median(xs.map((x) => x.softirq)).toFixed(3)} s/GB, busy ${median(xs.map((x) => x.busy)).toFixed(3)} s/GB`;

async function experiment(e: Env, x: Experiment): Promise<string> {
  const u: M[] = [];
  const base: M[] = [];
  const changed: M[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      // Odd rounds time the change first, so neither side always follows the underlay run.
      u.push(await measure(e, 'underlay'));
      if (i % 2 === 0) base.push(await measure(e, 'overlay'));
      await x.apply(e);
      try {
        if (!(await ping(e.a, e.ipB))) throw new Error('no ping with the change');
        changed.push(await measure(e, 'overlay'));
      } finally {
        await x.revert(e);
      }
      if (i % 2 === 1) base.push(await measure(e, 'overlay'));
    }
  } catch (err) {
    return `${x.name}: failed: ${(err as Error).message.split('\n')[0]}`;
  }
  const ratio = (xs: M[]) => median(xs.map((m, i) => m.gbps / u[i]!.gbps));
  return (
    `${x.name}:\n    underlay  ${summary(u)}\n    unchanged ${summary(base)} (${(100 * ratio(base)).toFixed(0)} %)` +
    `\n    changed   ${summary(changed)} (${(100 * ratio(changed)).toFixed(0)} %)` +
    `\n    per run Gbit/s unchanged/changed: ${base.map((m, i) => `${m.gbps.toFixed(2)}/${changed[i]!.gbps.toFixed(2)}`).join(' ')}`
  );
}

async function atMtu(underlayMtu: number, wanted: (n: string) => boolean): Promise<string[]> {
  const c = await startCluster({ hosts: 2, underlayMtu, agentArgs: ['--mtu', String(underlayMtu - 50)] });
  const out: string[] = [];
  try {
    await c.waitAllOk(30_000);
    const h: [Host, Host] = [c.hosts[0]!, c.hosts[1]!];
    const a = c.names.container('dpa');
    const b = c.names.container('dpb');
    await c.runContainer(h[0], a, 'dcos-1');
    const ipB = await c.runContainer(h[1], b, 'dcos-1');
    if (!(await ping(a, ipB))) throw new Error('containers cannot reach each other');
    for (const x of h) await c.stopAgent(x);
    const e: Env = { c, h, a, b, ipB, port: VXLAN_PORT };
    if (wanted('probe')) await probe(e);
    if (wanted('skb')) for (let i = 0; i < 3; i++) await skbSizes(e);
    if (wanted('perf')) await profile(e);
    if (wanted('cpus')) for (let i = 0; i < 3; i++) await cpuSplit(e);
    for (const x of EXPERIMENTS) {
      if (!wanted(x.name.split(' ')[0]!)) continue;
      log(`  ${x.name}...`);
      const line = await experiment(e, x);
      log(`  ${line}`);
      out.push(`MTU ${underlayMtu} ${line}`);
    }
  } finally {
    await c.teardown();
  }
  return out;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench:datapath must run as root (it builds network namespaces)');
  const only = (process.env.EXPERIMENTS ?? '').split(',').filter(Boolean);
  const diagnostics = ['probe', 'skb', 'perf', 'cpus'];
  const wanted = (n: string) => only.includes(n) || (only.length === 0 && !diagnostics.includes(n));
  const lines: string[] = [];
  for (const mtu of MTUS) {
    log(`underlay MTU ${mtu}, ${RUNS} rounds of (underlay, overlay, overlay changed)...`);
    lines.push(...(await atMtu(mtu, wanted)));
  }
  log('');
  for (const l of lines) log(l);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:datapath: ${(e as Error).stack}\n`);
  process.exitCode = 1;
});
