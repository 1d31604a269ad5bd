// What one client, or a crowd of them, can hold of a real master process:
// watch streams that never read are cut (destroyed, not ended) once past
// their budget and cost shared bytes until then; watchers past the cap get a
// 503 with Retry-After while agents still get theirs; HEAD is no watcher; a
// slow body is cut by the request timeout; connections past the cap are
// closed. Every wait is for an event, with a generous ceiling: no timings.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, cleanup, type MasterProcess, startMasterProcess, tempDir, writeConfig } from './fixtures/master/master-process.js';

const CEILING = 30_000;

/** Wide overlays and VTEP pool: thousands of agents fit. */
const wide = {
  vtep_subnet: '198.18.0.0/15',
  vtep_mac_oui: '70:B3:D5:00:00:00',
  overlays: [
    { name: 'wide-a', subnet: '10.0.0.0/8', prefix: 24 },
    { name: 'wide-b', subnet: '100.64.0.0/10', prefix: 26 },
  ],
};
const agentIp = (n: number) => `172.${16 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

/** Polls until `check` is true (or the ceiling passes); returns whether it became true. */
async function until(check: () => Promise<boolean> | boolean, ceiling = CEILING): Promise<boolean> {
  const deadline = Date.now() + ceiling;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(100);
  }
  return check();
}

async function metric(url: string, name: string): Promise<number> {
  const text = (await call(url, 'GET', '/metrics')).text;
  return Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
}

const portOf = (url: string) => Number(new URL(url).port);

/** A raw connection that sends `request` and never reads what comes back (no 'data' listener). */
function rawConnection(url: string, request: string): Promise<Socket> {
  return new Promise((ok, fail) => {
    const s = connect({ host: '127.0.0.1', port: portOf(url) }, () => {
      s.write(request);
      ok(s);
    });
    s.once('error', fail);
  });
}

const watchRequest = (url: string, headers = '') =>
  `GET /overlay-master/watch HTTP/1.1\r\nHost: 127.0.0.1:${portOf(url)}\r\n${headers}\r\n`;

/** Resolves when the peer has closed the connection (reading whatever is left), false at the ceiling. */
function closed(s: Socket, ceiling = CEILING): Promise<boolean> {
  return new Promise((ok) => {
    if (s.destroyed) return ok(true);
    const timer = setTimeout(() => ok(false), ceiling);
    s.once('close', () => {
      clearTimeout(timer);
      ok(true);
    });
    s.on('data', () => undefined);
    s.on('error', () => undefined);
    s.resume();
  });
}

/** The master's sockets on its port that are still ESTABLISHED, as the kernel lists them. */
function established(url: string): string[] {
  const port = portOf(url);
  return execFileSync('ss', ['-Htn', 'state', 'established', `( sport = :${port} )`], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.trim() !== '');
}

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

/** Registers agents `from`..`to`-1 through the HTTP API, `width` requests at a time. */
async function registerMany(url: string, from: number, to: number, width = 32): Promise<void> {
  let next = from;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < to) {
        const ip = agentIp(next++);
        const r = await call(url, 'POST', '/overlay-master/agents', { ip });
        if (r.status !== 200) throw new Error(`register ${ip}: ${r.status} ${r.text}`);
      }
    }),
  );
}

describe('master limits: watch streams', () => {
  let dir: string;
  let master: MasterProcess;

  beforeAll(async () => {
    dir = await tempDir();
    const config = await writeConfig(dir, 'wide.json', wide);
    master = await startMasterProcess([
      'master',
      '--data',
      join(dir, 'data'),
      '--config',
      config,
      '--listen',
      '127.0.0.1:0',
      '--watch-buffer-kib',
      '64',
      '--max-watchers',
      '3',
    ]);
    await registerMany(master.url, 0, 2);
  });
  afterAll(async () => {
    await master?.stop();
    await cleanup([dir]);
  });

  it('HEAD /overlay-master/watch answers like a GET but opens no stream', async () => {
    const head = await rawConnection(master.url, watchRequest(master.url).replace('GET', 'HEAD'));
    let answer = '';
    head.on('data', (d: Buffer) => (answer += d));
    expect(await until(() => answer.includes('\r\n\r\n'))).toBe(true);
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer.toLowerCase()).toContain('content-type: text/event-stream');
    // The connection stays open: were it a stream, the master would count it.
    expect(await metric(master.url, 'vxnet_watch_streams')).toBe(0);
    head.destroy();
  });

  it('destroys a watcher that never reads once it is over its budget: its socket is closed, not left ESTABLISHED', async () => {
    const slow = await rawConnection(master.url, watchRequest(master.url));
    expect(await until(async () => (await metric(master.url, 'vxnet_watch_streams')) === 1)).toBe(true);
    // Status reports with long errors: each is a put frame of ~8 KiB. The kernel's
    // socket buffers take a few MiB before anything stays queued in the master.
    const error = 'e'.repeat(4000);
    const report = (i: number) => ({
      overlays: [
        { name: 'wide-a', status: 'STATUS_FAILED', error: `${error}${i}` },
        { name: 'wide-b', status: 'STATUS_FAILED', error: `${error}${i}` },
      ],
    });
    let i = 0;
    const cut = await until(async () => {
      for (const end = i + 50; i < end; i++) await call(master.url, 'PUT', `/overlay-master/agents/${agentIp(0)}/status`, report(i));
      return (await metric(master.url, 'vxnet_watch_streams_dropped')) === 1;
    }, 120_000);
    expect(cut).toBe(true);
    expect(await metric(master.url, 'vxnet_watch_streams')).toBe(0);
    // Destroyed: the master's side is gone from ESTABLISHED at once (end() would
    // keep it there, with its bytes queued, until the client read them all).
    const local = `127.0.0.1:${slow.localPort}`;
    expect(established(master.url).filter((l) => l.includes(local))).toEqual([]);
    // And the client, once it reads, finds the stream closed.
    expect(await closed(slow)).toBe(true);
  }, 180_000);

  it('answers watchers past --max-watchers with 503 and Retry-After; an agent still gets its stream', async () => {
    const held = await Promise.all([0, 1, 2].map(() => rawConnection(master.url, watchRequest(master.url))));
    expect(await until(async () => (await metric(master.url, 'vxnet_watch_streams')) === 3)).toBe(true);

    const refused = await fetch(`${master.url}/overlay-master/watch`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    const body = (await refused.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('TOO_MANY_WATCHERS');
    expect(body.error.message).toContain('--max-watchers');

    // Agents' streams are counted apart (one per registered agent, plus headroom).
    const controller = new AbortController();
    const agent = await fetch(`${master.url}/overlay-master/watch`, {
      headers: { 'x-vxnet-agent': agentIp(1) },
      signal: controller.signal,
    });
    expect(agent.status).toBe(200);
    expect(agent.headers.get('content-type')).toBe('text/event-stream');
    expect(await metric(master.url, 'vxnet_agent_watch_streams')).toBe(1);
    controller.abort();

    // A freed place is taken again.
    held.pop()!.destroy();
    expect(await until(async () => (await metric(master.url, 'vxnet_watch_streams')) === 2)).toBe(true);
    const again = await fetch(`${master.url}/overlay-master/watch`, { signal: AbortSignal.timeout(CEILING) });
    expect(again.status).toBe(200);
    await again.body?.cancel();
    for (const s of held) s.destroy();
  });
});

describe('master limits: slow bodies and connections', () => {
  let dir: string;
  let master: MasterProcess;
  const TIMEOUT_S = 2;

  beforeAll(async () => {
    dir = await tempDir();
    master = await startMasterProcess([
      'master',
      '--data',
      join(dir, 'data'),
      '--listen',
      '127.0.0.1:0',
      '--request-timeout',
      String(TIMEOUT_S),
      '--max-connections',
      '16',
    ]);
  });
  afterAll(async () => {
    await master?.stop();
    await cleanup([dir]);
  });

  it('cuts a body sent one byte a second with a 408, and leaves a watch stream alone', async () => {
    const watch = await rawConnection(master.url, watchRequest(master.url));
    let watched = '';
    watch.on('data', (d: Buffer) => (watched += d));
    const slow = await rawConnection(
      master.url,
      `POST /overlay-master/agents HTTP/1.1\r\nHost: 127.0.0.1:${portOf(master.url)}\r\nContent-Type: application/json\r\nContent-Length: 60000\r\n\r\n`,
    );
    let answer = '';
    slow.on('data', (d: Buffer) => (answer += d));
    const drip = setInterval(() => slow.writable && slow.write('{'), 1000);
    try {
      // The timeout is 2 s; the ceiling is generous, and without a timeout it is never closed.
      expect(await closed(slow, 20_000)).toBe(true);
    } finally {
      clearInterval(drip);
    }
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(answer).toContain('"code":"TIMEOUT"');
    // The watch stream outlived the timeout and still gets events.
    expect(watch.destroyed).toBe(false);
    expect((await call(master.url, 'POST', '/overlay-master/agents', { ip: '10.20.0.1' })).status).toBe(200);
    expect(await until(() => watched.includes('"ip":"10.20.0.1"'))).toBe(true);
    watch.destroy();
  }, 60_000);

  it('closes connections past --max-connections as they arrive, and takes new ones once some close', async () => {
    // Idle connections that started a request: 16 of them fill the cap.
    const partial = `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${portOf(master.url)}\r\n`;
    const held = await Promise.all(Array.from({ length: 16 }, () => rawConnection(master.url, partial)));
    // Let the master accept them all before the one too many.
    await until(() => established(master.url).length >= 16);
    const extra = await rawConnection(master.url, `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${portOf(master.url)}\r\n\r\n`);
    let got = '';
    extra.on('data', (d: Buffer) => (got += d));
    expect(await closed(extra)).toBe(true);
    expect(got).toBe('');
    for (const s of held) s.destroy();
    expect(await until(async () => (await call(master.url, 'GET', '/healthz').catch(() => undefined))?.status === 200)).toBe(true);
  }, 60_000);
});

describe('master limits: memory with thousands of agents and watchers that never read', () => {
  let dir: string;
  let master: MasterProcess;

  beforeAll(async () => {
    dir = await tempDir();
    const config = await writeConfig(dir, 'wide.json', wide);
    master = await startMasterProcess(['master', '--data', join(dir, 'data'), '--config', config, '--listen', '127.0.0.1:0']);
  });
  afterAll(async () => {
    await master?.stop();
    await cleanup([dir]);
  });

  it('300 non-reading watchers of a 5,000-agent state, then 5 MB of changes, stay well under a ceiling above the baseline', async () => {
    await registerMany(master.url, 0, 5000);
    // Baseline: after one full read of the state, so its one-off caches are in it.
    const state = await call(master.url, 'GET', '/overlay-master/state');
    expect(state.body.agents).toHaveLength(5000);
    await sleep(500);
    const baseline = rssMb(master.child.pid!);

    const sockets: Socket[] = [];
    for (let i = 0; i < 300; i += 50)
      sockets.push(...(await Promise.all(Array.from({ length: 50 }, () => rawConnection(master.url, watchRequest(master.url))))));
    expect(await until(async () => (await metric(master.url, 'vxnet_watch_streams')) === 300)).toBe(true);
    // Changes while they do not read, each an ~8 KiB frame queued to all 300: more
    // than the kernel's socket buffers take, so the rest waits in the master.
    const error = 'e'.repeat(4000);
    let n = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (n < 600) {
          const ip = agentIp(n++);
          await call(master.url, 'PUT', `/overlay-master/agents/${ip}/status`, {
            overlays: [
              { name: 'wide-a', status: 'STATUS_FAILED', error },
              { name: 'wide-b', status: 'STATUS_FAILED', error },
            ],
          });
        }
      }),
    );
    // None was cut: this is what they cost while within their budget.
    expect(await metric(master.url, 'vxnet_watch_streams')).toBe(300);
    await call(master.url, 'GET', '/healthz');
    const held = rssMb(master.child.pid!);
    // Shared bytes: one state (~2 MB) and the events (~5 MB) once, not a copy per stream (hundreds of MB).
    expect(held - baseline, `RSS ${baseline.toFixed(0)} MB -> ${held.toFixed(0)} MB`).toBeLessThan(150);
    for (const s of sockets) s.destroy();
  }, 180_000);
});
