// The long-running batch processes, with the real `ip` and `bridge` of this
// host, on read-only lines only (`show` of lo and of names no device has):
// nothing in the kernel changes. Lines that would change links go to a fake.
import { afterEach, describe, expect, it } from 'vitest';
import { batchStderr, persistentBatches } from './batch-process.js';
import type { Exec } from './exec.js';
import { parseBatchErrors } from './execute.js';

const BATCH = ['-force', '-batch', '-'];

describe('batchStderr', () => {
  it("numbers the lines' failures from the batch's first line and drops the sentinel's message", () => {
    const text = 'Cannot find device "x"\nCommand failed -:12\nDevice "a/b" does not exist.\nCommand failed -:14\n';
    expect(batchStderr(text, 11, 14)).toEqual({ stderr: 'Cannot find device "x"\nCommand failed -:2\n', failed: true });
    expect(batchStderr('Device "a/b" does not exist.\nCommand failed -:3\n', 1, 3)).toEqual({ stderr: '', failed: false });
  });
});

describe('persistentBatches', () => {
  const closing: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closing.splice(0)) await close();
  });
  const start = () => {
    const others: string[] = [];
    const fallback: Exec = async (file, args, stdin) => {
      others.push([file, ...args, stdin ?? ''].join(' ').trim());
      return { code: 0, stdout: 'fallback', stderr: '' };
    };
    const exec = persistentBatches(fallback);
    closing.push(() => exec.close());
    return { exec, others };
  };
  const waitGone = async (exec: ReturnType<typeof start>['exec']) => {
    for (let i = 0; i < 500 && exec.pidOf('ip') !== undefined; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  };

  it('runs batch after batch of peer entries in one process', async () => {
    const { exec, others } = start();
    expect(await exec('ip', BATCH, 'route show dev lo\nneigh show dev lo\n')).toEqual({ code: 0, stdout: '', stderr: '' });
    const pid = exec.pidOf('ip');
    expect(pid).toBeGreaterThan(0);
    expect((await exec('ip', BATCH, 'route show dev lo\n')).code).toBe(0);
    expect(exec.pidOf('ip')).toBe(pid);
    expect(others).toEqual([]);
  });

  it('numbers failures as a fresh -batch would, and starts a fresh process after one', async () => {
    const { exec } = start();
    const first = await exec('ip', BATCH, 'route show dev lo\nneigh show dev no/such\nroute show dev lo\n');
    expect(first.code).toBe(1);
    expect([...parseBatchErrors(first.stderr).keys()]).toEqual([2]);
    expect(exec.pidOf('ip')).toBeUndefined();
    const again = await exec('ip', BATCH, 'neigh show dev no/such\n');
    expect([...parseBatchErrors(again.stderr).entries()]).toEqual([[1, 'Cannot find device "no/such"']]);
    const fdb = await exec('bridge', BATCH, 'fdb show dev no/such\n');
    expect([...parseBatchErrors(fdb.stderr).keys()]).toEqual([1]);
  });

  it('runs a batch that touches links in a fresh process and ends the running ones, whose device indices may go stale', async () => {
    const { exec, others } = start();
    await exec('ip', BATCH, 'route show dev lo\n');
    expect(exec.pidOf('ip')).toBeDefined();
    expect((await exec('ip', BATCH, 'link add m-x type bridge\nroute show dev lo\n')).stdout).toBe('fallback');
    expect(others).toEqual(['ip -force -batch - link add m-x type bridge\nroute show dev lo']);
    expect(exec.pidOf('ip')).toBeUndefined();
  });

  it('replaces a process that died, and the batch after it runs', async () => {
    const { exec } = start();
    await exec('ip', BATCH, 'route show dev lo\n');
    const pid = exec.pidOf('ip')!;
    process.kill(pid, 'SIGKILL');
    await waitGone(exec);
    expect(exec.pidOf('ip')).toBeUndefined();
    const after = await exec('ip', BATCH, 'route show dev lo\nneigh show dev no/such\n');
    expect([...parseBatchErrors(after.stderr).keys()]).toEqual([2]);
  });

  it('leaves every other command to the fallback', async () => {
    const { exec, others } = start();
    expect((await exec('ip', ['-j', 'route', 'show'])).stdout).toBe('fallback');
    expect((await exec('ip', ['-batch', '-'], 'route show\n')).stdout).toBe('fallback');
    expect(others).toEqual(['ip -j route show', 'ip -batch - route show']);
  });
});
