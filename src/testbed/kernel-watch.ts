// One `ip -ts -o monitor route neigh` per namespace, its lines kept with the
// kernel-side print time, for benches that ask "when did every host have it".
// Stopped by PID on stop(), on process exit and on SIGINT/SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseMonitorLine, type MonitorLine } from './converge.js';
import { pidAlive, registerTeardown } from './lifecycle.js';
import { sleep } from './wait.js';

export interface KernelWatch {
  /** Starts a new window: lines() returns only what arrives after this. */
  mark(): void;
  /** Lines of `ns` since the last mark. */
  lines(ns: string): readonly MonitorLine[];
  /** Monitors that exited (they should not). */
  dead(): string[];
  stop(): Promise<void>;
}

export async function watchKernels(namespaces: readonly string[]): Promise<KernelWatch> {
  const children = new Map<string, ChildProcess>();
  const buffers = new Map<string, MonitorLine[]>();
  const exited = new Set<string>();
  const killAll = () => {
    for (const c of children.values()) if (c.pid !== undefined && pidAlive(c.pid)) c.kill('SIGKILL');
  };
  const registration = registerTeardown({ sync: killAll, async: async () => killAll() });
  for (const ns of namespaces) {
    // -ts prints local time: TZ=UTC makes it parseable as UTC.
    const child = spawn('ip', ['-ts', '-o', '-n', ns, 'monitor', 'route', 'neigh'], {
      stdio: ['ignore', 'pipe', 'ignore'],
      env: { ...process.env, TZ: 'UTC' },
    });
    children.set(ns, child);
    buffers.set(ns, []);
    child.once('exit', () => exited.add(ns));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const parsed = parseMonitorLine(line);
      if (parsed) buffers.get(ns)!.push(parsed);
    });
  }
  // `ip monitor` says nothing when it has subscribed; give all of them time to.
  await sleep(500 + 10 * namespaces.length);
  return {
    mark() {
      for (const ns of namespaces) buffers.set(ns, []);
    },
    lines: (ns) => buffers.get(ns) ?? [],
    dead: () => [...exited],
    async stop() {
      killAll();
      await Promise.all(
        [...children.values()].map((c) =>
          c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('exit', r)),
        ),
      );
      registration.release();
    },
  };
}

export interface BatchWriters {
  /** Writes lines to the running `tool -n ns -force -batch -` (no fork: the kernel floor). */
  write(ns: string, tool: 'ip' | 'bridge', lines: readonly string[]): void;
  stop(): Promise<void>;
}

/** One `ip -batch -` and one `bridge -batch -` per namespace, started now and fed lines later. */
export function batchWriters(namespaces: readonly string[]): BatchWriters {
  const children = new Map<string, ChildProcess>();
  const killAll = () => {
    for (const c of children.values()) if (c.pid !== undefined && pidAlive(c.pid)) c.kill('SIGKILL');
  };
  const registration = registerTeardown({ sync: killAll, async: async () => killAll() });
  for (const ns of namespaces)
    for (const tool of ['ip', 'bridge'] as const)
      children.set(`${tool} ${ns}`, spawn(tool, ['-n', ns, '-force', '-batch', '-'], { stdio: ['pipe', 'ignore', 'ignore'] }));
  return {
    write(ns, tool, lines) {
      const c = children.get(`${tool} ${ns}`);
      if (!c?.stdin || c.exitCode !== null) throw new Error(`${tool} -batch in ${ns} is not running`);
      c.stdin.write(`${lines.join('\n')}\n`);
    },
    async stop() {
      for (const c of children.values()) c.stdin?.end();
      killAll();
      await Promise.all(
        [...children.values()].map((c) =>
          c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('exit', r)),
        ),
      );
      registration.release();
    },
  };
}
