// `vxnet master --etcd URL,...`: several masters on one etcd, one of them the
// leader. Each term: open the store, stand by (503 NOT_LEADER), campaign; once
// elected, fence the store to this leader's election key, recover eagerly
// (snapshot -> reconcile -> occupy, as with SQLite) and serve. Losing the
// election key, or a write that the store cannot vouch for, ends the term:
// the master stands by again and campaigns anew.

import type { FastifyInstance } from 'fastify';
import type { Campaign } from 'etcd3';
import type { NetworkConfig } from '../config/types.js';
import { isVxnetError, VxnetError } from '../errors.js';
import { parseEndpoints, reasonOf } from '../store/etcd/connect.js';
import { EtcdStore } from '../store/etcd/etcd-store.js';
import { DEFAULT_PREFIX, layoutOf } from '../store/etcd/layout.js';
import { buildStandbyApp } from './leader-standby.js';
import { parseListen } from './listen-address.js';
import { createMetrics, type MasterMetrics } from './metrics.js';
import { EXIT_REFUSED, loadMasterConfig, readToken } from './run.js';
import { buildMasterApp, listen } from './server.js';
import { MasterService } from './service.js';

export interface RunLeaderOptions {
  config?: string;
  etcd: string;
  etcdPrefix?: string;
  listen: string;
  tokenFile?: string;
  logLevel: string;
  /** Seconds a dead leader keeps the election (default 3): takeover time. */
  leaseTtl?: number;
}

const say = (text: string) => process.stderr.write(`vxnet master: ${text}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits for a clean-up step, but never longer than the etcd deadlines allow. */
async function bounded(step: string, work: Promise<unknown> | undefined, ms = 2_500): Promise<void> {
  if (!work) return;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)));
  const outcome = await Promise.race([work.then(() => 'done', () => 'done'), late]);
  clearTimeout(timer);
  if (outcome === 'late') say(`could not ${step} within ${ms} ms; going on`);
}

/** What ends a term. */
type Outcome = { kind: 'signal'; signal: NodeJS.Signals } | { kind: 'lost'; reason: string };

export async function runLeaderMaster(opts: RunLeaderOptions): Promise<number> {
  const prefix = opts.etcdPrefix ?? DEFAULT_PREFIX;
  let config: NetworkConfig;
  let endpoints: string[];
  let token: string | undefined;
  let address: { host: string; port: number };
  try {
    address = parseListen(opts.listen);
    endpoints = parseEndpoints(opts.etcd);
    layoutOf(prefix); // a bad prefix is the operator's to fix, not something to wait out
    token = opts.tokenFile !== undefined ? await readToken(opts.tokenFile) : undefined;
    const loaded = await loadMasterConfig(opts.config);
    if (!loaded) return 1;
    config = loaded;
  } catch (e) {
    if (!isVxnetError(e)) throw e;
    say(e.message);
    return 1;
  }

  let stopSignal: NodeJS.Signals | undefined;
  let wake: (o: Outcome) => void = () => {};
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopSignal) process.exit(130); // a second signal ends the process at once
    stopSignal = signal;
    wake({ kind: 'signal', signal });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  const next = () => new Promise<Outcome>((resolve) => (wake = resolve));

  let leaderUrl: string | undefined;
  let trouble: string | undefined;
  let service: MasterService | undefined;
  const metrics: MasterMetrics = createMetrics(() => service);
  const view = { self: '', leader: () => leaderUrl, trouble: () => trouble };
  let app: FastifyInstance = buildStandbyApp(view, opts.logLevel);
  try {
    view.self = await listen(app, address.host, address.port);
  } catch (e) {
    say(`cannot listen on ${opts.listen} (${(e as NodeJS.ErrnoException).code ?? String(e)}); pick a free address with --listen HOST:PORT`);
    return 1;
  }
  const port = Number(new URL(view.self).port);
  const swap = async (build: () => FastifyInstance): Promise<void> => {
    await app.close();
    app = build();
    await listen(app, address.host, port);
  };
  process.stdout.write(`vxnet master listening on ${view.self} (etcd ${endpoints.join(',')}, prefix ${prefix}): standing by for the election\n`);

  let exitCode = 0;
  while (!stopSignal) {
    let store: EtcdStore | undefined;
    let campaign: Campaign | undefined;
    let poll: NodeJS.Timeout | undefined;
    const lost = next();
    try {
      store = await EtcdStore.open(endpoints, { prefix, onLost: (e) => wake({ kind: 'lost', reason: e.message }) });
      // Election keys: <prefix>/election/masters/<lease id>.
      const election = store.client.namespace(`${prefix}/`).election('masters', opts.leaseTtl ?? 3);
      // Polled, not observed: etcd3's observer can hang on cancel. A standby's answer lags at most 0.5 s.
      const refresh = () => election.leader().then((url) => (leaderUrl = url), () => (leaderUrl = undefined));
      await refresh();
      poll = setInterval(() => void refresh(), 500);
      trouble = undefined;
      campaign = election.campaign(view.self);
      const c = campaign;
      const elected = new Promise<Outcome | 'elected'>((resolve) => {
        c.on('elected', () => resolve('elected'));
        c.on('error', (err) => {
          resolve({ kind: 'lost', reason: `the election failed (${reasonOf(err)})` });
          wake({ kind: 'lost', reason: `the leader lease was lost (${reasonOf(err)})` });
        });
      });
      const first = await Promise.race([elected, lost]);
      if (first !== 'elected') throw new VxnetError('NOT_LEADER', first.kind === 'lost' ? first.reason : 'stopping');
      const key = await c.getCampaignKey();
      const kv = (await store.client.get(key).exec()).kvs[0];
      if (!kv) throw new VxnetError('NOT_LEADER', `the election key ${key} vanished right after the election`);
      store.setFence({ key, createRevision: String(kv.create_revision) });
      service = await MasterService.start(store, config, { storeArgs: `--etcd ${endpoints.join(',')} --etcd-prefix ${prefix}`, observer: metrics.observer });
      const leading = service;
      await swap(() => buildMasterApp({ service: leading, metrics, logLevel: opts.logLevel, ...(token !== undefined && { token }) }));
      process.stdout.write(`vxnet master ${view.self} is the leader (${service.agentCount} agents, revision ${service.revision})\n`);
      const outcome = await lost;
      if (outcome.kind === 'lost') {
        say(`stepping down: ${outcome.reason}`);
        trouble = outcome.reason;
      }
    } catch (e) {
      if (isVxnetError(e) && e.code === 'RECONCILE_REFUSED') {
        say(`refusing to lead: the store in etcd (prefix ${prefix}) contradicts the config${opts.config ? ` ${opts.config}` : ''}:`);
        for (const line of e.message.split('\n')) process.stderr.write(`  - ${line}\n`);
        exitCode = EXIT_REFUSED;
        stopSignal = 'SIGTERM'; // nothing to wait for: every master would refuse alike
      } else if (!stopSignal) {
        const why = isVxnetError(e) ? e.message : reasonOf(e);
        if (why !== trouble) say(`standing by: ${why}`);
        trouble = why;
      }
    }
    // End the term: stop serving, give the election up, stand by again.
    const ending = service;
    service = undefined;
    await ending?.close().catch(() => undefined);
    if (ending && !stopSignal) await swap(() => buildStandbyApp(view, opts.logLevel)).catch((e: unknown) => say(`cannot listen again on port ${port}: ${reasonOf(e)}`));
    clearInterval(poll);
    await bounded('resign', campaign?.resign());
    leaderUrl = undefined;
    await bounded('close the store', store?.close());
    if (!stopSignal && !ending) await Promise.race([sleep(1_000), lost]);
  }
  if (exitCode === 0) say(`${stopSignal}: stopping`);
  await app.close();
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  // The etcd client may leave a reconnecting stream behind after close; all
  // our state is already handed over, so do not let it hold the process.
  setTimeout(() => process.exit(exitCode), 500).unref();
  return exitCode;
}
