// Peer entries (routes, neighbours, FDB entries: what a peer joining or
// leaving changes) go to an `ip -force -batch -` and a `bridge -force -batch -`
// that stay running, not to two processes started per change: at 50 agents on
// 2 cores, starting them was most of each agent's work per peer event (issue
// 10 (l)). Each batch ends with a sentinel line that always fails (`dev a/b`
// names no device): its "Command failed -:N" on stderr says the batch is
// done; the lines' own failures are renumbered from the batch's first line,
// as a fresh `-batch` would number them, so parseBatchErrors reads them
// unchanged.
//
// A running `ip` keeps each device's index by name, so a device made again
// (by the agent or anyone) would be missed: a batch that touches links or
// addresses runs in a fresh process and ends the running ones, and so does
// any failure, so the retry starts clean. A process that dies or hangs is
// replaced by the next batch; when the agent ends, their stdin closes and
// they exit.

import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import type { Exec, ExecResult } from './exec.js';

const BATCH_ARGS = ['-force', '-batch', '-'] as const;
const SENTINEL: Record<BatchTool, string> = { ip: 'link show dev a/b', bridge: 'fdb show dev a/b' };
/** A batch that takes longer has a stuck process: it is killed and the batch fails. */
const BATCH_TIMEOUT_MS = 30_000;

type BatchTool = 'ip' | 'bridge';

const FAILED_LINE = /^Command failed -:(\d+)\s*$/;

/**
 * The stderr of one batch from the stderr since its first line: the sentinel's
 * message (everything after the last other failure) dropped, line numbers
 * made relative to the batch. Pure.
 */
export function batchStderr(text: string, firstLine: number, sentinelLine: number): { stderr: string; failed: boolean } {
  const lines = text.split('\n');
  const out: string[] = [];
  let pending: string[] = [];
  let failed = false;
  for (const line of lines) {
    const m = FAILED_LINE.exec(line);
    if (!m) {
      if (line !== '') pending.push(line);
      continue;
    }
    const n = Number(m[1]);
    if (n === sentinelLine) break;
    out.push(...pending, `Command failed -:${n - firstLine + 1}`);
    pending = [];
    failed = true;
  }
  return { stderr: out.length > 0 ? `${out.join('\n')}\n` : '', failed };
}

interface Waiter {
  firstLine: number;
  sentinelLine: number;
  resolve(result: ExecResult): void;
  timer: NodeJS.Timeout;
}

/** One long-running `<tool> -force -batch -`, fed one batch at a time. */
class BatchProcess {
  private child: ChildProcessWithoutNullStreams | undefined;
  /** Lines written to the running process: `-batch` numbers them from 1 for its whole life. */
  private lines = 0;
  private stderr = '';
  private waiter: Waiter | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly tool: BatchTool) {}

  run(input: string): Promise<ExecResult> {
    const next = this.queue.then(() => this.send(input));
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Ends the process after the batches already queued; the next batch starts a new one. */
  close(): Promise<void> {
    const closed = this.queue.then(() => this.end());
    this.queue = closed;
    return closed;
  }

  private end(): void {
    this.child?.stdin.end();
    this.child = undefined;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  private send(input: string): Promise<ExecResult> {
    const child = this.child ?? this.start();
    const lines = input.split('\n').filter((l) => l !== '');
    const firstLine = this.lines + 1;
    this.lines += lines.length + 1;
    return new Promise<ExecResult>((resolve) => {
      const timer = setTimeout(() => this.fail(`${this.tool} -batch gave no answer in ${BATCH_TIMEOUT_MS / 1000} s`), BATCH_TIMEOUT_MS);
      this.waiter = { firstLine, sentinelLine: this.lines, resolve, timer };
      this.stderr = '';
      child.stdin.write(`${[...lines, SENTINEL[this.tool]].join('\n')}\n`);
    });
  }

  private start(): ChildProcessWithoutNullStreams {
    const child = spawn(this.tool, [...BATCH_ARGS], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    this.lines = 0;
    child.stdout.resume(); // changes print nothing worth keeping; never let the pipe fill
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      if (child !== this.child) return;
      this.stderr += chunk;
      this.check();
    });
    child.stdin.on('error', () => {});
    // Never what keeps the agent running: at its exit their stdin closes and they end.
    child.unref();
    for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as unknown as { unref?: () => void }).unref?.();
    const gone = (why: string) => {
      if (child !== this.child) return;
      this.child = undefined;
      this.fail(why);
    };
    child.on('error', (e) => gone(`${this.tool}: ${e.message}`));
    child.on('exit', (code, signal) => gone(`${this.tool} -batch exited (${signal ?? `code ${code}`})`));
    return child;
  }

  /** Ends the waiting batch once the sentinel's failure is on stderr. */
  private check(): void {
    const w = this.waiter;
    if (!w || !this.stderr.includes(`Command failed -:${w.sentinelLine}\n`)) return;
    this.waiter = undefined;
    clearTimeout(w.timer);
    const { stderr, failed } = batchStderr(this.stderr, w.firstLine, w.sentinelLine);
    this.stderr = '';
    // After a failure, a fresh process (a device's index may have gone stale).
    if (failed) this.end();
    w.resolve({ code: failed ? 1 : 0, stdout: '', stderr });
  }

  /** The waiting batch fails as a whole (parseBatchErrors then blames every line); the process is replaced. */
  private fail(why: string): void {
    const child = this.child;
    this.child = undefined;
    child?.kill('SIGKILL');
    const w = this.waiter;
    this.waiter = undefined;
    this.stderr = '';
    if (!w) return;
    clearTimeout(w.timer);
    // No line numbers: which lines ran is unknown, so every op of the batch counts as failed.
    w.resolve({ code: 1, stdout: '', stderr: why });
  }
}

/** The batch lines a running process takes: peer entries, which name no device it could hold stale. */
const PEER_ENTRY: Record<BatchTool, RegExp> = { ip: /^(?:route|neigh) /, bridge: /^fdb / };

/**
 * An Exec that sends `ip`/`bridge -force -batch -` of peer entries to
 * long-running processes, and everything else to `fallback`. `close()` ends the processes.
 */
export function persistentBatches(fallback: Exec): Exec & { close(): Promise<void>; pidOf(tool: BatchTool): number | undefined } {
  const processes: Record<BatchTool, BatchProcess> = { ip: new BatchProcess('ip'), bridge: new BatchProcess('bridge') };
  const closeAll = async (): Promise<void> => {
    await Promise.all([processes.ip.close(), processes.bridge.close()]);
  };
  const exec: Exec = async (file, args, stdin) => {
    const batch = (file === 'ip' || file === 'bridge') && args.length === BATCH_ARGS.length && args.every((a, i) => a === BATCH_ARGS[i]);
    if (!batch) return fallback(file, args, stdin);
    const tool = file as BatchTool;
    const lines = (stdin ?? '').split('\n').filter((l) => l !== '');
    if (lines.every((l) => PEER_ENTRY[tool].test(l))) return processes[tool].run(stdin ?? '');
    // Links or addresses change: the running processes' device indices may go stale.
    await closeAll();
    return fallback(file, args, stdin);
  };
  return Object.assign(exec, { pidOf: (tool: BatchTool) => processes[tool].pid, close: closeAll });
}
