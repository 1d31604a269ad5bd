// `npm run bench:master`: the master's figures, each beside a floor measured in
// the same run. Real master processes on loopback, temp dirs, bounded in time.
// Needs a build first (npm run build): it runs dist/cli/main.js like users do.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { measureRawSqliteCommit } from './commit-floor.js';
import { agentIp, httpCall, pct, rssMb, WIDE_CONFIG } from './master-harness.js';

const CLI = resolve(import.meta.dirname, '../dist/cli/main.js');
const AGENTS = 10_000;
const CLIENTS = 64;
const WATCHERS = 10_000;
const SEQUENTIAL = 400;

const ms = (x: number) => `${x.toFixed(2)} ms`;
const line = (label: string, figure: string, floor: string, verdict = '') =>
  console.log(`${label.padEnd(44)} ${figure.padEnd(30)} floor: ${floor}${verdict ? `  [${verdict}]` : ''}`);
const sleep = (t: number) => new Promise((ok) => setTimeout(ok, t));

interface Master {
  child: ChildProcess;
  url: URL;
  startedAt: number;
}

const children = new Set<ChildProcess>();

async function startMaster(configFile: string, data: string): Promise<Master> {
  const startedAt = performance.now();
  const child = spawn(
    process.execPath,
    [CLI, 'master', '--config', configFile, '--data', data, '--listen', '127.0.0.1:0', '--max-watchers', String(WATCHERS)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.add(child);
  let out = '';
  const url = await new Promise<string>((ok, fail) => {
    child.stderr!.on('data', (d: Buffer) => (out += d));
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) ok(m[1]!);
    });
    child.once('exit', (code) => fail(new Error(`master exited with ${code}: ${out}`)));
  });
  return { child, url: new URL(url), startedAt };
}

async function stopMaster(m: Master): Promise<void> {
  if (m.child.exitCode !== null) return;
  const gone = new Promise((ok) => m.child.once('exit', ok));
  m.child.kill('SIGTERM');
  await gone;
  children.delete(m.child);
}

const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });

const http = (m: Master, method: string, path: string, body?: unknown) => httpCall(m.url, agent, method, path, body);

/**
 * A lean keep-alive HTTP/1.1 connection: one request at a time, Content-Length
 * bodies only. It keeps the load generator's CPU small on a 2-core machine so
 * (b) measures the master rather than the client.
 */
class LeanConnection {
  private socket: Socket;
  private buffer = '';
  private waiting?: { ok: (r: { status: number; text: string }) => void; fail: (e: Error) => void };
  /** The master's own address: a master without a token answers only Host names it knows. */
  private readonly host: string;

  constructor(m: Master) {
    this.host = m.url.host;
    this.socket = connect({ host: m.url.hostname, port: Number(m.url.port) });
    this.socket.setEncoding('utf8');
    this.socket.setNoDelay(true);
    this.socket.on('data', (d: string) => {
      this.buffer += d;
      this.tryAnswer();
    });
    this.socket.on('error', (e) => this.waiting?.fail(e));
  }

  post(path: string, body: string): Promise<{ status: number; text: string }> {
    return new Promise((ok, fail) => {
      this.waiting = { ok, fail };
      this.socket.write(
        `POST ${path} HTTP/1.1\r\nHost: ${this.host}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private tryAnswer(): void {
    const end = this.buffer.indexOf('\r\n\r\n');
    if (end < 0 || !this.waiting) return;
    const head = this.buffer.slice(0, end);
    const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
    if (this.buffer.length < end + 4 + length) return; // bodies here are ASCII: chars == bytes
    const text = this.buffer.slice(end + 4, end + 4 + length);
    this.buffer = this.buffer.slice(end + 4 + length);
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting.ok({ status: Number(head.slice(9, 12)), text });
  }
}

async function register(m: Master, ip: string): Promise<any> {
  const r = await http(m, 'POST', '/overlay-master/agents', { ip });
  if (r.status !== 200) throw new Error(`register ${ip}: ${r.status} ${r.text}`);
  return JSON.parse(r.text);
}

async function benchSequential(dir: string, configFile: string): Promise<void> {
  const m = await startMaster(configFile, join(dir, 'seq'));
  const times: number[] = [];
  const started = performance.now();
  for (let i = 0; i < SEQUENTIAL; i++) {
    const t = performance.now();
    await register(m, agentIp(i));
    times.push(performance.now() - t);
  }
  const rate = (SEQUENTIAL * 1000) / (performance.now() - started);
  await stopMaster(m);
  const floor = measureRawSqliteCommit(join(dir, 'floor'), SEQUENTIAL);
  times.sort((a, b) => a - b);
  line('(a) sequential registrations/s', `${rate.toFixed(0)}/s`, `${floor.perSecond.toFixed(0)}/s raw SQLite insert+commit`);
  line('(a) sequential p50 / p99', `${ms(pct(times, 0.5))} / ${ms(pct(times, 0.99))}`, `${ms(floor.p50Ms)} / ${ms(floor.p99Ms)}`);
}

async function benchConcurrent(m: Master, dir: string): Promise<void> {
  const answers: any[] = new Array(AGENTS);
  let next = 0;
  const connections = Array.from({ length: CLIENTS }, () => new LeanConnection(m));
  const started = performance.now();
  await Promise.all(
    connections.map(async (c) => {
      while (next < AGENTS) {
        const n = next++;
        const r = await c.post('/overlay-master/agents', `{"ip":"${agentIp(n)}"}`);
        if (r.status !== 200) throw new Error(`register ${agentIp(n)}: ${r.status} ${r.text}`);
        answers[n] = JSON.parse(r.text);
      }
    }),
  );
  const rate = (AGENTS * 1000) / (performance.now() - started);
  for (const c of connections) c.close();
  const seen = new Set<string>();
  let duplicates = 0;
  for (const a of answers) {
    const keys = [`vtep ${a.overlays[0].backend.vxlan.vtep_ip}`, ...a.overlays.map((o: any) => `${o.info.name} ${o.subnet}`)];
    for (const k of keys) seen.has(k) ? duplicates++ : seen.add(k);
  }
  const floor = measureRawSqliteCommit(join(dir, 'floor-b'), 200);
  line(
    `(b) ${AGENTS} agents, ${CLIENTS} clients`,
    `${rate.toFixed(0)}/s, ${duplicates} duplicates`,
    `${floor.perSecond.toFixed(0)}/s one fsync per agent`,
    rate >= 5000 && duplicates === 0 ? 'target met' : 'TARGET MISSED (>= 5000/s, 0 duplicates)',
  );
}

async function benchState(m: Master): Promise<void> {
  const times: number[] = [];
  let text = '';
  for (let i = 0; i < 15; i++) {
    const t = performance.now();
    text = (await http(m, 'GET', '/overlay-master/state')).text;
    times.push(performance.now() - t);
  }
  const state = JSON.parse(text);
  const floors: number[] = [];
  for (let i = 0; i < 15; i++) {
    const t = performance.now();
    JSON.stringify(state);
    floors.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  floors.sort((a, b) => a - b);
  const ratio = pct(times, 0.5) / pct(floors, 0.5);
  line(
    `(c) GET /state p50 (${state.agents.length} agents, ${(text.length / 1e6).toFixed(1)} MB)`,
    ms(pct(times, 0.5)),
    `${ms(pct(floors, 0.5))} JSON.stringify`,
    `${ratio.toFixed(2)}x ${ratio <= 2 ? 'target met' : 'TARGET MISSED (<= 2x)'}`,
  );
}

async function firstAnswer(configFile: string, data: string): Promise<{ m: Master; ms: number }> {
  const m = await startMaster(configFile, data);
  for (;;) {
    const r = await http(m, 'GET', '/healthz').catch(() => undefined);
    if (r?.status === 200) return { m, ms: performance.now() - m.startedAt };
    await sleep(5);
  }
}

/** Raw-socket SSE clients: cheap enough to hold 10,000 in one process. */
async function benchWatch(m: Master, revision: number): Promise<void> {
  const sockets: Socket[] = [];
  const received: number[] = [];
  let sentAt = 0;
  const open = () =>
    new Promise<void>((ok, fail) => {
      const s = connect({ host: m.url.hostname, port: Number(m.url.port) });
      let headers = false;
      let seen = false;
      s.setEncoding('utf8');
      s.on('data', (d: string) => {
        if (!headers && d.includes('\r\n\r\n')) {
          headers = true;
          ok();
        }
        if (!seen && sentAt > 0 && d.includes('event: put')) {
          seen = true;
          received.push(performance.now() - sentAt);
        }
      });
      s.on('error', fail);
      s.write(`GET /overlay-master/watch?since=${revision} HTTP/1.1\r\nHost: ${m.url.host}\r\n\r\n`);
      sockets.push(s);
    });
  const openStarted = performance.now();
  for (let i = 0; i < WATCHERS; i += 500) await Promise.all(Array.from({ length: Math.min(500, WATCHERS - i) }, open));
  const openMs = performance.now() - openStarted;
  sentAt = performance.now();
  await register(m, agentIp(AGENTS + 1));
  const answerMs = performance.now() - sentAt;
  const deadline = Date.now() + 10_000;
  while (received.length < WATCHERS && Date.now() < deadline) await sleep(5);
  received.sort((a, b) => a - b);
  const p99 = pct(received, 0.99);
  line(
    `(f) watch fan-out to ${WATCHERS} streams`,
    `p99 ${ms(p99)}, max ${ms(received.at(-1) ?? NaN)}, ${received.length} got it`,
    `${ms(answerMs)} the registration's own answer`,
    p99 <= 1000 && received.length === WATCHERS ? 'target met' : 'TARGET MISSED (p99 <= 1 s)',
  );
  console.log(`    (opening ${WATCHERS} streams took ${ms(openMs)}; master RSS with them open ${rssMb(m.child.pid!).toFixed(0)} MB)`);
  for (const s of sockets) s.destroy();
}

async function main(): Promise<void> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first`);
  const dir = await mkdtemp(join(tmpdir(), 'vxnet-bench-master-'));
  try {
    const configFile = join(dir, 'config.json');
    await writeFile(configFile, JSON.stringify(WIDE_CONFIG));
    console.log(`vxnet master benchmark (node ${process.version}, loopback, data in ${dir})`);
    await benchSequential(dir, configFile);

    const empty = await firstAnswer(configFile, join(dir, 'empty'));
    const emptyRss = rssMb(empty.m.child.pid!);
    await stopMaster(empty.m);

    const data = join(dir, 'big');
    let m = await startMaster(configFile, data);
    await benchConcurrent(m, dir);
    const rss = rssMb(m.child.pid!);
    await benchState(m);
    const rssState = rssMb(m.child.pid!);
    await stopMaster(m);

    const restart = await firstAnswer(configFile, data);
    m = restart.m;
    line(
      `(d) restart with ${AGENTS} agents: first answer`,
      ms(restart.ms),
      `${ms(empty.ms)} with an empty store`,
      restart.ms <= 1000 ? 'target met' : 'TARGET MISSED (<= 1 s)',
    );
    const rssAfter = rssMb(m.child.pid!);
    const peak = Math.max(rss, rssState, rssAfter);
    line(
      `(e) master RSS at ${AGENTS} agents`,
      `${rss.toFixed(0)} MB`,
      `${emptyRss.toFixed(0)} MB with no agents`,
      peak <= 150 ? 'target met' : 'TARGET MISSED (<= 150 MB)',
    );
    console.log(
      `    (right after the 64-client storm; ${rssState.toFixed(0)} MB after the GET /state runs, ${rssAfter.toFixed(0)} MB after the restart)`,
    );

    const revision = JSON.parse((await http(m, 'GET', '/healthz')).text).revision as number;
    const fdLimit = Number(/Max open files\s+(\d+)/.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? 0);
    if (fdLimit >= WATCHERS + 1000) await benchWatch(m, revision);
    else
      console.log(
        `(f) skipped: ${WATCHERS} watch streams need more open files than this shell's limit of ${fdLimit}; run "ulimit -n ${2 * WATCHERS}" first`,
      );
    await stopMaster(m);
  } finally {
    for (const c of children) c.kill('SIGKILL');
    agent.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(`bench:master failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
