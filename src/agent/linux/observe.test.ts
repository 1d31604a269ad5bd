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

  it('ignores link output that changes by itself, and keeps the parsed tables whose output is unchanged', async () => {
    // A bridge's gc_timer counts on in every `ip -d` read: the parsed links stay the same.
    let tick = 0;
    let routes = [route('10.0.2.0/24')];
    const bridge = () => {
      tick += 1.5;
      return {
        ifname: 'm-dcos',
        mtu: 1420,
        address: '70:b3:d5:00:00:01',
        flags: ['UP'],
        linkinfo: { info_kind: 'bridge', info_data: { gc_timer: tick } },
      };
    };
    const fdb = [{ mac: '70:b3:d5:00:00:02', dst: '198.18.0.2', ifname: 'vtep1024' }];
    const exec: Exec = async (file) => ({
      code: 0,
      stdout: file === 'ip' ? `${JSON.stringify([bridge()])}\n[]\n${JSON.stringify(routes)}\n` : `${JSON.stringify(fdb)}\n`,
      stderr: '',
    });
    const memo: ObserveMemo = {};
    const first = await observe(exec, memo);
    expect(first.links.map((l) => l.name)).toEqual(['m-dcos']);
    expect(await observe(exec, memo)).toBe(first);
    routes = [];
    const changed = await observe(exec, memo);
    expect(changed).not.toBe(first);
    expect(changed.routes).toEqual([]);
    // Only the routes were parsed again.
    expect(changed.fdb).toBe(first.fdb);
    expect(changed.links).toBe(first.links);
  });

  it('parses every time without a memo', async () => {
    const { exec } = fakeExec(() => [route('10.0.2.0/24')]);
    expect(await observe(exec)).not.toBe(await observe(exec));
  });
});
