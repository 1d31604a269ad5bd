import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDataDirectory } from './data-dir.js';

describe('makeDataDirectory', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'vxnet-datadir-'));
    await writeFile(join(root, 'file'), 'x');
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('creates missing parents and accepts an existing directory', async () => {
    const dir = join(root, 'a', 'b', 'c');
    makeDataDirectory(dir);
    makeDataDirectory(dir);
    expect((await stat(dir)).isDirectory()).toBe(true);
  });

  it('names a file given as the directory', () => {
    expect(() => makeDataDirectory(join(root, 'file'))).toThrow(/file, not a directory\): pass --data a writable directory/);
  });

  it('names a file that sits where a parent should be', () => {
    expect(() => makeDataDirectory(join(root, 'file', 'sub'))).toThrow(`${join(root, 'file')} is a file, not a directory`);
  });

  it('fails (instead of looping) where mkdir answers ENOENT under an existing parent', () => {
    expect(() => makeDataDirectory('/proc/vxnet-no-such-dir/data')).toThrow(/mkdir \/proc\/vxnet-no-such-dir: ENOENT/);
  });
});
