import { describe, expect, it } from 'vitest';
import type { Exec } from './exec.js';
import { type ObserveMemo, observe } from './observe.js';

const route = (dst: string) => ({ dst, gateway: '198.18.0.2', dev: 'vtep1024', protocol: '177' });

/** `ip -batch` prints one JSON line per table asked for (links, neighbours, routes); `bridge` the FDB. */
const fakeExec = (routes: () => unknown[]): { exec: Exec; calls: string[] } => {
  const calls: string[] = [];
  const exec: Exec = async (file) => {
    calls.push(file);
    const stdout = file === 'ip' ? `[]\n[]\n${JSON.stringify(routes())}\n` : '[]\n';
    return { code: 0, stdout, stderr: '' };
  };
  return { exec, calls };
};

describe('observe', () => {
  it('gives back the same state for output identical to the last read, and a fresh one when it changed', async () => {
    let routes = [route('10.0.2.0/24')];
    const { exec, calls } = fakeExec(() => routes);
    const memo: ObserveMemo = {};
    const first = await observe(exec, memo);
    expect(first.routes).toEqual([{ dst: '10.0.2.0/24', via: '198.18.0.2', dev: 'vtep1024' }]);
    expect(await observe(exec, memo)).toBe(first);
    // Still a real read each time: the memo saves the parse, never the look at the kernel.
    expect(calls).toEqual(['ip', 'bridge', 'ip', 'bridge']);
    routes = [];
    const changed = await observe(exec, memo);
    expect(changed).not.toBe(first);
    expect(changed.routes).toEqual([]);
  });

  it('parses every time without a memo', async () => {
    const { exec } = fakeExec(() => [route('10.0.2.0/24')]);
    expect(await observe(exec)).not.toBe(await observe(exec));
  });
});
