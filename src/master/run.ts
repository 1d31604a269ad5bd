// One master on a store of its own (SQLite): recover, serve, stop on a
// signal. The CLI opens the store, reports errors, closes the store and ends
// the process (src/cli/master.ts).

import type { ListenAddress } from '../api/listen.js';
import type { NetworkConfig } from '../config/types.js';
import { VxnetError } from '../errors.js';
import type { Store } from '../store/store.js';
import { createMetrics } from './metrics.js';
import { soleMaster } from './role.js';
import { buildMasterApp, listen, type MasterLimits, type MasterSecurity } from './server.js';
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
}

/**
 * Serves until `stop` resolves, then closes the server (not the store).
 * Throws VxnetError: RECONCILE_REFUSED when the store contradicts the
 * config, PRECONDITION when the address is taken.
 */
export async function runMaster(opts: RunMasterOptions): Promise<void> {
  let service: MasterService | undefined;
  const metrics = createMetrics(() => service);
  service = await MasterService.start(opts.store, opts.config, {
    storeArgs: opts.storeArgs,
    observer: metrics.observer,
    ...(opts.limits && { watch: opts.limits.watch }),
    ...(opts.loadConfig && { loadConfig: opts.loadConfig }),
    ...(opts.leases && { leases: opts.leases }),
  });
  const running = service;
  opts.onHangup?.(() => void reloadOnHangup(running, opts.say));
  const app = buildMasterApp({
    role: soleMaster(service),
    metrics,
    logLevel: opts.logLevel,
    listenHost: opts.listen.host,
    ...(opts.security && { security: opts.security }),
    ...(opts.limits && { limits: opts.limits.http }),
  });
  const url = await listen(app, opts.listen.host, opts.listen.port, opts.security?.tls !== undefined).catch((e: NodeJS.ErrnoException) => {
    throw new VxnetError(
      'PRECONDITION',
      `cannot listen on ${opts.listen.host}:${opts.listen.port} (${e.code ?? e.message}); pick a free address with --listen HOST:PORT`,
    );
  });
  process.stdout.write(`vxnet master listening on ${url} (${service.agentCount} agents, revision ${service.revision}, ${opts.where})\n`);
  const signal = await opts.stop;
  opts.say(`${signal}: stopping`);
  await service.close();
  await app.close();
}
