// npm run bench:agent-scale — the agent at the size of a /20 vtep_subnet
// (issue 10, h–k): 4,093 peers. Every figure is the median over RUNS (3)
// interleaved repetitions, each beside a floor measured in the same run.
// Root only; namespaces carry a per-run prefix and are removed at the end.
//   (h) idle CPU of the agent (its process tree) per minute, against the same
//       tables read raw (`ip -j`/`bridge -j`, output unparsed) at the agent's
//       --resync-ms cadence: the least an agent that re-reads at all spends;
//   (i) the agent's RSS, against an idle `node` process;
//   (j) an FDB entry / route deleted by hand until it is back, against the
//       moment `ip monitor` delivers the deletion (nothing can react sooner);
//   (k) 4,093 peers programmed from scratch by the agent's pass (read, plan,
//       execute), against the same lines as raw `ip -batch`/`bridge -batch`.
import { createInterface } from 'node:readline';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import type { AgentInfo } from '../src/api/types.js';
import { computeDesired } from '../src/agent/desired.js';
import { execFileArgv, type Exec } from '../src/agent/linux/exec.js';
import { execute, toBatches } from '../src/agent/linux/execute.js';
import { observe } from '../src/agent/linux/observe.js';
import { RESYNC_MS } from '../src/agent/loop.js';
import { plan } from '../src/agent/plan.js';
import { makeRunPrefix, run, runNames, runOk, startCluster, startProcess, stopProcess, waitFor } from '../src/testbed/index.js';

const PEERS = 4093;
const RUNS = Number(process.env.RUNS ?? 3);
const IDLE_MS = Number(process.env.IDLE_MS ?? 60_000);
const log = (s: string) => process.stdout.write(`${s}\n`);
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const rows: { goal: string; median: string; floor: string; ratio: string; target: string; pass: boolean }[] = [];

// --- process accounting from /proc (clock ticks of 10 ms) -------------------
const TICK_MS = 10;
function statOf(pid: number | 'self'): number[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text
      .slice(text.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
  } catch {
    return undefined;
  }
}
/** CPU ms of a process, the children it reaped, and its live descendants (e.g. `ip monitor`). */
function treeCpuMs(pid: number): number {
  const f = statOf(pid);
  if (!f) return 0;
  let ms = (f[11]! + f[12]! + f[13]! + f[14]!) * TICK_MS;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    let children = '';
    try {
      children = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8');
    } catch {
      /* gone */
    }
    for (const child of children.split(' ').filter(Boolean)) ms += treeCpuMs(Number(child));
  }
  return ms;
}
const selfCpuMs = (): number => {
  const f = statOf('self')!;
  return (f[11]! + f[12]! + f[13]! + f[14]!) * TICK_MS;
};
/** The node process under `ip netns exec` (which execs, so it is usually the same pid). */
const rssMb = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

// --- synthetic agents as the master would describe them (for (k)) ------------
const overlay = { name: 'bench', subnet: '10.0.0.0/8', prefix: 24 };
function agentInfo(k: number, ip = `198.19.${k >> 8}.${k & 255}`): AgentInfo {
  const v = k + 1;
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  return {
    ip,
    overlays: [
      {
        info: overlay,
        subnet: `10.${k >> 8}.${k & 255}.0/24`,
        mesos_bridge: { name: 'm-bench', ip: `10.${k >> 8}.${k & 255}.0/25` },
        docker_bridge: { name: 'd-bench', ip: `10.${k >> 8}.${k & 255}.128/25` },
        backend: {
          vxlan: {
            vni: 1024,
            vtep_name: 'vtep1024',
            vtep_ip: `192.15.${v >> 8}.${v & 255}/20`,
            vtep_mac: `70:b3:d5:0f:${hex(v >> 8)}:${hex(v & 255)}`,
          },
        },
        state: { status: 'STATUS_OK' },
      },
    ],
  };
}
const desiredOptions = {
  bridgeMtu: 1420,
  vxlanPort: 64000,
  networkConfig: { allocate_subnet: true, mesos_bridge: true, docker_bridge: true },
};
const execIn =
  (ns: string): Exec =>
  (file, args, stdin) =>
    execFileArgv(file, ['-n', ns, ...args], stdin);

async function freshNs(ns: string): Promise<void> {
  await runOk(['ip', 'netns', 'add', ns]);
  await runOk(['ip', '-n', ns, 'link', 'add', 'ul0', 'type', 'veth', 'peer', 'name', 'ul0p']);
  await runOk(['ip', '-n', ns, 'addr', 'add', '198.18.250.1/24', 'dev', 'ul0']);
  await runOk(['ip', '-n', ns, 'link', 'set', 'ul0', 'up']);
}

/** (k): the agent's full pass from scratch vs the same batches raw, fresh namespaces each repetition. */
async function benchProgramming(prefix: string): Promise<void> {
  const me = agentInfo(0, '198.18.250.1');
  const peers = Array.from({ length: PEERS }, (_, k) => agentInfo(k + 1));
  const agent: number[] = [];
  const raw: number[] = [];
  let ops = 0;
  for (let i = 0; i < RUNS; i++) {
    const [nsA, nsR] = [`${prefix}-sa${i}`, `${prefix}-sr${i}`];
    try {
      await freshNs(nsA);
      await freshNs(nsR);
      const batches = toBatches(
        plan(computeDesired(me, peers, { dev: 'ul0', mtu: 1500 }, desiredOptions).desired, await observe(execIn(nsR))).ops,
      );
      const r0 = performance.now();
      for (const b of batches) {
        const r = await execFileArgv(b.tool, ['-n', nsR, '-batch', '-'], `${b.lines.join('\n')}\n`);
        if (r.code !== 0) throw new Error(`raw ${b.tool} -batch failed: ${r.stderr.slice(0, 300)}`);
      }
      raw.push(performance.now() - r0);
      const a0 = performance.now();
      const observed = await observe(execIn(nsA));
      const planned = plan(computeDesired(me, peers, { dev: 'ul0', mtu: 1500 }, desiredOptions).desired, observed).ops;
      const failures = await execute(execIn(nsA), planned);
      agent.push(performance.now() - a0);
      if (failures.length) throw new Error(`${failures.length} ops failed, first: ${failures[0]!.error}`);
      ops = planned.length;
    } finally {
      await run(['ip', 'netns', 'del', nsA]);
      await run(['ip', 'netns', 'del', nsR]);
    }
  }
  const [a, r] = [median(agent), median(raw)];
  rows.push({
    goal: `(k) ${PEERS} peers from scratch (${ops} ops): read + plan + execute`,
    median: `${a.toFixed(0)} ms`,
    floor: `raw ip/bridge -batch ${r.toFixed(0)} ms`,
    ratio: `${(a / r).toFixed(2)}x`,
    target: '<= 1.5x',
    pass: a <= 1.5 * r,
  });
}

/** `ip -o monitor neigh route` in the agent's namespace: each line with its arrival time. */
function kernelLines(ns: string): { next: (match: (line: string) => boolean, timeoutMs: number) => Promise<number>; stop: () => void } {
  const child = spawn('ip', ['-n', ns, '-o', 'monitor', 'neigh', 'route'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const waiting: { match: (line: string) => boolean; resolve: (t: number) => void }[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    const t = performance.now();
    for (const w of [...waiting]) {
      if (!w.match(line)) continue;
      waiting.splice(waiting.indexOf(w), 1);
      w.resolve(t);
    }
  });
  return {
    next: (match, timeoutMs) =>
      new Promise((resolve, reject) => {
        const w = { match, resolve };
        waiting.push(w);
        setTimeout(() => {
          if (waiting.includes(w)) reject(new Error(`no ip monitor line within ${timeoutMs} ms`));
        }, timeoutMs).unref();
      }),
    stop: () => child.kill(),
  };
}

async function benchAgent(withDrift: boolean): Promise<void> {
  const config = {
    vtep_subnet: '192.15.0.0/20',
    vtep_mac_oui: '70:B3:D5:00:00:00',
    overlays: [{ name: 'dcos-1', subnet: '10.0.0.0/8', prefix: 24 }],
  };
  const c = await startCluster({ hosts: 1, config, startAgents: false });
  const idleNode = startProcess('idle-node', ['node', '-e', 'setInterval(() => {}, 1e9)'], `${c.tmpDir}/idle-node.log`);
  try {
    log(`  registering ${PEERS} peers with the master...`);
    const ips = Array.from({ length: PEERS }, (_, k) => `198.19.${(k + 1) >> 8}.${(k + 1) & 255}`);
    for (let i = 0; i < ips.length; i += 64) {
      await Promise.all(
        ips.slice(i, i + 64).map(async (ip) => {
          const res = await fetch(`${c.localMasterUrl}/overlay-master/agents`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ ip, network_config: { allocate_subnet: true, mesos_bridge: true, docker_bridge: true } }),
          });
          if (!res.ok) throw new Error(`registering ${ip}: ${res.status} ${await res.text()}`);
        }),
      );
    }
    const h = c.hosts[0]!;
    const started = performance.now();
    const agent = await c.startAgent(h);
    const routes = async () => (JSON.parse(await runOk(['ip', '-n', h.ns, '-j', 'route', 'show', 'proto', '177'])) as unknown[]).length;
    await waitFor(`${PEERS} routes on ${h.ns}`, async () => ((await routes()) >= PEERS ? true : undefined), {
      timeoutMs: 120_000,
      intervalMs: 200,
    }).catch((e: Error) => {
      throw new Error(`${e.message}\nagent log:\n${agent.log().slice(-3000)}`);
    });
    log(`  agent start to ${PEERS} routes: ${(performance.now() - started).toFixed(0)} ms (INFO: includes node start and registration)`);
    await new Promise((r) => setTimeout(r, 5_000)); // the status report and its watch echo settle

    // (h)/(i): idle windows, each followed by the floor.
    const cpu: number[] = [];
    const floorCpu: number[] = [];
    const rss: number[] = [];
    const nodeRss: number[] = [];
    const readsPerMinute = 60_000 / RESYNC_MS;
    for (let i = 0; i < RUNS; i++) {
      const c0 = treeCpuMs(agent.pid);
      await new Promise((r) => setTimeout(r, IDLE_MS));
      cpu.push(((treeCpuMs(agent.pid) - c0) * 60_000) / IDLE_MS);
      rss.push(rssMb(agent.pid));
      nodeRss.push(rssMb(idleNode.pid));
      const reads = 5;
      const f0 = selfCpuMs();
      for (let k = 0; k < reads; k++) {
        await Promise.all([
          execFileArgv(
            'ip',
            ['-n', h.ns, '-j', '-d', '-batch', '-'],
            'addr show\nneigh show nud permanent\nroute show table all proto 177\n',
          ),
          execFileArgv('bridge', ['-n', h.ns, '-j', 'fdb', 'show']),
        ]);
      }
      floorCpu.push(((selfCpuMs() - f0) / reads) * readsPerMinute);
      log(
        `  idle minute ${i + 1}: agent ${cpu.at(-1)!.toFixed(0)} ms CPU/min, RSS ${rss.at(-1)!.toFixed(1)} MB; floor ${floorCpu.at(-1)!.toFixed(0)} ms/min`,
      );
    }
    const [hc, hf] = [median(cpu), median(floorCpu)];
    rows.push({
      goal: `(h) idle agent, ${PEERS} peers: CPU (process tree) per minute`,
      median: `${(hc / 1000).toFixed(2)} s/min = ${(hc / 600).toFixed(2)} % of a core`,
      floor: `${readsPerMinute} raw reads/min ${(hf / 1000).toFixed(2)} s/min`,
      ratio: `${(hc / hf).toFixed(2)}x`,
      target: '<= 2 % of a core',
      pass: hc / 600 <= 2,
    });
    const [ir, nr] = [median(rss), median(nodeRss)];
    rows.push({
      goal: `(i) idle agent, ${PEERS} peers: RSS`,
      median: `${ir.toFixed(1)} MB`,
      floor: `idle node ${nr.toFixed(1)} MB`,
      ratio: `${(ir / nr).toFixed(2)}x`,
      target: '<= 80 MB',
      pass: ir <= 80,
    });

    // (j): delete by hand, alternately an FDB entry and a route of a different peer each time.
    if (!withDrift) return;
    const monitor = kernelLines(h.ns);
    try {
      const fdb = (
        JSON.parse(await runOk(['bridge', '-n', h.ns, '-j', 'fdb', 'show', 'dev', 'vtep1024'])) as { mac: string; dst?: string }[]
      ).filter((f) => f.dst);
      const rts = JSON.parse(await runOk(['ip', '-n', h.ns, '-j', 'route', 'show', 'proto', '177'])) as { dst: string; gateway: string }[];
      for (const kind of ['fdb', 'route'] as const) {
        const back: number[] = [];
        const seen: number[] = [];
        for (let i = 0; i < Math.max(RUNS, 5); i++) {
          const pick = 97 * (i + 1);
          let del: string[];
          let gone: (l: string) => boolean;
          let again: (l: string) => boolean;
          if (kind === 'fdb') {
            const f = fdb[pick % fdb.length]!;
            del = ['bridge', '-n', h.ns, 'fdb', 'del', f.mac, 'dev', 'vtep1024', 'dst', f.dst!, 'self'];
            gone = (l) => l.startsWith(`Deleted ${f.dst} `) && l.includes(f.mac);
            again = (l) => l.startsWith(`${f.dst} dev vtep1024 lladdr ${f.mac}`);
          } else {
            const r = rts[pick % rts.length]!;
            del = ['ip', '-n', h.ns, 'route', 'del', r.dst, 'proto', '177'];
            gone = (l) => l.startsWith(`Deleted ${r.dst} `);
            again = (l) => l.startsWith(`${r.dst} via `);
          }
          const [pGone, pAgain] = [monitor.next(gone, 10_000), monitor.next(again, 10_000)];
          const t0 = performance.now();
          await runOk(del);
          seen.push((await pGone) - t0);
          back.push((await pAgain) - t0);
          await new Promise((r) => setTimeout(r, 300));
        }
        const [b, s] = [median(back), median(seen)];
        rows.push({
          goal: `(j) ${kind === 'fdb' ? 'FDB entry' : 'route'} deleted by hand, ${PEERS} peers: back after (${back.length} runs, max ${Math.max(...back).toFixed(0)} ms)`,
          median: `${b.toFixed(1)} ms`,
          floor: `ip monitor delivers the deletion ${s.toFixed(1)} ms`,
          ratio: `${(b / s).toFixed(1)}x`,
          target: '<= 2000 ms',
          pass: Math.max(...back) <= 2000,
        });
      }
    } finally {
      monitor.stop();
    }
  } finally {
    await stopProcess(idleNode);
    await c.teardown();
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench:agent-scale must run as root (it builds network namespaces)');
  const names = runNames(makeRunPrefix());
  const only = process.argv.slice(2);
  const want = (k: string) => only.length === 0 || only.includes(k);
  if (want('k')) {
    log(`(k) programming ${PEERS} peers, ${RUNS} interleaved runs...`);
    await benchProgramming(names.prefix);
  }
  if (want('h') || want('i') || want('j')) {
    log(`(h)/(i)/(j) an agent with ${PEERS} peers from a real master, ${RUNS} idle windows of ${IDLE_MS / 1000} s...`);
    await benchAgent(want('j'));
  }
  log('');
  log('| goal | median | floor | ratio | target | |');
  log('|---|---|---|---|---|---|');
  for (const r of rows) log(`| ${r.goal} | ${r.median} | ${r.floor} | ${r.ratio} | ${r.target} | ${r.pass ? 'PASS' : 'MISS'} |`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:agent-scale: ${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
});
