// `npm run bench:master`: issue 10's master goals (a)–(f), each printed beside
// a floor measured in the same run, as medians over interleaved repetitions
// (figure, floor, figure, floor …). Goal (g), on etcd, is `npm run bench:etcd`.
// Real master processes on loopback, temp dirs, bounded in time.
// Needs a build first (npm run build): it runs dist/cli/main.js like users do.
// BENCH_REPS (default 3) sets the repetitions; BENCH_SCALE (default 100000) the agents of (c)–(e);
// BENCH_ONLY (e.g. "bf") runs some goals only; "s" (with c–e's store) measures commits beside saves of /state.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { measureRawSqliteCommit } from './commit-floor.js';
import { agentIp, LeanConnection, median, pct, rssMb, SCALE_CONFIG } from './master-harness.js';

const CLI = resolve(import.meta.dirname, '../dist/cli/main.js');
const FLOOR_SERVER = resolve(import.meta.dirname, 'master-floor-server.ts');
const REPS = Number(process.env.BENCH_REPS ?? 3);
const STORM_AGENTS = 10_000;
const CLIENTS = 64;
const SEQUENTIAL = 400;
const SCALE = Number(process.env.BENCH_SCALE ?? 100_000);
const STATE_GETS = 15;

const ms = (x: number) => `${x.toFixed(2)} ms`;
const row = (goal: string, figure: string, floor: string, ratio: number, met: boolean, target: string) =>
  console.log(
    `${goal.padEnd(46)} ${figure.padEnd(22)} floor ${floor.padEnd(34)} ${ratio.toFixed(2)}x  [${met ? 'met' : 'MISSED'}: ${target}]`,
  );
const sleep = (t: number) => new Promise((ok) => setTimeout(ok, t));

interface Server {
  child: ChildProcess;
  url: URL;
  startedAt: number;
}

const children = new Set<ChildProcess>();

async function spawnServer(argv: string[]): Promise<Server> {
  const startedAt = performance.now();
  const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  const url = await new Promise<string>((ok, fail) => {
    child.stderr!.on('data', (d: Buffer) => (out += d));
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      // A restarted master answers its saved /state, then reads, before it takes writes: any of these lines gives its URL.
      const m = /(?:listening on|serving reads on|answering GET \/overlay-master\/state on) (http:\/\/\S+)/.exec(out);
      if (m) ok(m[1]!);
    });
    child.once('exit', (code) => fail(new Error(`${argv.join(' ')} exited with ${code}: ${out}`)));
  });
  return { child, url: new URL(url), startedAt };
}

/** BENCH_MASTER_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") go to each master's node, and to (a)'s floor server. */
const MASTER_NODE_ARGS = (process.env.BENCH_MASTER_NODE_ARGS ?? '').split(' ').filter(Boolean);
const startMaster = (configFile: string, data: string, extra: string[] = []) =>
  spawnServer([...MASTER_NODE_ARGS, CLI, 'master', '--config', configFile, '--data', data, '--listen', '127.0.0.1:0', ...extra]);

async function stop(s: Server): Promise<void> {
  if (s.child.exitCode === null) {
    const gone = new Promise((ok) => s.child.once('exit', ok));
    s.child.kill('SIGTERM');
    await gone;
  }
  children.delete(s.child);
}

/** `count` registrations from `first` on, `clients` at a time: per second, and every answer's subnets and VTEPs checked for duplicates. */
async function storm(m: Server, first: number, count: number, seen = new Set<string>()): Promise<{ rate: number; duplicates: number }> {
  let next = 0;
  let duplicates = 0;
  const connections = Array.from({ length: CLIENTS }, () => new LeanConnection(m));
  const started = performance.now();
  await Promise.all(
    connections.map(async (c) => {
      while (next < count) {
        const ip = agentIp(first + next++);
        const r = await c.post('/overlay-master/agents', `{"ip":"${ip}"}`);
        if (r.status !== 200) throw new Error(`register ${ip}: ${r.status} ${r.text}`);
        const a = JSON.parse(r.text);
        for (const k of [`vtep ${a.overlays[0].backend.vxlan.vtep_ip}`, ...a.overlays.map((o: any) => `${o.info.name} ${o.subnet}`)])
          seen.has(k) ? duplicates++ : seen.add(k);
      }
    }),
  );
  const rate = (count * 1000) / (performance.now() - started);
  for (const c of connections) c.close();
  return { rate, duplicates };
}

/** (a) one repetition: the p50 of `n` sequential POSTs through one kept-alive connection. */
async function sequentialP50(s: Server, path: string, first: number, n: number): Promise<number> {
  const c = new LeanConnection(s);
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const r = await c.post(path, `{"ip":"${agentIp(first + i)}"}`);
    if (r.status !== 200) throw new Error(`POST ${path}: ${r.status} ${r.text}`);
    times.push(performance.now() - t);
  }
  c.close();
  times.sort((a, b) => a - b);
  return pct(times, 0.5);
}

async function goalA(dir: string, configFile: string): Promise<void> {
  const m = await startMaster(configFile, join(dir, 'seq'));
  const floorServer = await spawnServer([...MASTER_NODE_ARGS, '--import', 'tsx', FLOOR_SERVER, join(dir, 'floor-a')]);
  const figures: number[] = [];
  const floors: number[] = [];
  try {
    await sequentialP50(m, '/overlay-master/agents', 1_000_000, 50); // warm-up, both sides
    await sequentialP50(floorServer, '/floor', 1_000_000, 50);
    for (let r = 0; r < REPS; r++) {
      figures.push(await sequentialP50(m, '/overlay-master/agents', r * SEQUENTIAL, SEQUENTIAL));
      floors.push(await sequentialP50(floorServer, '/floor', r * SEQUENTIAL, SEQUENTIAL));
    }
  } finally {
    await stop(m);
    await stop(floorServer);
  }
  const ratio = median(figures) / median(floors);
  row('(a) sequential registration p50', ms(median(figures)), `${ms(median(floors))} fastify+SQLite commit`, ratio, ratio <= 2, '<= 2x');
  console.log(`    reps: ${figures.map(ms).join(', ')}; floors: ${floors.map(ms).join(', ')}`);
}

/** The master's event-loop delay p99 since the previous scrape (prom-client's monitorEventLoopDelay resets on each). */
async function loopP99(c: LeanConnection): Promise<number> {
  const text = (await c.get('/metrics')).text;
  return Number(/^nodejs_eventloop_lag_p99_seconds (\S+)/m.exec(text)?.[1] ?? Number.NaN) * 1000;
}

async function goalsBF(dir: string, configFile: string): Promise<void> {
  const rates: number[] = [];
  const fsyncs: number[] = [];
  const delays: number[] = [];
  const idleDelays: number[] = [];
  const health: { worst: number; failed: number; answered: number }[] = [];
  let duplicates = 0;
  for (let r = 0; r < REPS; r++) {
    const m = await startMaster(configFile, join(dir, `storm-${r}`));
    try {
      const probe = new LeanConnection(m);
      await loopP99(probe);
      await sleep(1000);
      idleDelays.push(await loopP99(probe));
      let stormDone = false;
      const h = { worst: 0, failed: 0, answered: 0 };
      const poller = (async () => {
        const c = new LeanConnection(m);
        while (!stormDone) {
          const t = performance.now();
          const res = await c.get('/healthz');
          h.worst = Math.max(h.worst, performance.now() - t);
          res.status === 200 ? h.answered++ : h.failed++;
          await sleep(20);
        }
        c.close();
      })();
      const s = await storm(m, 0, STORM_AGENTS);
      stormDone = true;
      await poller;
      delays.push(await loopP99(probe));
      probe.close();
      health.push(h);
      rates.push(s.rate);
      duplicates += s.duplicates;
    } finally {
      await stop(m);
    }
    fsyncs.push(measureRawSqliteCommit(join(dir, `floor-b-${r}`), 300).perSecond);
  }
  const ratio = median(rates) / median(fsyncs);
  row(
    `(b) ${STORM_AGENTS} agents, ${CLIENTS} clients`,
    `${median(rates).toFixed(0)}/s, ${duplicates} dup`,
    `${median(fsyncs).toFixed(0)}/s one fsync per agent`,
    ratio,
    ratio >= 1 && duplicates === 0,
    '>= 1x, 0 duplicates',
  );
  console.log(`    reps: ${rates.map((x) => x.toFixed(0)).join(', ')}/s; floors: ${fsyncs.map((x) => x.toFixed(0)).join(', ')}/s`);
  const p99 = median(delays);
  const failed = health.reduce((n, x) => n + x.failed, 0);
  row(
    '(f) event-loop delay p99 during (b)',
    ms(p99),
    `${ms(median(idleDelays))} idle master, goal 50 ms`,
    p99 / 50,
    p99 <= 50 && failed === 0,
    '<= 50 ms, /healthz answering',
  );
  console.log(
    `    reps: ${delays.map(ms).join(', ')}; /healthz answered ${health.map((x) => x.answered).join(', ')} times, ` +
      `${failed} failed, slowest ${health.map((x) => ms(x.worst)).join(', ')}`,
  );
}

/** Spawn to the first 200 of GET /overlay-master/state, to its last byte (counted as it arrives, as `curl -o /dev/null`). */
async function restartToState(configFile: string, data: string): Promise<{ m: Server; ms: number }> {
  const m = await startMaster(configFile, data);
  const c = new LeanConnection(m);
  for (;;) {
    const r = await c.getLength('/overlay-master/state').catch(() => undefined);
    if (r?.status === 200) {
      c.close();
      return { m, ms: performance.now() - m.startedAt };
    }
    await sleep(5);
  }
}

/** Writes are taken once a starting master leads: /healthz says so. */
async function untilItLeads(c: LeanConnection): Promise<void> {
  for (let waited = 0; (await c.get('/healthz')).status !== 200; waited += 20) {
    if (waited > 60_000) throw new Error('the master did not take writes within 60 s');
    await sleep(20);
  }
}

/** Changes between the last save and the crash in (d): status reports of this many agents (1 % of 100,000). */
const CHANGED_BEFORE_CRASH = 1_000;

/**
 * A master that crashes: it starts (saving /state every second while it
 * changes; the file it started from holds the start's revision), takes
 * CHANGED_BEFORE_CRASH status reports, and is killed (SIGKILL): at most that
 * many changes are not in the saved answer. `round` picks the agents and
 * their status, so each crash changes records anew.
 */
async function crashAfterChanges(configFile: string, data: string, round: number): Promise<void> {
  const cache = join(data, 'state-cache');
  const m = await startMaster(configFile, data, ['--save-state-every', '1s']);
  if (!existsSync(cache)) throw new Error(`no saved state in ${cache}: the clean stop before should have left one`);
  const health = new LeanConnection(m);
  await untilItLeads(health);
  health.close();
  const status = round % 2 === 0 ? 'STATUS_OK' : 'STATUS_CONFIGURING';
  let next = 0;
  const connections = Array.from({ length: 16 }, () => new LeanConnection(m));
  await Promise.all(
    connections.map(async (c) => {
      while (next < CHANGED_BEFORE_CRASH) {
        const ip = agentIp((round * CHANGED_BEFORE_CRASH + next++) % SCALE);
        const r = await c.put(`/overlay-master/agents/${ip}/status`, `{"overlays":[{"name":"scale-a","status":"${status}"}]}`);
        if (r.status !== 200) throw new Error(`status of ${ip}: ${r.status} ${r.text}`);
      }
    }),
  );
  for (const c of connections) c.close();
  const gone = new Promise((ok) => m.child.once('exit', ok));
  m.child.kill('SIGKILL');
  await gone;
  children.delete(m.child);
}

/** How long each run of the save measurement sends status reports. */
const SAVE_WINDOW_MS = 8_000;

/**
 * Commit latency beside periodic saves of /state: a master saving every
 * second (each save writes and flushes the whole answer, 77 MB at 100,000
 * agents) against one that saves only at its stop, interleaved. One
 * connection sends status reports back to back, each one commit; the saves
 * are counted by the file's mtime.
 */
async function commitsBesideSaves(configFile: string, data: string): Promise<void> {
  const cache = join(data, 'state-cache');
  const runs = { saving: [] as number[][], off: [] as number[][] };
  let saves = 0;
  for (let r = 0; r < REPS; r++) {
    for (const mode of ['saving', 'off'] as const) {
      const m = await startMaster(configFile, data, ['--save-state-every', mode === 'saving' ? '1s' : '0s']);
      const c = new LeanConnection(m);
      await untilItLeads(c);
      let mtime = statSync(cache).mtimeMs;
      const times: number[] = [];
      const end = performance.now() + SAVE_WINDOW_MS;
      for (let i = 0; performance.now() < end; i++) {
        const ip = agentIp((r * 100_003 + i) % SCALE);
        const status = i % 2 === 0 ? 'STATUS_OK' : 'STATUS_CONFIGURING';
        const t = performance.now();
        const res = await c.put(`/overlay-master/agents/${ip}/status`, `{"overlays":[{"name":"scale-a","status":"${status}"}]}`);
        times.push(performance.now() - t);
        if (res.status !== 200) throw new Error(`status of ${ip}: ${res.status} ${res.text}`);
        const now = statSync(cache).mtimeMs;
        if (mode === 'saving' && now !== mtime) saves++;
        mtime = now;
      }
      c.close();
      await stop(m);
      runs[mode].push(times.sort((a, b) => a - b));
    }
  }
  const at = (mode: 'saving' | 'off', p: number) => median(runs[mode].map((t) => (p === 1 ? t.at(-1)! : pct(t, p))));
  const p99 = at('saving', 0.99) / at('off', 0.99);
  row('(d) a status report while /state is saved, p99', ms(at('saving', 0.99)), `${ms(at('off', 0.99))} no saves`, p99, true, 'measured');
  console.log(
    `    p50 ${ms(at('saving', 0.5))} vs ${ms(at('off', 0.5))}; max ${ms(at('saving', 1))} vs ${ms(at('off', 1))}; ` +
      `${saves} saves in ${REPS} runs of ${SAVE_WINDOW_MS / 1000} s (--save-state-every 1s against 0s)`,
  );
}

async function goalsCDE(dir: string, configFile: string, only: string): Promise<void> {
  const emptyData = join(dir, 'empty');
  const empty = await restartToState(configFile, emptyData);
  const emptyRss = rssMb(empty.m.child.pid!);
  await stop(empty.m);

  const data = join(dir, 'scale');
  let m = await startMaster(configFile, data);
  let peak = 0;
  const sample = () => {
    if (m.child.exitCode === null) peak = Math.max(peak, rssMb(m.child.pid!));
  };
  const sampler = setInterval(sample, 100);
  try {
    const populated = await storm(m, 0, SCALE);
    console.log(
      `    (${SCALE} agents registered by ${CLIENTS} clients at ${populated.rate.toFixed(0)}/s, ${populated.duplicates} duplicates)`,
    );
    const rssFilled = rssMb(m.child.pid!);
    if (!/[cde]/.test(only)) {
      clearInterval(sampler);
      await stop(m); // its clean stop leaves the file the saving runs start from
      await commitsBesideSaves(configFile, data);
      return;
    }

    // (e) GET /state (to its last byte) beside JSON.stringify of what it answered, interleaved.
    const c = new LeanConnection(m);
    const gets: number[] = [];
    const strings: number[] = [];
    let state: unknown;
    let bytes = 0;
    for (let i = 0; i < STATE_GETS; i++) {
      const t = performance.now();
      const r = await c.getBytes('/overlay-master/state');
      gets.push(performance.now() - t);
      if (r.status !== 200) throw new Error(`GET /overlay-master/state: ${r.status}`);
      bytes = r.body.length;
      state ??= JSON.parse(r.body.toString('utf8'));
      const u = performance.now();
      JSON.stringify(state);
      strings.push(performance.now() - u);
    }
    c.close();
    state = undefined;
    const rssState = rssMb(m.child.pid!);
    clearInterval(sampler);
    await stop(m);

    // (d) restart to the first GET /state, interleaved with an empty store's: after a clean stop (the
    // master left its /state answer in DIR/state-cache); after a crash (the answer it saved while
    // running, CHANGED_BEFORE_CRASH changes behind the store); and with no saved answer at all.
    const restarts: number[] = [];
    const crashRestarts: number[] = [];
    const unsavedRestarts: number[] = [];
    const emptyRestarts: number[] = [];
    let rssRestart = 0;
    const timed = async (into: number[]): Promise<void> => {
      const restarted = await restartToState(configFile, data);
      m = restarted.m;
      into.push(restarted.ms);
      rssRestart = Math.max(rssRestart, rssMb(m.child.pid!));
      await stop(m);
    };
    for (let r = 0; r < REPS; r++) {
      await timed(restarts);
      const e = await restartToState(configFile, emptyData);
      emptyRestarts.push(e.ms);
      await stop(e.m);
      await crashAfterChanges(configFile, data, r);
      await timed(crashRestarts);
      await rm(join(data, 'state-cache'), { force: true });
      await timed(unsavedRestarts);
    }
    if (only.includes('s')) {
      m = await startMaster(configFile, data); // its clean stop leaves the file the saving runs start from
      await stop(m);
      await commitsBesideSaves(configFile, data);
    }

    const rss = Math.max(peak, rssFilled, rssState, rssRestart);
    row(
      `(c) RSS at ${SCALE} agents`,
      `${rss.toFixed(0)} MB`,
      `${emptyRss.toFixed(0)} MB no agents`,
      rss / emptyRss,
      rss <= 500,
      '<= 500 MB',
    );
    console.log(
      `    peak while registering ${peak.toFixed(0)} MB; after: registering ${rssFilled.toFixed(0)}, ` +
        `${STATE_GETS} GET /state ${rssState.toFixed(0)}, restart ${rssRestart.toFixed(0)} MB`,
    );
    const restart = median(restarts);
    row(
      `(d) restart to first GET /state, ${SCALE} agents`,
      ms(restart),
      `${ms(median(emptyRestarts))} empty store`,
      restart / median(emptyRestarts),
      restart <= 3000,
      '<= 3 s',
    );
    console.log(`    reps: ${restarts.map(ms).join(', ')}; floors: ${emptyRestarts.map(ms).join(', ')}`);
    const crash = median(crashRestarts);
    row(
      `(d) the same after a crash, ${CHANGED_BEFORE_CRASH} changes unsaved`,
      ms(crash),
      `${ms(median(emptyRestarts))} empty store`,
      crash / median(emptyRestarts),
      crash <= 3000,
      '<= 3 s',
    );
    console.log(`    reps: ${crashRestarts.map(ms).join(', ')}`);
    console.log(
      `    with no saved answer at all: median ${ms(median(unsavedRestarts))} ` +
        `(${(median(unsavedRestarts) / median(emptyRestarts)).toFixed(2)}x the empty store); reps: ${unsavedRestarts.map(ms).join(', ')}`,
    );
    const ratio = median(gets) / median(strings);
    row(
      `(e) GET /state p50 (${(bytes / 1e6).toFixed(0)} MB)`,
      ms(median(gets)),
      `${ms(median(strings))} JSON.stringify`,
      ratio,
      ratio <= 1,
      '<= 1x',
    );
  } finally {
    clearInterval(sampler);
    await stop(m);
  }
}

async function main(): Promise<void> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first`);
  const dir = await mkdtemp(join(tmpdir(), 'vxnet-bench-master-'));
  try {
    const configFile = join(dir, 'config.json');
    await writeFile(configFile, JSON.stringify(SCALE_CONFIG));
    console.log(`vxnet master benchmark (node ${process.version}, loopback, ${REPS} interleaved repetitions, medians, data in ${dir})`);
    const only = process.env.BENCH_ONLY ?? 'abcdefs';
    if (only.includes('a')) await goalA(dir, configFile);
    if (/[bf]/.test(only)) await goalsBF(dir, configFile);
    if (/[cdes]/.test(only)) await goalsCDE(dir, configFile, only);
    console.log('(g) master --etcd against raw etcd transactions: npm run bench:etcd');
  } finally {
    for (const c of children) c.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(`bench:master failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
