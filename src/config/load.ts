// Reads a config file from disk; the parsing and checking are pure (parse.ts).
// Every failure comes back as an error issue, never as a throw.

import { readFile, stat } from 'node:fs/promises';
import { parseConfigText } from './parse.js';
import { DEFAULT_NETWORK_CONFIG, type ConfigCheck } from './types.js';
import { checkConfig } from './validate.js';

export { formatIssues } from './format.js';
export { parseConfigText } from './parse.js';

/** Config files are small; anything larger is the wrong file. */
const MAX_CONFIG_BYTES = 1024 * 1024;

function unreadable(path: string, rule: string, fix: string): ConfigCheck {
  return { errors: [{ path, value: path, rule, fix }], warnings: [] };
}

/** Loads and checks a config file; with no path, checks the seed's defaults. */
export async function loadConfigFile(path?: string): Promise<ConfigCheck> {
  if (path === undefined) return checkConfig(DEFAULT_NETWORK_CONFIG);
  let text: string;
  try {
    const info = await stat(path);
    if (!info.isFile()) return unreadable(path, 'is not a regular file', 'give the path of a YAML or JSON config file');
    if (info.size > MAX_CONFIG_BYTES)
      return unreadable(
        path,
        `is ${info.size} bytes, larger than any config file (limit ${MAX_CONFIG_BYTES})`,
        'give the path of the YAML or JSON config file',
      );
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'EACCES'
          ? 'is not readable (permission denied)'
          : `cannot be read (${code ?? String(error)})`;
    return unreadable(
      path,
      `the config file ${reason}`,
      code === 'EACCES'
        ? 'make it readable by this user, or run as a user who can read it'
        : 'check the path, or give no file to use the defaults',
    );
  }
  return parseConfigText(text, path);
}
