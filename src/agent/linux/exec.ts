// The agent runs its short-lived tools (`ip`, `bridge`, `nft`, `iptables`)
// through this `Exec`: argv arrays only, never a shell, and a non-zero exit
// is a result, not an exception. Not everything goes through it: the
// long-running `ip monitor` is spawned by monitor.ts, the Docker engine is
// spoken to over HTTP (docker/engine.ts), and src/cni/ runs its own plugins.

import { spawn } from 'node:child_process';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program with arguments and optional stdin; never throws for a non-zero exit. */
export type Exec = (file: string, args: readonly string[], stdin?: string) => Promise<ExecResult>;

export const execFileArgv: Exec = (file, args, stdin) =>
  new Promise((resolve) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    // Decoded chunk by chunk, never joined as bytes: a table read at 4,093 peers is about a megabyte,
    // and a buffer that size per read grows glibc's heap in an idle agent (issue 10 (i)).
    const out: string[] = [];
    const err: string[] = [];
    child.stdout.setEncoding('utf8').on('data', (s: string) => out.push(s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => err.push(s));
    child.on('error', (e) => resolve({ code: 127, stdout: '', stderr: `${file}: ${e.message}` }));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout: out.join(''), stderr: err.join('') }));
    child.stdin.on('error', () => {});
    child.stdin.end(stdin ?? '');
  });
