// What every sub-command shares: reading the bearer token and reporting an
// error the one way (`vxnet <command>: <message>` on stderr, exit code 1).

import { readFile } from 'node:fs/promises';
import { isVxnetError, VxnetError } from '../errors.js';

/** Prints `<command>: <message>` and makes the process exit with 1 (or `code`). */
export function fail(command: string, message: string, code = 1): void {
  process.stderr.write(`${command}: ${message}\n`);
  process.exitCode = code;
}

/** Reports a VxnetError by its message; anything else is a bug and is rethrown (main.ts prints it). */
export function report(command: string, e: unknown): void {
  if (!isVxnetError(e)) throw e;
  fail(command, e.message);
}

/** The token in --token-file: one token of 16 to 4096 non-space characters, for master and agent alike. */
export async function readToken(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new VxnetError(
      'CONFIG_INVALID',
      `--token-file ${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)}); give a readable file holding the token`,
    );
  }
  const token = text.trim();
  if (!/^\S{16,4096}$/.test(token)) {
    throw new VxnetError(
      'CONFIG_INVALID',
      `--token-file ${path} must hold one token of 16 to 4096 non-space characters; generate one with: head -c 32 /dev/urandom | base64 > ${path}`,
    );
  }
  return token;
}
