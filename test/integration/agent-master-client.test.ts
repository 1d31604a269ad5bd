// The agent's master client against a real master process on loopback:
// registration fails over between --master URLs, the watch stream carries
// on across a master restart without missing a change, and a master that
// freezes (as behind a partition: no RST) is left and found again.
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WatchEvent } from '../../src/api/types.js';
import { MasterClient } from '../../src/agent/master-client.js';
import { cleanup, leftovers, type MasterProcess, startMaster as startMasterProcess, tempDir } from './fixtures/master/master-process.js';

let dir: string;
let port: number;
let master: MasterProcess | undefined;

const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });

// A fixed port: the restarted master must be found at the same URL.
async function startMaster(): Promise<void> {
  master = await startMasterProcess({ data: join(dir, 'data'), listen: `127.0.0.1:${port}` });
}

async function stopMaster(): Promise<void> {
  await master?.stop();
}

const register = (ip: string) =>
  fetch(`http://127.0.0.1:${port}/overlay-master/agents`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ip }),
  });

async function until<T>(what: string, check: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

beforeAll(async () => {
  dir = await tempDir('vxnet-agent-client-');
  port = await freePort();
  await startMaster();
});

afterAll(async () => {
  await stopMaster();
  // Stopped, not killed: anything still running is named here.
  expect(leftovers()).toEqual([]);
  await cleanup([dir]);
});

describe('agent master client', () => {
  it('registers through the second URL when the first master is down', async () => {
    const deadPort = await freePort();
    const logs: string[] = [];
    const client = new MasterClient({
      urls: [`http://127.0.0.1:${deadPort}`, `http://127.0.0.1:${port}`],
      random: () => 0,
      log: (m) => logs.push(m),
    });
    const info = await client.register({ ip: '10.0.0.1' }, AbortSignal.timeout(10_000));
    expect(info?.ip).toBe('10.0.0.1');
    expect(info?.overlays.map((o) => o.info.name)).toEqual(['dcos-1', 'dcos-2']);
    expect(logs[0]).toContain(
      `registration failed (POST http://127.0.0.1:${deadPort}/overlay-master/agents failed: connect ECONNREFUSED 127.0.0.1:${deadPort})`,
    );
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
      events.find(
        (e) => (e.type === 'put' && e.agent.ip === '10.0.0.3') || (e.type === 'resync' && e.state.agents.some((a) => a.ip === '10.0.0.3')),
      ),
    );
    stop.abort();
    await watching;

    const revisions = events.map((e) => e.revision);
    expect(revisions).toEqual([...revisions].sort((a, b) => a - b)); // only grows
    const seen = new Set(
      events.flatMap((e) => (e.type === 'put' ? [e.agent.ip] : e.type === 'resync' ? e.state.agents.map((a) => a.ip) : [])),
    );
    expect([...seen].sort()).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
  });

  it('leaves a watch silent past its limit, keeps trying a frozen master that accepts and never answers, and follows it again once thawed', async () => {
    const logs: string[] = [];
    const client = new MasterClient({
      urls: [`http://127.0.0.1:${port}`],
      random: () => 0,
      log: (m) => logs.push(m),
      watchTimeouts: { answerMs: 1_000, silenceMs: 2_000 },
    });
    const events: WatchEvent[] = [];
    const stop = new AbortController();
    const watching = client.watch((e) => events.push(e), stop.signal);
    await until('the first event', () => events[0]);
    const pid = master!.child.pid!;
    process.kill(pid, 'SIGSTOP');
    try {
      await until('the silent stream left', () => logs.find((l) => l.includes('nothing for 2 s, not even a ping')));
      await until('a reconnect that got no answer', () => logs.find((l) => l.includes('no answer within 1 s')));
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    const before = events.length;
    expect((await register('10.0.0.4')).status).toBe(200);
    await until('the put of 10.0.0.4 after the thaw', () =>
      events
        .slice(before)
        .find(
          (e) =>
            (e.type === 'put' && e.agent.ip === '10.0.0.4') || (e.type === 'resync' && e.state.agents.some((a) => a.ip === '10.0.0.4')),
        ),
    );
    stop.abort();
    await watching;
  });
});
