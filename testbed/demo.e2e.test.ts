// `vxnet demo --no-wait` end to end: an all-ok matrix and nothing left behind.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, freePort, leftovers, run, runNames, runOk } from '../src/testbed/index.js';

describe('vxnet demo', () => {
  it("prints an all-ok ping matrix with each container's host and IP, then removes everything", async () => {
    const port = await freePort('127.0.0.1');
    const r = await run(['node', CLI, 'demo', '--no-wait', '--port', String(port)], { timeoutMs: 240_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const prefix = /run prefix (vx[0-9a-f]{4})/.exec(r.stdout)?.[1];
    expect(prefix).toBeDefined();
    const table = r.stdout.split('\n').filter((l) => /^h\d-([abc]|docker)\s/.test(l));
    // With Docker installed (the setup installs it) each host adds a Docker container on dcos-1.
    const docker = existsSync('/usr/sbin/dockerd');
    const n = docker ? 12 : 9;
    expect(table.length).toBe(2 * n);
    const containerRows = table.slice(0, n);
    expect(containerRows.filter((l) => / dcos-1 /.test(l)).length).toBe(docker ? 9 : 6);
    expect(containerRows.filter((l) => /^h\d-docker /.test(l)).length).toBe(docker ? 3 : 0);
    expect(containerRows.every((l) => /\(198\.18\.\d+\.[123]\)\s+dcos-[12]\s+192\.168\.\d+\.\d+$/.test(l))).toBe(true);
    const cells = table.slice(n).flatMap((l) => l.trim().split(/\s+/).slice(1));
    expect(cells.length).toBe(n * n);
    expect(cells.filter((x) => x === 'ok').length).toBe(n * (n - 1));
    expect(r.stdout).toContain(`all ${n * (n - 1)} pairs reachable`);
    expect(r.stdout).toContain(`http://127.0.0.1:${port}/overlay-master/state`);
    expect(r.stdout).toContain('removed everything');
    expect(await leftovers(runNames(prefix!))).toEqual([]);
    expect(readdirSync(tmpdir()).filter((d) => d.startsWith(`vxnet-${prefix}-`))).toEqual([]);
  }, 300_000);

  it('refuses to run without root, saying so (from a checkout only root can enter, too)', async () => {
    if (!existsSync('/usr/bin/setpriv')) return;
    // The checkout may sit where uid 65534 cannot go (under /root, or itself mode 700): show it what
    // the CLI needs (dist, node_modules, package.json for the module type) at a path it can reach.
    const checkout = resolve(dirname(CLI), '..', '..');
    const view = mkdtempSync(join(tmpdir(), 'vxnet-nobody-'));
    chmodSync(view, 0o755);
    const mounted: string[] = [];
    try {
      for (const part of ['dist', 'node_modules', 'package.json']) {
        const target = join(view, part);
        if (part.endsWith('.json')) writeFileSync(target, '');
        else mkdirSync(target);
        await runOk(['mount', '--bind', join(checkout, part), target]);
        mounted.push(target);
      }
      const r = await run([
        'setpriv',
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        'node',
        join(view, 'dist', 'cli', 'main.js'),
        'demo',
        '--no-wait',
      ]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain('vxnet demo: must run as root');
    } finally {
      // Never recursive: a mount still in place would delete the checkout's own files through it.
      for (const target of mounted.reverse()) await run(['umount', target]);
      for (const part of ['dist', 'node_modules']) if (existsSync(join(view, part))) rmdirSync(join(view, part));
      rmSync(join(view, 'package.json'), { force: true });
      rmdirSync(view);
    }
  });
});

describe('vxnet demo under a signal', () => {
  it('removes everything when stopped with SIGTERM while waiting', async () => {
    const { startProcess, stopProcess, waitFor, freePort: fp } = await import('../src/testbed/index.js');
    const log = `${tmpdir()}/vxnet-demo-sigterm-${process.pid}.log`;
    const demo = startProcess('demo', ['node', CLI, 'demo', '--port', String(await fp('127.0.0.1'))], log);
    try {
      await waitFor('the demo to wait for Ctrl-C', () => demo.log().includes('until Ctrl-C'), { timeoutMs: 240_000, intervalMs: 200 });
      const prefix = /run prefix (vx[0-9a-f]{4})/.exec(demo.log())![1]!;
      expect((await leftovers(runNames(prefix))).length).toBeGreaterThan(10);
      // The web page the demo points at is up while it waits.
      const page = await fetch(/web page: (http:\/\/\S+)/.exec(demo.log())![1]!);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<title>vxnet');
      process.kill(demo.pid, 'SIGTERM');
      expect(await demo.exited).toBe(143);
      expect(await leftovers(runNames(prefix))).toEqual([]);
    } finally {
      await stopProcess(demo);
      rmSync(log, { force: true });
    }
  }, 300_000);

  it('removes everything when Ctrl-C comes twice in a row (the second must not cut the teardown short)', async () => {
    const { startProcess, stopProcess, waitFor, freePort: fp } = await import('../src/testbed/index.js');
    const log = `${tmpdir()}/vxnet-demo-sigint-${process.pid}.log`;
    const demo = startProcess('demo', ['node', CLI, 'demo', '--port', String(await fp('127.0.0.1'))], log);
    try {
      await waitFor('the demo to wait for Ctrl-C', () => demo.log().includes('until Ctrl-C'), { timeoutMs: 240_000, intervalMs: 200 });
      const prefix = /run prefix (vx[0-9a-f]{4})/.exec(demo.log())![1]!;
      process.kill(demo.pid, 'SIGINT');
      await waitFor('the first SIGINT to start the teardown', () => demo.log().includes('removing everything'), {
        timeoutMs: 5_000,
        intervalMs: 20,
      });
      process.kill(demo.pid, 'SIGINT');
      expect(await demo.exited).toBe(130);
      expect(demo.log()).toContain('still removing everything');
      expect(await leftovers(runNames(prefix))).toEqual([]);
      expect(readdirSync(tmpdir()).filter((d) => d.startsWith(`vxnet-${prefix}-`))).toEqual([]);
    } finally {
      await stopProcess(demo);
      rmSync(log, { force: true });
    }
  }, 300_000);

  it('a demo killed with SIGKILL leaves state the next demo removes before it starts, on the same port', async () => {
    const { startProcess, stopProcess, waitFor, freePort: fp } = await import('../src/testbed/index.js');
    const log = `${tmpdir()}/vxnet-demo-sigkill-${process.pid}.log`;
    const port = await fp('127.0.0.1');
    const demo = startProcess('demo', ['node', CLI, 'demo', '--port', String(port)], log);
    let prefix = '';
    try {
      await waitFor('the demo to wait for Ctrl-C', () => demo.log().includes('until Ctrl-C'), { timeoutMs: 240_000, intervalMs: 200 });
      prefix = /run prefix (vx[0-9a-f]{4})/.exec(demo.log())![1]!;
      process.kill(demo.pid, 'SIGKILL');
      await demo.exited;
      expect((await leftovers(runNames(prefix))).length).toBeGreaterThan(10);
      const r = await run(['node', CLI, 'demo', '--no-wait', '--port', String(port)], { timeoutMs: 240_000 });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain('removed leftovers of a run that died without cleaning up');
      expect(r.stdout).toContain(`netns ${prefix}-h1`);
      expect(r.stdout).toMatch(/all \d+ pairs reachable/);
      expect(await leftovers(runNames(prefix))).toEqual([]);
      expect(readdirSync(tmpdir()).filter((d) => d.startsWith(`vxnet-${prefix}-`))).toEqual([]);
    } finally {
      await stopProcess(demo);
      rmSync(log, { force: true });
    }
  }, 300_000);
});
