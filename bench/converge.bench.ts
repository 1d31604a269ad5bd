// npm run bench:converge — issue 10 (l): convergence on 50 hosts, 50 real
// agents on this machine. Root only; everything is removed at the end, also
// on a thrown error or Ctrl-C (the test bed's teardown).
//
// A change is made at the master and timed until EVERY host's kernel has it,
// as `ip -ts monitor route neigh` in each host namespace prints it (the
// kernel-side time, not the agent's word):
//   join:  POST /overlay-master/agents for a new host -> its routes (one per
//          overlay), its VTEP neighbour and its FDB entry on all hosts;
//   leave: POST /overlay-master/agents/delete -> all of those gone everywhere.
// Two floors, interleaved with the real events (join, floors, leave, floors):
// the same four entries written into every namespace (a) by fresh
// `ip -batch` + `bridge -batch` processes, what 50 agents exec, without
// master, watch or planning ("exec floor"), and (b) as lines into an
// `ip`/`bridge -batch` already running in each namespace, no fork at all
// ("kernel floor"); both seen by the same monitors.
// Split: the bench's own watch client timestamps the master's event, so
// master (POST to event) and agents (event to kernel) are reported apart.
//   BENCH_REPS (20) events of each kind; BENCH_HOSTS (50); VXNET_CLI pins a
//   private build while others rebuild dist/ (src/testbed/README.md).
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import type { AgentInfo } from '../src/api/types.js';
import { convergedAt, peerMatches, spread, type LineMatch, type PeerMarks, type Spread } from '../src/testbed/converge.js';
import { batchWriters, watchKernels, type BatchWriters, type KernelWatch } from '../src/testbed/kernel-watch.js';
import { pool, run, runOk, sleep, startCluster, waitFor, type Cluster } from '../src/testbed/index.js';
import { followWatch } from './watch-stream.js';

const HOSTS = Number(process.env.BENCH_HOSTS ?? 50);
const REPS = Math.min(99, Number(process.env.BENCH_REPS ?? 20));
const VTEP = 'vtep1024';
const FLOOR_DEV = 'vxflr';
const log = (s: string) => process.stdout.write(`${s}\n`);
const ms = (n: number) => `${n.toFixed(0)} ms`;
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** First time (epoch ms) the master's watch said something about each IP since the last mark. */
function watchClient(url: string, signal: AbortSignal): { seen: Map<string, number>; ready: Promise<void> } {
  const seen = new Map<string, number>();
  const ready = followWatch(url, signal, (ev, at) => {
    const ip = ev.type === 'put' ? ev.agent.ip : ev.type === 'delete' ? ev.ip : undefined;
    if (ip && !seen.has(ip)) seen.set(ip, at.wall);
  }).catch(() => undefined);
  return { seen, ready };
}

async function post(url: string, body: unknown): Promise<unknown> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`POST ${url}: ${res.status} ${await res.text()}`);
  return res.json();
}

function marksOf(a: AgentInfo): PeerMarks {
  const vx = a.overlays[0]?.backend.vxlan;
  if (!vx) throw new Error(`registration of ${a.ip} has no VXLAN backend`);
  return {
    underlayIp: a.ip,
    vtepIp: vx.vtep_ip.split('/')[0]!,
    vtepMac: vx.vtep_mac,
    subnets: a.overlays.flatMap((o) => (o.subnet ? [o.subnet] : [])),
  };
}

interface Sample {
  /** Per host: kernel time minus t0. */
  perHost: number[];
  /** Master's watch event minus t0 (real events only). */
  masterMs?: number;
  /** CPU the agents (with their ip/bridge children) spent from t0 to the last host, idle share included. */
  agentCpuMs?: number;
}

/**
 * Marks the monitors, makes the change at t0 (`act` answers what to look for)
 * and waits until every namespace printed all of it; per host, the time after t0.
 */
async function timed(
  c: Cluster,
  kw: KernelWatch,
  what: string,
  act: () => Promise<LineMatch[]>,
): Promise<{ t0: number; perHost: number[] }> {
  kw.mark();
  const t0 = Date.now();
  const matches = await act();
  const namespaces = c.hosts.map((h) => h.ns);
  try {
    const perHost = await waitFor(
      what,
      () => {
        const at = namespaces.map((ns) => convergedAt(kw.lines(ns), matches));
        return at.every((t) => t !== undefined) ? at.map((t) => t! - t0) : undefined;
      },
      // ip stamps the lines itself: the poll interval does not change the figure.
      { timeoutMs: 30_000, intervalMs: 50 },
    );
    return { t0, perHost };
  } catch (e) {
    const missing = namespaces.filter((ns) => convergedAt(kw.lines(ns), matches) === undefined);
    const sample = missing[0] ? kw.lines(missing[0]).map((l) => l.text) : [];
    throw new Error(
      `${(e as Error).message}\n${missing.length} hosts missing, e.g. ${missing[0]}; its lines:\n${sample.slice(-20).join('\n')}`,
    );
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench:converge must run as root (it builds network namespaces)');
  log(`(l) convergence on ${HOSTS} hosts, ${REPS} joins and leaves, each beside a floor...`);
  const c = await startCluster({ hosts: HOSTS, startAgents: false });
  const abort = new AbortController();
  let kw: KernelWatch | undefined;
  let writers: BatchWriters | undefined;
  try {
    const t = Date.now();
    for (const h of c.hosts) await c.startAgent(h);
    await c.waitAllOk(300_000);
    log(`  ${HOSTS} agents OK after ${ms(Date.now() - t)}`);
    // A floor device per host, beside the agent's (which leaves other devices alone).
    await pool(c.hosts, 8, (h) =>
      runOk(['ip', '-n', h.ns, 'link', 'add', FLOOR_DEV, 'up', 'type', 'vxlan', 'id', '4000', 'dstport', '64001', 'nolearning']),
    );
    await sleep(3_000); // status reports and their watch echoes settle
    const idle = await idleLoad(
      c.hosts.map((h) => h.agent!.pid),
      Number(process.env.BENCH_IDLE_MS ?? 10_000),
    );
    log(
      `  idle, before any event: the ${HOSTS} agents (with their ip/bridge children) use ${idle.agentCores.toFixed(2)} cores; the machine is ${idle.busyCores.toFixed(2)} of ${idle.cores} cores busy (everything on it), ${idle.forksPerSecond.toFixed(0)} forks/s`,
    );
    const watcher = await watchKernels(c.hosts.map((h) => h.ns));
    kw = watcher;
    const watch = watchClient(c.localMasterUrl, abort.signal);
    await watch.ready;

    const w = batchWriters(c.hosts.map((h) => h.ns));
    writers = w;
    const real: Record<Kind, Sample[]> = { join: [], leave: [] };
    const exec: Record<Kind, Sample[]> = { join: [], leave: [] };
    const kernel: Record<Kind, Sample[]> = { join: [], leave: [] };
    for (let rep = 0; rep < REPS; rep++) {
      // join: a host registers at the master.
      const ip = `${c.underlay.net}.${100 + rep}`;
      let peer: PeerMarks | undefined;
      watch.seen.delete(ip);
      const agentPids = c.hosts.map((h) => h.agent!.pid);
      const cpu0 = sumCpu(agentPids);
      const join = await timed(c, watcher, `${ip} programmed on every host`, async () => {
        const body = { ip, network_config: { allocate_subnet: true, mesos_bridge: true, docker_bridge: true } };
        peer = marksOf((await post(`${c.localMasterUrl}/overlay-master/agents`, body)) as AgentInfo);
        return peerMatches(peer, VTEP, false);
      });
      real.join.push({
        perHost: join.perHost,
        masterMs: (watch.seen.get(ip) ?? Number.NaN) - join.t0,
        agentCpuMs: sumCpu(agentPids) - cpu0,
      });
      // The floors: the same four entries (two routes, neighbour, FDB) on the floor device.
      const fe = floorPeer(rep, 0);
      const fk = floorPeer(rep, 1);
      const floorStep = async (p: PeerMarks, gone: boolean, by: 'exec' | 'kernel') =>
        (
          await timed(c, watcher, `the ${by} floor's entries ${gone ? 'gone from' : 'in'} every namespace`, async () => {
            const lines = floorLines(p, gone);
            if (by === 'exec') await execAll(c, lines);
            else for (const h of c.hosts) for (const tool of ['ip', 'bridge'] as const) w.write(h.ns, tool, lines[tool]);
            return peerMatches(p, FLOOR_DEV, gone);
          })
        ).perHost;
      exec.join.push({ perHost: await floorStep(fe, false, 'exec') });
      kernel.join.push({ perHost: await floorStep(fk, false, 'kernel') });

      // leave: the host is deleted at the master.
      watch.seen.delete(ip);
      const cpu1 = sumCpu(agentPids);
      const leave = await timed(c, watcher, `${ip} removed from every host`, async () => {
        await post(`${c.localMasterUrl}/overlay-master/agents/delete`, { agents: [ip] });
        return peerMatches(peer!, VTEP, true);
      });
      real.leave.push({
        perHost: leave.perHost,
        masterMs: (watch.seen.get(ip) ?? Number.NaN) - leave.t0,
        agentCpuMs: sumCpu(agentPids) - cpu1,
      });
      exec.leave.push({ perHost: await floorStep(fe, true, 'exec') });
      kernel.leave.push({ perHost: await floorStep(fk, true, 'kernel') });

      const last = (s: Sample[]) => ms(Math.max(...s.at(-1)!.perHost));
      log(
        `  rep ${rep + 1}, slowest host: join ${last(real.join)} (exec floor ${last(exec.join)}, kernel floor ${last(kernel.join)}), leave ${last(real.leave)} (${last(exec.leave)}, ${last(kernel.leave)})`,
      );
      for (const dead of watcher.dead()) throw new Error(`ip monitor in ${dead} exited`);
      await sleep(200);
    }
    report(real, exec, kernel);
  } finally {
    abort.abort();
    await writers?.stop();
    await kw?.stop();
    await c.teardown();
  }
}

const TICK_MS = 10;
/** CPU ms of a process and the children it reaped (the agents' ip/bridge execs). */
function cpuMs(pid: number): number {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text
      .slice(text.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
    return (f[11]! + f[12]! + f[13]! + f[14]!) * TICK_MS;
  } catch {
    return 0;
  }
}
const sumCpu = (pids: number[]): number => pids.reduce((a, p) => a + cpuMs(p), 0);
/** /proc/stat: busy and total jiffies of all CPUs, and forks since boot. */
function machine(): { busy: number; total: number; forks: number } {
  const text = readFileSync('/proc/stat', 'utf8');
  const cpu = text.split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = cpu.reduce((a, b) => a + b, 0);
  return { busy: total - cpu[3]! - cpu[4]!, total, forks: Number(/^processes (\d+)/m.exec(text)?.[1] ?? 0) };
}
/** What idle agents cost: their CPU, the whole machine's, and forks per second, over `windowMs`. */
async function idleLoad(pids: number[], windowMs: number) {
  const cores = cpus().length;
  const sum = () => sumCpu(pids);
  const [a0, m0, t0] = [sum(), machine(), Date.now()];
  await sleep(windowMs);
  const [a1, m1, dt] = [sum(), machine(), Date.now() - t0];
  return {
    cores,
    agentCores: (a1 - a0) / dt,
    busyCores: ((m1.busy - m0.busy) / (m1.total - m0.total)) * cores,
    forksPerSecond: ((m1.forks - m0.forks) * 1000) / dt,
  };
}

type Kind = 'join' | 'leave';

/** A made-up peer for floor `which` of repetition `rep` (addresses no test uses; nothing is sent to them). */
const floorPeer = (rep: number, which: number): PeerMarks => ({
  underlayIp: `198.19.${254 - which}.${rep + 1}`,
  vtepIp: `10.253.${which}.${rep + 1}`,
  vtepMac: `02:00:00:00:${(0xfe - which).toString(16)}:${(rep + 1).toString(16).padStart(2, '0')}`,
  subnets: [`10.${254 - 2 * which}.${rep}.0/24`, `10.${255 - 2 * which}.${rep}.0/24`],
});

/** The agent's lines for one peer, on the floor device (proto 178: not the agent's, so it leaves them alone). */
function floorLines(p: PeerMarks, gone: boolean): { ip: string[]; bridge: string[] } {
  const ip = gone
    ? [...p.subnets.map((s) => `route del ${s} proto 178`), `neigh del ${p.vtepIp} dev ${FLOOR_DEV}`]
    : [
        `neigh replace ${p.vtepIp} lladdr ${p.vtepMac} dev ${FLOOR_DEV} nud permanent`,
        ...p.subnets.map((s) => `route replace ${s} via ${p.vtepIp} dev ${FLOOR_DEV} onlink proto 178`),
      ];
  const bridge = [`fdb ${gone ? 'del' : 'append'} ${p.vtepMac} dev ${FLOOR_DEV} dst ${p.underlayIp} self${gone ? '' : ' permanent'}`];
  return { ip, bridge };
}

/** What the agents exec for one peer (ip -batch, then bridge -batch), in every namespace at once. */
async function execAll(c: Cluster, lines: { ip: string[]; bridge: string[] }): Promise<void> {
  await Promise.all(
    c.hosts.map(async (h) => {
      const a = await run(['ip', '-n', h.ns, '-batch', '-'], { input: `${lines.ip.join('\n')}\n` });
      const b = await run(['bridge', '-n', h.ns, '-batch', '-'], { input: `${lines.bridge.join('\n')}\n` });
      if (a.code !== 0 || b.code !== 0) throw new Error(`floor on ${h.ns}: ${a.stderr}${b.stderr}`);
    }),
  );
}

function report(real: Record<Kind, Sample[]>, exec: Record<Kind, Sample[]>, kernel: Record<Kind, Sample[]>): void {
  const rows: string[] = [];
  const fmt = (s: Spread) => `p50 ${ms(s.p50)}, p99 ${ms(s.p99)}, max ${ms(s.max)}`;
  const pooled = (xs: Sample[]) => spread(xs.flatMap((s) => s.perHost));
  for (const kind of ['join', 'leave'] as const) {
    const [r, e, k] = [pooled(real[kind]), pooled(exec[kind]), pooled(kernel[kind])];
    const slowest = real[kind].map((s) => Math.max(...s.perHost));
    const what =
      kind === 'join'
        ? `join (a host registered at the master) -> its routes, neighbour and FDB entry on all ${HOSTS} hosts`
        : `leave (agents/delete at the master) -> all of those gone from all ${HOSTS} hosts`;
    rows.push(
      `| (l) ${what}; ${r.n} (event, host) pairs of ${real[kind].length} events; slowest host per event: median ${ms(median(slowest))} | ${fmt(r)} | exec floor (fresh ip/bridge -batch in every namespace) ${fmt(e)}; kernel floor (lines into running ip/bridge -batch) ${fmt(k)} | p99 ${(r.p99 / e.p99).toFixed(2)}x exec, ${(r.p99 / k.p99).toFixed(1)}x kernel | p99 <= 1 s | ${r.p99 <= 1000 ? 'PASS' : 'MISS'} |`,
    );
    // Where the time goes: the master (POST to its watch event) and the agents (event to kernel).
    const master = real[kind].map((s) => s.masterMs ?? Number.NaN).filter((x) => !Number.isNaN(x));
    const agents = real[kind].flatMap((s) => s.perHost.map((t) => t - (s.masterMs ?? 0)));
    const cpu = real[kind].map((s) => s.agentCpuMs ?? 0);
    if (master.length)
      log(
        `  ${kind}: master POST -> watch event median ${ms(median(master))}; watch event -> kernel per host ${fmt(spread(agents))}; agents' CPU per event median ${ms(median(cpu))} (${ms(median(cpu) / HOSTS)} per agent, idle share included)`,
      );
  }
  log('');
  log('| goal | measured | floor | ratio | target | |');
  log('|---|---|---|---|---|---|');
  for (const r of rows) log(r);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:converge: ${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
});
