// Several masters on one shared store (etcd), one of them the leader. The
// process is one loop of terms, each read top to bottom:
//   standby:  open the store, serve reads from it (its watch follows every
//             master's writes), refuse writes and agents with NOT_LEADER;
//   campaign: wait to be elected (or for the store to fail, or a signal);
//   lead:     fence the store to this term, recover eagerly (snapshot ->
//             reconcile -> occupy, as with one master) and take writes;
//   end:      on a lost lease, a write the store cannot vouch for, or a
//             signal: stop writing, resign, close the store, stand by again.
// The CLI picks the store and the leadership (src/cli/master.ts) and ends the process.

import { canonicalize } from '../config/canonical.js';
import type { NetworkConfig } from '../config/types.js';
import { isVxnetError } from '../errors.js';
import type { Leadership } from '../store/leadership.js';
import type { Store } from '../store/store.js';
import type { ListenAddress } from '../api/listen.js';
import { createMetrics } from './metrics.js';
import { StateReplica } from './replica.js';
import { ElectedRole } from './role.js';
import type { MasterLimits } from './limits.js';
import { buildMasterApp, listen, type MasterSecurity } from './server.js';
import { reloadOnHangup, rereadOnStandby } from './reload-hangup.js';
import { MasterService } from './service.js';
import type { LeaseSettings } from './leases.js';

/** What one term runs on: a freshly opened store and the election beside it. */
export interface Term {
  store: Store;
  leadership: Leadership;
}

export interface RunLeaderOptions {
  /** Opens the store and its leadership for a term; `onLost` fires when the store stops taking writes. */
  openTerm(onLost: (reason: string) => void): Promise<Term>;
  config: NetworkConfig;
  listen: ListenAddress;
  /** The flags naming the store, for refusals' fix text, e.g. `--etcd URL --etcd-prefix /vxnet`. */
  storeArgs: string;
  /** Where the store is, for the start-up line. */
  where: string;
  security?: MasterSecurity;
  limits?: MasterLimits;
  logLevel: string;
  /** Resolves with the signal that stops the master. */
  stop: Promise<NodeJS.Signals>;
  /** Reads and checks the --config file again, for reloads (SIGHUP and the admin endpoint). */
  loadConfig?: () => Promise<NetworkConfig>;
  /** Registers what SIGHUP does. */
  onHangup?: (handler: () => void) => void;
  /** Prints one line of news (stderr). */
  say(text: string): void;
  /** Agent leases (`--agent-ttl`); off when absent. A new leader counts every live agent as renewed when it takes over. */
  leases?: LeaseSettings;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits for a clean-up step, but never longer than the store's deadlines allow. */
async function bounded(say: (t: string) => void, step: string, work: Promise<unknown> | undefined, ms = 2_500): Promise<void> {
  if (!work) return;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)));
  const outcome = await Promise.race([
    work.then(
      () => 'done',
      () => 'done',
    ),
    late,
  ]);
  clearTimeout(timer);
  if (outcome === 'late') say(`could not ${step} within ${ms} ms; going on`);
}

/**
 * Serves until `stop` resolves. Throws VxnetError RECONCILE_REFUSED when the
 * store contradicts the config (every master would refuse alike), after
 * cleaning up; the listen error as PRECONDITION.
 */
export async function runLeaderMaster(opts: RunLeaderOptions): Promise<void> {
  const { say } = opts;
  let stopped = false;
  const stopping = opts.stop.then((signal) => {
    stopped = true;
    say(`${signal}: stopping`);
    return { kind: 'stop' as const, signal };
  });
  let leaderUrl: string | undefined;
  let trouble: string | undefined;
  const view = { self: '', leader: () => leaderUrl, trouble: () => trouble };
  const role = new ElectedRole(view);
  // What a term leads with. The store's config is what the cluster runs (a reload on any master
  // changed it), so a takeover leads with it; this master's file only when the store holds none yet,
  // or when a SIGHUP re-read it after the last stored change this master saw. A file that merely
  // differs is named in the log, never applied by a takeover: a stale copy would undo a reload.
  let file = opts.config;
  let fileIsNews = false;
  const leadWith = (stored: NetworkConfig | undefined): NetworkConfig => {
    if (!stored || fileIsNews) return file;
    if (JSON.stringify(canonicalize(file).network) !== JSON.stringify(stored))
      say(
        "this master's --config differs from the stored network config; leading with the stored one (the last applied): run `vxnet network reload` to apply the file",
      );
    return stored;
  };
  opts.onHangup?.(() => {
    const leading = role.service();
    if (leading) void reloadOnHangup(leading, say);
    else if (opts.loadConfig)
      void rereadOnStandby(opts.loadConfig, say).then((c) => {
        if (!c) return;
        file = c;
        fileIsNews = true;
      });
  });
  const metrics = createMetrics(() => role.service());
  const app = buildMasterApp({
    role,
    metrics,
    logLevel: opts.logLevel,
    listenHost: opts.listen.host,
    ...(opts.security && { security: opts.security }),
    ...(opts.limits && { limits: opts.limits.http }),
  });
  view.self = await listen(app, opts.listen.host, opts.listen.port, opts.security?.tls !== undefined);
  process.stdout.write(`vxnet master listening on ${view.self} (${opts.where}): standing by for the election\n`);

  try {
    while (!stopped) {
      let lostReason!: (reason: string) => void;
      const lost = new Promise<{ kind: 'lost'; reason: string }>((resolve) => (lostReason = (reason) => resolve({ kind: 'lost', reason })));
      let term: Term | undefined;
      let service: MasterService | undefined;
      let poll: NodeJS.Timeout | undefined;
      try {
        // Standby: serve reads from the store; learn who leads (polled, not
        // observed: etcd3's observer can hang on cancel; an answer lags at most 0.5 s).
        term = await opts.openTerm(lostReason);
        const { store, leadership } = term;
        leadership.onLost(lostReason);
        const refresh = () => leadership.leader().then((url) => (leaderUrl = url));
        await refresh();
        poll = setInterval(() => void refresh(), 500);
        const reads = await StateReplica.start(store, file, opts.limits?.watch);
        // A config stored after a SIGHUP re-read supersedes that file.
        reads.onConfig = () => {
          fileIsNews = false;
        };
        role.standBy(reads);
        trouble = undefined;

        // Campaign.
        const elected = leadership.campaign(view.self).then(() => ({ kind: 'elected' as const }));
        elected.catch(() => undefined);
        const first = await Promise.race([elected, lost, stopping]);
        if (first.kind === 'lost') throw new Error(first.reason);
        if (first.kind === 'stop') continue;

        // Lead.
        await leadership.fence();
        service = await MasterService.start(
          store,
          leadWith(reads.storedNetwork),
          {
            storeArgs: opts.storeArgs,
            observer: metrics.observer,
            ...(opts.loadConfig && { loadConfig: opts.loadConfig }),
            ...(opts.leases && { leases: opts.leases }),
          },
          reads,
        );
        role.lead(service);
        process.stdout.write(`vxnet master ${view.self} is the leader (${service.agentCount} agents, revision ${service.revision})\n`);
        const end = await Promise.race([lost, stopping]);
        if (end.kind === 'lost') {
          say(`stepping down: ${end.reason}`);
          trouble = end.reason;
        }
      } catch (e) {
        if (isVxnetError(e) && e.code === 'RECONCILE_REFUSED') throw e;
        if (!stopped) {
          const why = e instanceof Error ? e.message : String(e);
          if (why !== trouble) say(`standing by: ${why}`);
          trouble = why;
        }
      } finally {
        // End the term: stop writing and serving this store, give the election up.
        const reads = role.reads();
        role.standBy(undefined);
        await service?.close().catch(() => undefined);
        if (service) fileIsNews = false; // applied (or superseded by a reload) while leading
        reads?.close();
        clearInterval(poll);
        await bounded(say, 'resign', term?.leadership.resign());
        leaderUrl = undefined;
        await bounded(say, 'close the store', term?.store.close());
      }
      // A term that never led waits a little before the next campaign.
      if (!stopped && !service) await Promise.race([sleep(1_000), stopping]);
    }
  } finally {
    await app.close();
  }
}
