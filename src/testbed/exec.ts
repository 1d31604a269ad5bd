// Runs external commands for the test bed: argv arrays only, never a shell.
import { execFile, execFileSync } from 'node:child_process';
import { VxnetError } from '../errors.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs argv and resolves with its exit code and output; never rejects for a non-zero exit. */
export function run(argv: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  const [file, ...args] = argv;
  if (!file) throw new VxnetError('BAD_REQUEST', 'run: empty argv');
  return new Promise((resolve) => {
    const child = execFile(file, args, { timeout: opts.timeoutMs ?? 30_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr || (err && !stderr ? err.message : '')) });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Runs argv and returns stdout; throws a KERNEL error naming the command and its stderr on failure. */
export async function runOk(argv: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<string> {
  const r = await run(argv, opts);
  if (r.code !== 0) {
    throw new VxnetError('KERNEL', `command failed (exit ${r.code}): ${argv.join(' ')}\n${r.stderr.trim()}`);
  }
  return r.stdout;
}

/** Synchronous best-effort run, for teardown inside process 'exit' handlers. */
export function runSyncQuiet(argv: readonly string[]): boolean {
  const [file, ...args] = argv;
  if (!file) return false;
  try {
    execFileSync(file, args, { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/** The argv that runs `argv` inside network namespace `ns`. */
export const inNetns = (ns: string, argv: readonly string[]): string[] => ['ip', 'netns', 'exec', ns, ...argv];

/**
 * The argv that runs `argv` in host namespace `ns` while staying in this mount
 * namespace, so network namespaces it creates (containers) are visible to all.
 */
export const inHostNetns = (ns: string, argv: readonly string[]): string[] => ['nsenter', `--net=/run/netns/${ns}`, '--', ...argv];
