// The agent's master client against a real master process on loopback:
// registration fails over between --master URLs, and the watch stream carries
// on across a master restart without missing a change.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WatchEvent } from '../../src/api/types.js';
import { MasterClient } from '../../src/agent/master-client.js';

const CLI = join(import.meta.dirname, '../../dist/cli/main.js');
let dir: string;
let port: number;
let master: ChildProcess | undefined;

const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });

async function startMaster(): Promise<void> {
  master = spawn(process.execPath, [CLI, 'master', '--data', join(dir, 'data'), '--listen', `127.0.0.1:${port}`], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    if (await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('master did not start');
}

async function stopMaster(): Promise<void> {
  const m = master;
  if (!m || m.exitCode !== null) return;
  const exited = new Promise((r) => m.once('exit', r));
  m.kill('SIGTERM'); // by PID: this ChildProcess only
  await exited;
}

const register = (ip: string) =>
  fetch(`http://127.0.0.1:${port}/overlay-master/agents`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ip }) });

async function until<T>(what: string, check: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vxnet-agent-client-'));
  port = await freePort();
  await startMaster();
});

afterAll(async () => {
  await stopMaster();
  await rm(dir, { recursive: true, force: true });
});

describe('agent master client', () => {
  it('registers through the second URL when the first master is down', async () => {
    const deadPort = await freePort();
    const logs: string[] = [];
    const client = new MasterClient({ urls: [`http://127.0.0.1:${deadPort}`, `http://127.0.0.1:${port}`], random: () => 0, log: (m) => logs.push(m) });
    const info = await client.register({ ip: '10.0.0.1' }, AbortSignal.timeout(10_000));
    expect(info?.ip).toBe('10.0.0.1');
    expect(info?.overlays.map((o) => o.info.name)).toEqual(['dcos-1', 'dcos-2']);
    expect(logs[0]).toContain(`registration failed (POST http://127.0.0.1:${deadPort}/overlay-master/agents failed: fetch failed)`);
  });

  it('follows the watch across a master restart and misses no change', async () => {
    const client = new MasterClient({ urls: [`http://127.0.0.1:${port}`], random: () => 0 });
    const events: WatchEvent[] = [];
    const stop = new AbortController();
    const watching = client.watch((e) => events.push(e), stop.signal);
    const first = await until('the first event', () => events[0]);
    expect(first.type).toBe('resync');
    expect(first.type === 'resync' && first.state.agents.map((a) => a.ip)).toEqual(['10.0.0.1']);

    expect((await register('10.0.0.2')).status).toBe(200);
    await until('the put of 10.0.0.2', () => events.find((e) => e.type === 'put' && e.agent.ip === '10.0.0.2'));

    await stopMaster();
    await startMaster();
    expect((await register('10.0.0.3')).status).toBe(200);
    await until('the put of 10.0.0.3 after the restart', () =>
      events.find((e) => (e.type === 'put' && e.agent.ip === '10.0.0.3') || (e.type === 'resync' && e.state.agents.some((a) => a.ip === '10.0.0.3'))));
    stop.abort();
    await watching;

    const revisions = events.map((e) => e.revision);
    expect(revisions).toEqual([...revisions].sort((a, b) => a - b)); // only grows
    const seen = new Set(events.flatMap((e) => (e.type === 'put' ? [e.agent.ip] : e.type === 'resync' ? e.state.agents.map((a) => a.ip) : [])));
    expect([...seen].sort()).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
  });
});
