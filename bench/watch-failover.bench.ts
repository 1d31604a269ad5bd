// What a failover costs the watchers: 1,000 watch streams on the leader of two
// masters on a real 3-member etcd cluster, SIGKILL the leader while
// registrations stream in (so watchers are a few events behind), and count the
// bytes the watchers receive from the kill until 10 s after the standby took
// over (a few registrations land meanwhile). Each watcher behaves like an
// agent: it reconnects with its last id, rotating through the masters.
// Compare with 1,000 × the state, what a resync of every watcher costs.
// Run: npm run build && npm run bench:watch-failover
// (VXNET_CLI=/path/to/dist/cli/main.js measures another build, e.g. an older one.)
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startEtcdCluster } from '../test/integration/fixtures/etcd/cluster.js';

const CLI = process.env.VXNET_CLI ?? resolve(import.meta.dirname, '../dist/cli/main.js');
const WATCHERS = Number(process.env.WATCHERS ?? 1_000);
const AGENTS = Number(process.env.AGENTS ?? 200);
const AFTER = 5; // registrations after the takeover
const WINDOW_MS = 10_000;

interface Master {
  url: string;
  child: ChildProcess;
}

function startMaster(args: string[]): Promise<Master> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`master did not start:\n${out}`)), 30_000);
    const onData = (d: Buffer) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        ok({ url: m[1]!, child });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (out += d));
    child.once('exit', (code) => fail(new Error(`master exited with ${code}:\n${out}`)));
  });
}

async function leaderOf(masters: Master[], deadlineMs = 60_000): Promise<Master> {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    for (const m of masters) {
      if (m.child.exitCode !== null || m.child.signalCode !== null) continue;
      const h = await fetch(`${m.url}/healthz`).then(
        (r) => r.json() as Promise<{ status?: string }>,
        () => undefined,
      );
      if (h?.status === 'ok') return m;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('no leader');
}

/** A watch stream that reconnects like an agent (last id, next master) and counts what it receives. */
class Watcher {
  bytes = 0;
  lastId = 0;
  private at = 0;
  private req: http.ClientRequest | undefined;
  private stopped = false;
  connected = false;

  constructor(private readonly urls: string[]) {}

  start(): void {
    if (this.stopped) return;
    const url = new URL(`${this.urls[this.at % this.urls.length]}/overlay-master/watch${this.lastId > 0 ? `?since=${this.lastId}` : ''}`);
    let buffer = '';
    const again = () => {
      this.connected = false;
      if (this.stopped) return;
      this.at++;
      setTimeout(() => this.start(), 100);
    };
    this.req = http.get(url, { agent: false, headers: { accept: 'text/event-stream', 'x-vxnet-agent': '1' } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        res.on('end', again);
        return;
      }
      this.connected = true;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        this.bytes += Buffer.byteLength(chunk);
        buffer += chunk;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const id = /^id: (\d+)$/m.exec(buffer.slice(0, end));
          if (id) this.lastId = Number(id[1]);
          buffer = buffer.slice(end + 2);
        }
      });
      res.on('close', again);
    });
    this.req.on('error', again);
  }

  stop(): void {
    this.stopped = true;
    this.req?.destroy();
  }
}

async function main(): Promise<void> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first`);
  const cluster = await startEtcdCluster(3);
  const dir = await mkdtemp(join(tmpdir(), 'vxnet-bench-failover-'));
  const masters: Master[] = [];
  const watchers: Watcher[] = [];
  try {
    const config = join(dir, 'config.json');
    await writeFile(
      config,
      JSON.stringify({
        dcos_overlay_network: {
          vtep_subnet: '198.15.0.0/20',
          vtep_mac_oui: '70:B3:D5:00:00:00',
          overlays: [{ name: 'dcos', subnet: '44.128.0.0/14', prefix: 24 }],
        },
      }),
    );
    const args = [
      'master',
      '--etcd',
      cluster.endpoints.join(','),
      '--etcd-prefix',
      '/bench',
      '--listen',
      '127.0.0.1:0',
      '--config',
      config,
    ];
    masters.push(await startMaster(args), await startMaster(args));
    const leader = await leaderOf(masters);
    const standby = masters.find((m) => m !== leader)!;
    const register = (url: string, i: number) =>
      fetch(`${url}/overlay-master/agents`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ip: `10.${i >> 8}.${i & 255}.1` }),
      }).then((r) => {
        if (!r.ok) throw new Error(`registration ${i}: ${r.status}`);
      });
    for (let i = 0; i < AGENTS; i += 50)
      await Promise.all(Array.from({ length: Math.min(50, AGENTS - i) }, (_, k) => register(leader.url, i + k)));
    const stateBytes = Buffer.byteLength(await (await fetch(`${leader.url}/overlay-master/state`)).text());

    for (let i = 0; i < WATCHERS; i++) watchers.push(new Watcher([leader.url, standby.url]));
    for (const w of watchers) w.start();
    const deadline = Date.now() + 60_000;
    while (watchers.some((w) => !w.connected || w.lastId === 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    if (watchers.some((w) => !w.connected)) throw new Error('not every watcher connected');

    // Registrations in flight when the leader dies: some watchers have not seen the last ones.
    let storming = true;
    let n = AGENTS + AFTER;
    const storm = Promise.all(
      Array.from({ length: 8 }, async () => {
        while (storming) await register(leader.url, n++).catch(() => undefined);
      }),
    );
    await new Promise((r) => setTimeout(r, 1_000));
    for (const w of watchers) w.bytes = 0;
    const killed = Date.now();
    leader.child.kill('SIGKILL');
    storming = false;
    await storm;
    const next = await leaderOf([standby]);
    const tookOver = Date.now();
    for (let i = 0; i < AFTER; i++) await register(next.url, AGENTS + i).catch(() => undefined);
    await new Promise((r) => setTimeout(r, WINDOW_MS - (Date.now() - tookOver)));
    const bytes = watchers.reduce((n, w) => n + w.bytes, 0);
    const reconnected = watchers.filter((w) => w.connected).length;

    const mb = (n: number) => `${(n / 1e6).toFixed(2)} MB`;
    process.stdout.write(
      `watch failover (${CLI}):\n` +
        `  ${WATCHERS} watchers, ${AGENTS} agents, state ${stateBytes} bytes; takeover ${tookOver - killed} ms after SIGKILL; ${AFTER} registrations after it\n` +
        `  bytes to watchers from the kill to 10 s after the takeover: ${bytes} (${mb(bytes)}), ${reconnected} watchers reconnected\n` +
        `  1,000 × the state would be ${mb(stateBytes * WATCHERS)}: this is ${((100 * bytes) / (stateBytes * WATCHERS)).toFixed(2)} % of it\n`,
    );
  } finally {
    for (const w of watchers) w.stop();
    for (const m of masters) {
      if (m.child.exitCode === null && m.child.signalCode === null) {
        m.child.kill('SIGKILL');
        await new Promise((r) => m.child.once('exit', r));
      }
    }
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
