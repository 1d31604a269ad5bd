// The agent's credential from the master (issued at registration, rotated at
// every re-registration), kept in the state dir with mode 0600 and replaced
// atomically, so a crash leaves either the old credential or the new one.

import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

export const CREDENTIAL_FILE = 'master-credential';

/** Where the master client keeps its credential (a fake in tests). */
export interface CredentialStore {
  load(): Promise<string | undefined>;
  save(secret: string): Promise<void>;
}

export function fileCredentialStore(stateDir: string): CredentialStore {
  const path = join(stateDir, CREDENTIAL_FILE);
  return {
    async load() {
      try {
        const text = (await readFile(path, 'utf8')).trim();
        return text === '' ? undefined : text;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw e;
      }
    },
    async save(secret) {
      await mkdir(stateDir, { recursive: true, mode: 0o700 });
      const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
      // Created 0600 (not chmod-ed later): the secret is never readable by others, not even briefly.
      const file = await open(temp, 'wx', 0o600);
      try {
        await file.writeFile(`${secret}\n`);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temp, path).catch(async (e: unknown) => {
        await rm(temp, { force: true });
        throw e;
      });
    },
  };
}
