// `npm run bench:watch-memory`: what watch streams that never read cost a
// master at 20,000 agents. 500 such streams each get the whole state (~8 MB)
// and then 200 changes; the figures are the master's RSS above its own
// baseline and /healthz p99 while it happens, beside the same measured before
// any stream was open. Goals: < 50 MB above the baseline, p99 < 50 ms.
// AGENTS, WATCHERS and CHANGES in the environment change the sizes.
// Needs a build first (npm run build): it runs dist/cli/main.js like users do.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent } from 'node:http';
import { agentIp, httpCall, pct, rssMb, WIDE_CONFIG } from './master-harness.js';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const CLI = resolve(import.meta.dirname, '../dist/cli/main.js');
const AGENTS = Number(process.env.AGENTS ?? 20_000);
const WATCHERS = Number(process.env.WATCHERS ?? 500);
const CHANGES = Number(process.env.CHANGES ?? 200);

const sleep = (t: number) => new Promise((ok) => setTimeout(ok, t));

const agent = new Agent({ keepAlive: true, maxSockets: 32 });

const http = (url: URL, method: string, path: string, body?: unknown) => httpCall(url, agent, method, path, body);

/** /healthz every 20 ms on a connection of its own until `stop()`; returns the sorted latencies. */
function probeHealth(url: URL): { stop(): Promise<number[]> } {
  const times: number[] = [];
  let running = true;
  const own = new Agent({ keepAlive: true, maxSockets: 1 });
  const loop = (async () => {
    while (running) {
      const t = performance.now();
      await httpCall(url, own, 'GET', '/healthz');
      times.push(performance.now() - t);
      await sleep(20);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      own.destroy();
      return times.sort((a, b) => a - b);
    },
  };
}

async function main(): Promise<void> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first`);
  const dir = await mkdtemp(join(tmpdir(), 'vxnet-bench-watch-memory-'));
  let child: ChildProcess | undefined;
  const sockets: Socket[] = [];
  try {
    const configFile = join(dir, 'config.json');
    await writeFile(configFile, JSON.stringify(WIDE_CONFIG));
    child = spawn(process.execPath, [CLI, 'master', '--config', configFile, '--data', join(dir, 'data'), '--listen', '127.0.0.1:0'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    const url = new URL(
      await new Promise<string>((ok, fail) => {
        child!.stdout!.on('data', (d: Buffer) => {
          out += d;
          const m = /listening on (http:\/\/\S+)/.exec(out);
          if (m) ok(m[1]!);
        });
        child!.once('exit', (code) => fail(new Error(`master exited with ${code}: ${out}`)));
      }),
    );
    console.log(`vxnet watch-memory benchmark (node ${process.version}, loopback, ${AGENTS} agents, ${WATCHERS} watchers that never read)`);

    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < AGENTS) {
          const ip = agentIp(next++);
          const r = await http(url, 'POST', '/overlay-master/agents', { ip });
          if (r.status !== 200) throw new Error(`register ${ip}: ${r.status} ${r.text}`);
        }
      }),
    );
    const stateMb = (await http(url, 'GET', '/overlay-master/state')).text.length / 1e6;

    // Baseline: the same probe, the same changes, no streams.
    const change = (n: number) =>
      http(url, 'PUT', `/overlay-master/agents/${agentIp(n)}/status`, { overlays: [{ name: 'wide-a', status: 'STATUS_OK' }] });
    let probe = probeHealth(url);
    for (let i = 0; i < CHANGES; i++) await change(i);
    await sleep(2000);
    const baseTimes = await probe.stop();
    const baseRss = rssMb(child.pid!);

    probe = probeHealth(url);
    let peak = 0;
    const sample = setInterval(() => (peak = Math.max(peak, rssMb(child!.pid!))), 50);
    const open = () =>
      new Promise<void>((ok, fail) => {
        const s = connect({ host: url.hostname, port: Number(url.port) }, () => {
          s.write(`GET /overlay-master/watch HTTP/1.1\r\nHost: ${url.host}\r\n\r\n`);
          ok();
        });
        s.on('error', fail);
        sockets.push(s); // never read: no 'data' listener
      });
    for (let i = 0; i < WATCHERS; i += 50) await Promise.all(Array.from({ length: Math.min(50, WATCHERS - i) }, open));
    for (let i = 0; i < CHANGES; i++) await change(CHANGES + i);
    await sleep(2000);
    clearInterval(sample);
    const times = await probe.stop();
    const held = rssMb(child.pid!);
    peak = Math.max(peak, held);
    const metricsText = (await http(url, 'GET', '/metrics')).text;
    const figure = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metricsText)?.[1]) / 1e6;
    const streams = figure('vxnet_watch_streams') * 1e6;
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1]) / 1024;

    const above = peak - baseRss;
    const p99 = pct(times, 0.99);
    const line = (label: string, figure: string, floor: string, verdict: string) =>
      console.log(`${label.padEnd(48)} ${figure.padEnd(26)} baseline: ${floor}  [${verdict}]`);
    line(
      `RSS above baseline, ${WATCHERS} non-reading watchers`,
      `+${above.toFixed(1)} MB (peak ${peak.toFixed(0)} MB)`,
      `${baseRss.toFixed(0)} MB, no watchers (state ${stateMb.toFixed(1)} MB)`,
      above < 50 ? 'goal met' : 'GOAL MISSED (< 50 MB)',
    );
    line(
      `/healthz p99 while they open and ${CHANGES} changes`,
      `${p99.toFixed(2)} ms (max ${(times.at(-1) ?? Number.NaN).toFixed(2)})`,
      `${pct(baseTimes, 0.99).toFixed(2)} ms, same changes, no watchers`,
      p99 < 50 ? 'goal met' : 'GOAL MISSED (< 50 ms)',
    );
    console.log(
      `    (${streams} streams still open at the end; RSS then ${held.toFixed(0)} MB: anonymous ${kib('RssAnon').toFixed(0)} MB, ` +
        `files ${kib('RssFile').toFixed(0)} MB; V8 heap ${figure('nodejs_heap_size_used_bytes').toFixed(0)} MB, ` +
        `external ${figure('nodejs_external_memory_bytes').toFixed(0)} MB)`,
    );
  } finally {
    for (const s of sockets) s.destroy();
    if (child && child.exitCode === null) {
      const gone = new Promise((ok) => child!.once('exit', ok));
      child.kill('SIGTERM');
      await Promise.race([gone, sleep(5000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    agent.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(`bench:watch-memory failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
