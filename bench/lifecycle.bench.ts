// npm run bench:lifecycle — issue 8's figures on a 3-host test-bed cluster,
// each beside a floor measured in the same run, medians of RUNS (5)
// interleaved repetitions (A, floor, A, floor, ...):
//   reload → converged (add, disable, re-enable, delete --force), floor: one
//     agent's registration → every peer routes it;
//   lease expiry → peers' routes and FDB entries gone, floor: an admin delete;
//   IPAM GC: netns gone without CNI DEL → reservation released, minus the
//     grace period, floor: `vxnet container rm`.
// Every figure starts at the master's answer or watch frame (or the kill) and
// ends at the kernel or file event after which a check found the host done:
// `ip monitor`, `bridge monitor fdb`, `nft monitor` and inotify per host,
// started before the action, so nothing polls. Root only; everything lives in
// the run's namespaces and temp dir and goes at the end.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, type FSWatcher, mkdirSync, watch, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentInfo, MasterState, WatchEvent } from '../src/api/types.js';
import { DEFAULT_NETWORK_CONFIG, type NetworkConfig } from '../src/config/types.js';
import { type Cluster, type Host, inNetns, peerEntries, run, runOk, startCluster, waitFor } from '../src/testbed/index.js';
import { followWatch } from './watch-stream.js';

const RUNS = Number(process.env.RUNS ?? 5);
const TRACE = process.env.TRACE === '1';
const TTL = '3s';
const QUARANTINE = '6s';
const GRACE_MS = 1_000;
const GC_INTERVAL_MS = 250;
const X = { name: 'extra', subnet: '10.77.0.0/16', prefix: 24 };
const log = (s: string) => process.stdout.write(`${s}\n`);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

// --- events: one per host, from the kernel and the host's files --------------

/** Remembers when anything last changed on a host, and checks a condition on each change. */
class HostEvents {
  last = 0;
  private readonly listeners = new Set<() => void>();
  private readonly children: ChildProcess[] = [];
  private readonly watchers: FSWatcher[] = [];

  constructor(readonly h: Host) {
    const monitors = [
      ['ip', '-n', h.ns, 'monitor', 'link', 'address', 'route'],
      ['bridge', '-n', h.ns, 'monitor', 'fdb'],
      inNetns(h.ns, ['nft', 'monitor', 'ruleset']),
    ];
    for (const [file, ...args] of monitors) {
      const child = spawn(file!, args, { stdio: ['ignore', 'pipe', 'ignore'] });
      child.stdout!.on('data', (d: Buffer) =>
        this.hit(TRACE ? `${file === 'ip' && args[2] === 'exec' ? 'nft' : file} ${d.toString().split('\n')[0]!.slice(0, 90)}` : ''),
      );
      this.children.push(child);
    }
    mkdirSync(join(h.stateDir, 'ipam'), { recursive: true });
    for (const dir of [h.cniConfDir, join(h.stateDir, 'ipam')])
      this.watchers.push(watch(dir, { recursive: true }, (_, f) => this.hit(`file ${f}`)));
  }

  /** With TRACE=1: every event since the last `mark()`, to see what a figure waited for. */
  trace: string[] = [];
  private since = 0;
  mark(at: number): void {
    this.since = at;
    this.trace = [];
  }

  private hit(what: string): void {
    this.last = performance.now();
    if (TRACE) this.trace.push(`${(this.last - this.since).toFixed(0).padStart(6)} ms ${what}`);
    for (const l of this.listeners) l();
  }

  /**
   * Resolves with the time of the last event seen before a check of `done`
   * ended passing (the change that finished it). Checks run one at a time, again
   * after each event, and every second in case a source missed one.
   */
  until(what: string, done: () => Promise<boolean>, timeoutMs = 60_000): Promise<number> {
    return new Promise((resolve, reject) => {
      let running = false;
      let again = false;
      let over = false;
      const finish = (f: () => void) => {
        over = true;
        this.listeners.delete(check);
        clearInterval(slow);
        clearTimeout(limit);
        f();
      };
      const check = async () => {
        if (over) return;
        if (running) {
          again = true;
          return;
        }
        running = true;
        do {
          again = false;
          // An event during a passing check may be the one that finished it: the latest one counts (an upper bound).
          if (await done().catch(() => false)) return finish(() => resolve(this.last));
        } while (again && !over);
        running = false;
      };
      const slow = setInterval(check, 1_000);
      const limit = setTimeout(() => finish(() => reject(new Error(`${this.h.ns}: ${what}: not within ${timeoutMs} ms`))), timeoutMs);
      this.listeners.add(check);
      void check();
    });
  }

  close(): void {
    for (const c of this.children) if (c.pid !== undefined && c.exitCode === null) process.kill(c.pid, 'SIGTERM');
    for (const w of this.watchers) w.close();
  }
}

// --- the master's watch stream ----------------------------------------------

type Frame = { at: number; ev: WatchEvent };

/** Follows the master's watch stream; `next(pred)` resolves with the first later frame matching it. */
function watchFrames(url: string, signal: AbortSignal) {
  const waiting = new Set<{ pred: (ev: WatchEvent) => boolean; resolve: (f: Frame) => void }>();
  followWatch(url, signal, (ev, at) => {
    for (const w of [...waiting])
      if (w.pred(ev)) {
        waiting.delete(w);
        w.resolve({ at: at.mono, ev });
      }
  }).catch(() => undefined);
  return {
    next: (pred: (ev: WatchEvent) => boolean): Promise<Frame> => new Promise((resolve) => waiting.add({ pred, resolve })),
  };
}

// --- what a host has ---------------------------------------------------------

async function linkNames(h: Host): Promise<string[]> {
  return (JSON.parse(await runOk(['ip', '-n', h.ns, '-j', 'link', 'show'])) as { ifname: string }[]).map((l) => l.ifname);
}

/** Every piece of overlay `name` on h (bridges, routes to `peers`, NAT, conflist), or none of it (deleted: nor its host-local dir). */
async function overlayOn(h: Host, name: string, subnet: string, peers: string[], present: boolean, deleted: boolean): Promise<boolean> {
  const links = (await linkNames(h)).filter((l) => l === `m-${name}` || l === `d-${name}`);
  const routes = (await peerEntries(h.ns)).routes.filter((r) => peers.includes(r));
  const nat = (await runOk(inNetns(h.ns, ['nft', 'list', 'ruleset']))).includes(subnet);
  const conflist = existsSync(join(h.cniConfDir, `vxnet-${name}.conflist`));
  if (present) return links.length === 2 && routes.length === peers.length && nat && conflist;
  return links.length === 0 && routes.length === 0 && !nat && !conflist && !(deleted && existsSync(join(h.stateDir, 'ipam', name)));
}

const subnetsOf = (a: AgentInfo | undefined): string[] =>
  (a?.overlays ?? []).filter((o) => o.info.enabled !== false && o.subnet).map((o) => o.subnet!);

/** Whether h routes every one of `subnets` (present) or none of them, nor has an FDB entry towards `ip` (gone). */
async function routesTo(h: Host, subnets: string[], ip: string, present: boolean): Promise<boolean> {
  const e = await peerEntries(h.ns);
  if (present) return subnets.every((s) => e.routes.includes(s));
  return !subnets.some((s) => e.routes.includes(s)) && !e.fdb.some((f) => f.endsWith(` ${ip}`));
}

// --- the bench ---------------------------------------------------------------

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench:lifecycle must run as root (it builds network namespaces)');
  const c: Cluster = await startCluster({
    hosts: 3,
    masterArgs: ['--agent-ttl', TTL, '--agent-quarantine', QUARANTINE],
    agentArgs: (h) => [
      '--ipam-gc-grace',
      `${GRACE_MS}ms`,
      '--ipam-gc-interval',
      `${GC_INTERVAL_MS}ms`,
      '--container-state-dir',
      h.containersDir,
      '--podman-argv',
      '[]',
    ],
  });
  const abort = new AbortController();
  const events = c.hosts.map((h) => new HostEvents(h));
  const fig: Record<string, number[]> = {};
  const add = (k: string, v: number) => {
    fig[k] = [...(fig[k] ?? []), v];
  };
  try {
    await c.waitAllOk(60_000);
    const watch = watchFrames(c.localMasterUrl, abort.signal);
    const [h1, , h3] = c.hosts as [Host, Host, Host];
    const peersOf3 = events.filter((e) => e.h !== h3);
    const state = async (): Promise<MasterState> => c.state();
    const agentOf = (s: MasterState, ip: string) => s.agents.find((a) => a.ip === ip);
    /** Every host routes every other host's subnets: the next figure starts from a settled cluster. */
    const settled = async () => {
      await c.waitAllOk(60_000);
      const s = await state();
      await waitFor(
        'every host to route every peer',
        async () => {
          for (const h of c.hosts)
            for (const a of s.agents) if (a.ip !== h.ip && !(await routesTo(h, subnetsOf(a), a.ip, true))) return undefined;
          return true;
        },
        { timeoutMs: 60_000, intervalMs: 200 },
      );
    };

    const reload = async (config: NetworkConfig, force = false): Promise<number> => {
      writeFileSync(join(c.tmpDir, 'config.json'), JSON.stringify(config, null, 2));
      const sent = performance.now();
      const res = await fetch(`${c.localMasterUrl}/overlay-master/network/reload`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ force }),
      });
      const answered = performance.now();
      if (!res.ok) throw new Error(`reload answered ${res.status}: ${await res.text()}`);
      await res.text();
      add('reload request → answer', answered - sent);
      return answered;
    };
    /** Reloads and waits until every host has all of X, or none of it; the figure from the master's answer. */
    const reloadFigure = async (what: string, config: NetworkConfig, present: boolean, force = false) => {
      const subnetsInX = (s: MasterState) =>
        new Map(s.agents.flatMap((a) => a.overlays.filter((o) => o.info.name === X.name && o.subnet).map((o) => [a.ip, o.subnet!])));
      // Gone: the subnets held before; present: those the reload gave.
      const before = subnetsInX(await state());
      const answered = await reload(config, force);
      for (const e of events) e.mark(answered);
      const held = present ? subnetsInX(await state()) : before;
      if (held.size !== c.hosts.length)
        throw new Error(`${what}: ${held.size} agents hold a subnet in ${X.name}, expected ${c.hosts.length}`);
      const done = await Promise.all(
        events.map((e) =>
          e.until(`${what} of ${X.name}`, () =>
            overlayOn(
              e.h,
              X.name,
              X.subnet,
              [...held].filter(([ip]) => ip !== e.h.ip).map(([, s]) => s),
              present,
              force,
            ),
          ),
        ),
      );
      add(`reload → converged (${what})`, Math.max(...done) - answered);
      if (TRACE) for (const e of events) log(`  ${what} on ${e.h.ns} (from the answer):\n    ${e.trace.join('\n    ')}`);
    };

    for (let k = 1; k <= RUNS; k++) {
      log(`run ${k}/${RUNS}`);
      await settled();
      // (1) reload: add, then one container on it on h1 (host-local data for the delete).
      await reloadFigure('add', { ...DEFAULT_NETWORK_CONFIG, overlays: [...DEFAULT_NETWORK_CONFIG.overlays, X] }, true);
      const xCtr = c.names.container(`x${k}`);
      await c.runContainer(h1, xCtr, X.name);

      // (2) floors: an admin delete of a frozen h3, then its registration once thawed.
      await settled();
      const before = agentOf(await state(), h3.ip)!;
      process.kill(h3.agent!.pid, 'SIGSTOP');
      const deleted = watch.next((ev) => ev.type === 'delete' && ev.ip === h3.ip);
      const registered = watch.next((ev) => ev.type === 'put' && ev.agent.ip === h3.ip && subnetsOf(ev.agent).length > 0);
      const res = await fetch(`${c.localMasterUrl}/overlay-master/agents/delete`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ agents: [h3.ip] }),
      });
      if (!res.ok) throw new Error(`admin delete answered ${res.status}: ${await res.text()}`);
      const del = await deleted;
      const removed = await Promise.all(
        peersOf3.map((e) => e.until('admin delete of h3', () => routesTo(e.h, subnetsOf(before), h3.ip, false))),
      );
      add('admin delete → peers drop it (floor)', Math.max(...removed) - del.at);
      process.kill(h3.agent!.pid, 'SIGCONT');
      const reg = await registered;
      const fresh = subnetsOf((reg.ev as { agent: AgentInfo }).agent);
      const routed = await Promise.all(peersOf3.map((e) => e.until('registration of h3', () => routesTo(e.h, fresh, h3.ip, true))));
      add('registration → peers route it (floor)', Math.max(...routed) - reg.at);
      await settled();

      // (3) reload: disable, re-enable, delete --force (the container on it included).
      await reloadFigure(
        'disable',
        { ...DEFAULT_NETWORK_CONFIG, overlays: [...DEFAULT_NETWORK_CONFIG.overlays, { ...X, enabled: false }] },
        false,
      );
      await reloadFigure('re-enable', { ...DEFAULT_NETWORK_CONFIG, overlays: [...DEFAULT_NETWORK_CONFIG.overlays, X] }, true);
      await reloadFigure('delete --force', DEFAULT_NETWORK_CONFIG, false, true);
      await run(['ip', 'netns', 'del', xCtr]);

      // (4) expiry of a frozen h3: from the expiry's watch frame to its peers' routes and FDB entries gone.
      await settled();
      const held = agentOf(await state(), h3.ip)!;
      const expiredFrame = watch.next((ev) => ev.type === 'delete' && ev.ip === h3.ip);
      const expiredMark = watch.next((ev) => ev.type === 'expired' && ev.ip === h3.ip);
      for (const e of peersOf3)
        if (!(await routesTo(e.h, subnetsOf(held), h3.ip, true))) throw new Error(`${e.h.ns} does not route h3 before its expiry`);
      const frozenAt = performance.now();
      process.kill(h3.agent!.pid, 'SIGSTOP');
      const exp = await expiredFrame;
      await expiredMark;
      for (const e of peersOf3) e.mark(exp.at);
      add('SIGSTOP → expiry frame (TTL 3 s)', exp.at - frozenAt);
      const dropped = await Promise.all(peersOf3.map((e) => e.until('expiry of h3', () => routesTo(e.h, subnetsOf(held), h3.ip, false))));
      add('expiry → peers drop it', Math.max(...dropped) - exp.at);
      if (TRACE)
        for (const e of peersOf3)
          log(`  expiry of h3 ${subnetsOf(held).join(' ')} on ${e.h.ns} (from the frame):\n    ${e.trace.join('\n    ')}`);
      process.kill(h3.agent!.pid, 'SIGCONT');

      // (5) IPAM GC on h1: a container's netns deleted without CNI DEL, then the floor, one `vxnet container rm`.
      await settled();
      const leak = c.names.container(`l${k}`);
      const leakIp = await c.runContainer(h1, leak, 'dcos-1');
      const file = join(h1.stateDir, 'ipam', 'dcos-1', leakIp);
      const h1Events = events[0]!;
      const released = h1Events.until('release of the leaked address', async () => !existsSync(file));
      const killedAt = performance.now();
      await runOk(['ip', 'netns', 'del', leak]);
      add('GC: netns gone → released, minus grace', (await released) - killedAt - GRACE_MS);
      const gone = c.names.container(`r${k}`);
      await c.runContainer(h1, gone, 'dcos-1');
      const rm0 = performance.now();
      await c.removeContainer(h1, gone);
      add('vxnet container rm (floor)', performance.now() - rm0);
    }

    const m = (k: string) => median(fig[k]!);
    const row = (what: string, k: string, floorName: string, fk: string, target?: number) => {
      const v = m(k);
      const f = m(fk);
      const verdict = target === undefined ? 'INFO' : v <= target ? 'PASS' : 'MISS';
      log(
        `${verdict}  ${what}: median ${v.toFixed(0)} ms (${fig[k]!.map((x) => x.toFixed(0)).join('/')})  | floor ${floorName} ${f.toFixed(0)} ms  | ratio ${(v / f).toFixed(2)}${target === undefined ? '' : `  | target <= ${target} ms`}`,
      );
    };
    log('');
    log(`3 hosts, medians of ${RUNS} interleaved runs; agent TTL ${TTL}, IPAM GC grace ${GRACE_MS} ms every ${GC_INTERVAL_MS} ms`);
    log(`INFO  reload request → master's answer: median ${m('reload request → answer').toFixed(0)} ms`);
    for (const w of ['add', 'disable', 're-enable', 'delete --force'])
      row(
        `reload → converged (${w})`,
        `reload → converged (${w})`,
        'registration → peers route it',
        'registration → peers route it (floor)',
        2_000,
      );
    row(
      'expiry → peers drop routes and FDB',
      'expiry → peers drop it',
      'admin delete → peers drop it',
      'admin delete → peers drop it (floor)',
    );
    log(`INFO  SIGSTOP → expiry frame: median ${m('SIGSTOP → expiry frame (TTL 3 s)').toFixed(0)} ms (TTL ${TTL})`);
    row(
      'IPAM GC: netns gone → released, minus grace',
      'GC: netns gone → released, minus grace',
      'vxnet container rm',
      'vxnet container rm (floor)',
    );
  } finally {
    abort.abort();
    for (const e of events) e.close();
    for (const h of c.hosts) if (h.agent?.isRunning()) process.kill(h.agent.pid, 'SIGCONT');
    await c.teardown();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:lifecycle: ${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
});
