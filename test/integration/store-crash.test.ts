// SIGKILL a process in the middle of a commit storm: every commit it
// acknowledged must be in the store when the directory is opened again.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../..');
const fixture = join(here, 'fixtures', 'store-storm.ts');
const ACKS_BEFORE_KILL = 3000;

let child: ChildProcess | undefined;
let dir: string | undefined;
afterEach(() => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('keeps every acknowledged commit after SIGKILL mid-storm', async () => {
  dir = mkdtempSync(join(tmpdir(), 'vxnet-crash-'));
  const storm = spawn(process.execPath, ['--import', 'tsx', fixture, dir], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  child = storm;
  let stderr = '';
  storm.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    storm.on('exit', (code, signal) => done({ code, signal })),
  );

  const acks: { revision: number; ip: string; seq: number }[] = [];
  let secondOpener: Promise<unknown> | undefined;
  const lines = createInterface({ input: storm.stdout! });
  const allRead = new Promise<void>((done) => lines.on('close', done));
  lines.on('line', (line) => {
    const [kind, a, b, c] = line.split(' ');
    if (kind === 'ready')
      secondOpener = SqliteStore.open(dir!).then(
        (s) => s.close(),
        (e: unknown) => e,
      );
    if (kind !== 'ack') return;
    acks.push({ revision: Number(a), ip: b!, seq: Number(c) });
    if (acks.length === ACKS_BEFORE_KILL) storm.kill('SIGKILL');
  });

  const ended = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 45_000))]);
  expect(ended, `storm did not end; stderr: ${stderr}`).not.toBe('timeout');
  await allRead;
  expect(ended, `storm exited by itself; stderr: ${stderr}`).toEqual({ code: null, signal: 'SIGKILL' });
  expect(acks.length).toBeGreaterThanOrEqual(ACKS_BEFORE_KILL);

  // While it ran, a second opener was refused with the storm's PID.
  const refusal = await secondOpener;
  expect(String(refusal)).toContain(`another vxnet master (pid ${storm.pid}) is using ${dir}`);

  // The dead process's lock is stale: reopening works and holds every acknowledged change.
  const store = await SqliteStore.open(dir);
  try {
    const snap = await store.snapshot();
    const stored = new Map(snap.agents.map((a) => [a.ip, a.seq]));
    const missing = acks.filter((ack) => stored.get(ack.ip) !== ack.seq);
    expect(missing).toEqual([]);
    expect(new Set(acks.map((a) => a.revision)).size).toBe(acks.length);
    expect(snap.revision).toBeGreaterThanOrEqual(Math.max(...acks.map((a) => a.revision)));
    // Revisions keep growing after the crash.
    expect(await store.commit([{ type: 'delete', ip: acks[0]!.ip }])).toBe(snap.revision + 1);
  } finally {
    await store.close();
  }
});
