// What every sub-command shares: reading tokens and TLS files, and reporting an
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

/** The bytes of a file a flag names, or CONFIG_INVALID naming flag, file and reason. */
export async function readFlagFile(flag: string, path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new VxnetError(
      'CONFIG_INVALID',
      `${flag} ${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)}); give a readable file`,
    );
  }
}

/**
 * The token in a token file (`flag`, e.g. --token-file): one token of 16 to
 * 4096 printable ASCII characters, for master and agent alike. Other bytes
 * are refused: HTTP headers carry them as Latin-1 at best, so no client could
 * ever send a token the master would match.
 */
export async function readToken(path: string, flag = '--token-file'): Promise<string> {
  const token = (await readFlagFile(flag, path)).toString('latin1').trim();
  if (!/^[\x21-\x7e]{16,4096}$/.test(token)) {
    throw new VxnetError(
      'CONFIG_INVALID',
      `${flag} ${path} must hold one token of 16 to 4096 printable ASCII characters (no spaces, no other bytes); generate one with: head -c 32 /dev/urandom | base64 > ${path}`,
    );
  }
  return token;
}
