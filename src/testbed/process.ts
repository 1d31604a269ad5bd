// Child processes of the test bed: logged to a file, stopped by PID only.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { sleep } from './wait.js';

export interface Proc {
  name: string;
  pid: number;
  logFile: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  isRunning(): boolean;
  log(): string;
}

/** Starts argv in the background with stdout and stderr appended to `logFile`. */
export function startProcess(name: string, argv: readonly string[], logFile: string): Proc {
  const [file, ...args] = argv;
  if (!file) throw new Error(`${name}: empty argv`);
  const fd = openSync(logFile, 'a');
  const child = spawn(file, args, { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  let running = true;
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code, signal) => {
      running = false;
      resolve(code ?? (signal ? -1 : null));
    });
    child.once('error', () => {
      running = false;
      resolve(null);
    });
  });
  if (child.pid === undefined) throw new Error(`${name}: could not start ${file}`);
  return {
    name,
    pid: child.pid,
    logFile,
    child,
    exited,
    isRunning: () => running,
    log: () => {
      try {
        return readFileSync(logFile, 'utf8');
      } catch {
        return '';
      }
    },
  };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopProcess(p: Proc, graceMs = 5_000): Promise<void> {
  if (!p.isRunning()) return;
  try {
    process.kill(p.pid, 'SIGTERM');
  } catch {
    return;
  }
  const done = await Promise.race([p.exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!done) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      return;
    }
    await p.exited;
  }
}

/** Synchronous kill for 'exit' handlers. */
export function killSync(p: Proc): void {
  if (!p.isRunning()) return;
  try {
    process.kill(p.pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}
