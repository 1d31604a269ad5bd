// One master on a store of its own (SQLite): recover, serve, stop on a
// signal. The CLI opens the store, reports errors, closes the store and ends
// the process (src/cli/master.ts).

import type { ListenAddress } from '../api/listen.js';
import type { NetworkConfig } from '../config/types.js';
import { VxnetError } from '../errors.js';
import type { Snapshot, Store, StorePeek } from '../store/store.js';
import { rm } from 'node:fs/promises';
import { createMetrics } from './metrics.js';
import { SoleMasterRole } from './role.js';
import { StateReplica } from './replica.js';
import { keepStateSaved, loadStateCache, savedStateFits, saveStateCache } from './state-cache.js';
import type { MasterLimits } from './limits.js';
import { buildMasterApp, listen, type MasterSecurity } from './server.js';
import { reloadOnHangup } from './reload-hangup.js';
import { MasterService } from './service.js';
import type { LeaseSettings } from './leases.js';

export interface RunMasterOptions {
  store: Store;
  config: NetworkConfig;
  listen: ListenAddress;
  /** The flags naming the store, for refusals' fix text, e.g. `--data DIR`. */
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
  say(text: string): void;
  /** Agent leases (`--agent-ttl`); off when absent. */
  leases?: LeaseSettings;
  /** Where the /state answer is left at a clean stop for the next start (state-cache.ts); none when absent. */
  stateCacheFile?: string;
  /** The read of `stateCacheFile` begun before the store was opened (state-cache.ts readStateCache); else it is read here. */
  stateCacheRead?: Promise<Buffer | undefined>;
  /** How often a running master saves /state to `stateCacheFile` while it changes (0 or absent: only at a clean stop). */
  saveStateEveryMs?: number;
  /** The store's integrity check when its open left it to the start (SqliteStore.checkIntegrity): run before the first write is taken. */
  checkStore?: () => void;
  /** The store's revision, config and single records before its snapshot, to check that answer against (SqliteStore.peek). */
  peek?: () => StorePeek;
}

/**
 * Serves until `stop` resolves, then closes the server (not the store).
 * Throws VxnetError: RECONCILE_REFUSED when the store contradicts the
 * config, PRECONDITION when the address is taken.
 */
export async function runMaster(opts: RunMasterOptions): Promise<void> {
  let service: MasterService | undefined;
  const metrics = createMetrics(() => service);
  // The saved answer (at the last clean stop, or while running) is read on the thread pool while the store opens and the app is built.
  const cacheRead = opts.stateCacheFile === undefined ? undefined : loadStateCache(opts.stateCacheFile, opts.stateCacheRead);
  const role = new SoleMasterRole();
  const app = buildMasterApp({
    role,
    metrics,
    logLevel: opts.logLevel,
    listenHost: opts.listen.host,
    ...(opts.security && { security: opts.security }),
    ...(opts.limits && { limits: opts.limits.http }),
  });
  let url: string | undefined;
  const serve = async (): Promise<string> => {
    url = await listen(app, opts.listen.host, opts.listen.port, opts.security?.tls !== undefined).catch(
      async (e: NodeJS.ErrnoException) => {
        await app.close();
        throw new VxnetError(
          'PRECONDITION',
          `cannot listen on ${opts.listen.host}:${opts.listen.port} (${e.code ?? e.message}); pick a free address with --listen HOST:PORT`,
        );
      },
    );
    return url;
  };
  let cache = await cacheRead;
  // When it is the stored state, GET /state is answered from it at once, while the rows are read (at 100,000 agents, a second).
  const servedSaved = cache !== undefined && opts.peek !== undefined && savedStateFits(cache, opts.peek(), opts.config);
  if (cache && servedSaved) {
    role.serveSaved({ revision: cache.revision, agents: cache.lengths.length, body: cache.body });
    process.stdout.write(
      `vxnet master answering GET /overlay-master/state on ${await serve()} from the state it saved at its last stop ` +
        `while it reads the stored state of ${cache.lengths.length} agents (revision ${cache.revision})\n`,
    );
  }
  // Reads next: the replica answers /state and the watch from the store while the service reserves
  // every stored allocation (at 100,000 agents, seconds); writes wait for it.
  let reads: StateReplica;
  let snap: Snapshot;
  try {
    snap = await opts.store.snapshot();
    reads = await StateReplica.start(opts.store, opts.config, opts.limits?.watch, snap);
  } catch (e) {
    await app.close();
    throw e;
  }
  // The revision the saved file holds when it is this state as it is: the saver need not write it again until it moves.
  const adoptedRevision = cache && reads.adoptStateCache(cache) ? cache.revision : undefined;
  if (cache && adoptedRevision === undefined) {
    // An earlier revision's answer (saved while running, then a crash): what no change since touched is kept.
    const kept = servedSaved ? 0 : reads.reuseStateCache(cache);
    opts.say(
      servedSaved
        ? `the state saved in ${opts.stateCacheFile} matched the store's revision ${snap.revision} and a sample of its agents but not all of them; ` +
            'GET /state answered from it until now, and is rendered anew from here on'
        : kept > 0
          ? `took ${kept} of ${reads.agentCount} agents' /state answers from ${opts.stateCacheFile} (saved at revision ${cache.revision}; ` +
            `the store is at ${snap.revision}); the others are rendered anew`
          : `left ${opts.stateCacheFile} unused: it is not the state the store holds (revision ${snap.revision}), nor one whose ` +
            'changes since the store still holds; /state is rendered anew',
    );
  }
  cache = undefined; // adopted or not, no longer held here (100,000 agents: 75 MB)
  role.readFrom(reads);
  if (!servedSaved)
    await serve().catch((e: unknown) => {
      reads.close();
      throw e;
    });
  if (snap.agents.length > 0)
    process.stdout.write(
      `vxnet master serving reads on ${url} while it reserves the stored allocations of ${snap.agents.length} agents (revision ${snap.revision})\n`,
    );
  try {
    service = await MasterService.start(
      opts.store,
      opts.config,
      {
        storeArgs: opts.storeArgs,
        observer: metrics.observer,
        ...(opts.limits && { watch: opts.limits.watch }),
        ...(opts.loadConfig && { loadConfig: opts.loadConfig }),
        ...(opts.leases && { leases: opts.leases }),
      },
      reads,
      snap,
    );
  } catch (e) {
    // Refused (or the store failed): no write was ever taken; stop serving before the CLI reports it.
    reads.close();
    await app.close();
    throw e;
  }
  // The store's integrity check, deferred from its open so the first reads did not wait for it: before any write.
  try {
    opts.checkStore?.();
  } catch (e) {
    await service.close();
    await app.close();
    throw e;
  }
  role.lead(service);
  const running = service;
  opts.onHangup?.(() => void reloadOnHangup(running, opts.say));
  process.stdout.write(`vxnet master listening on ${url} (${service.agentCount} agents, revision ${service.revision}, ${opts.where})\n`);
  const saver =
    opts.stateCacheFile !== undefined && opts.saveStateEveryMs !== undefined && opts.saveStateEveryMs > 0
      ? keepStateSaved(opts.stateCacheFile, opts.saveStateEveryMs, service.reads, opts.say, adoptedRevision)
      : undefined;
  const signal = await opts.stop;
  opts.say(`${signal}: stopping`);
  await saver?.stop();
  await service.close();
  await app.close();
  if (opts.stateCacheFile === undefined) return;
  // No agents: nothing to save, and an answer saved earlier would only be left unused.
  if (service.agentCount === 0) await rm(opts.stateCacheFile, { force: true }).catch(() => undefined);
  else
    await saveStateCache(opts.stateCacheFile, service.reads.stateToSave()).catch((e: unknown) =>
      opts.say(`could not leave the state for the next start in ${opts.stateCacheFile} (it will render it anew): ${String(e)}`),
    );
}
