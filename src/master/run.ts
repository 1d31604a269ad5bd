// The master process: config, store, service, HTTP, signals. Returns an exit
// code instead of exiting so the CLI stays the only place that ends the process.

import { readFile } from 'node:fs/promises';
import { formatIssues, loadConfigFile } from '../config/load.js';
import type { NetworkConfig } from '../config/types.js';
import { isVxnetError, VxnetError } from '../errors.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { parseListen } from './listen-address.js';
import { createMetrics } from './metrics.js';
import { buildMasterApp, listen } from './server.js';
import { MasterService } from './service.js';

export interface RunMasterOptions {
  config?: string;
  data: string;
  listen: string;
  tokenFile?: string;
  logLevel: string;
}

export const EXIT_REFUSED = 2;

const say = (text: string) => process.stderr.write(`vxnet master: ${text}\n`);

export async function readToken(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new VxnetError('CONFIG_INVALID', `--token-file ${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)}); give a readable file holding the token`);
  }
  const token = text.trim();
  if (!/^\S{16,4096}$/.test(token)) {
    throw new VxnetError('CONFIG_INVALID', `--token-file ${path} must hold one token of 16 to 4096 non-space characters; generate one with: head -c 32 /dev/urandom | base64 > ${path}`);
  }
  return token;
}

/**
 * Loads and checks the master's config, printing warnings, or every error and
 * returning undefined (exit 1). Shared by the single and the etcd-backed master.
 */
export async function loadMasterConfig(path: string | undefined): Promise<NetworkConfig | undefined> {
  const check = await loadConfigFile(path);
  if (!check.config) {
    say(`the config ${path ?? '(defaults)'} is invalid:`);
    process.stderr.write(formatIssues(check));
    return undefined;
  }
  if (check.warnings.length > 0) process.stderr.write(formatIssues(check));
  return check.config;
}

/** Runs until SIGTERM/SIGINT; resolves with the process exit code. */
export async function runMaster(opts: RunMasterOptions): Promise<number> {
  let store: SqliteStore | undefined;
  try {
    const address = parseListen(opts.listen);
    const token = opts.tokenFile !== undefined ? await readToken(opts.tokenFile) : undefined;
    const config = await loadMasterConfig(opts.config);
    if (!config) return 1;
    store = await SqliteStore.open(opts.data);
    let service: MasterService | undefined;
    const metrics = createMetrics(() => service);
    service = await MasterService.start(store, config, { storeArgs: `--data ${opts.data}`, observer: metrics.observer });
    const app = buildMasterApp({ service, metrics, logLevel: opts.logLevel, ...(token !== undefined && { token }) });
    const url = await listen(app, address.host, address.port).catch((e: NodeJS.ErrnoException) => {
      throw new VxnetError('PRECONDITION', `cannot listen on ${opts.listen} (${e.code ?? e.message}); pick a free address with --listen HOST:PORT`);
    });
    process.stdout.write(`vxnet master listening on ${url} (${service.agentCount} agents, revision ${service.revision}, data ${opts.data})\n`);
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGTERM', resolve);
      process.once('SIGINT', resolve);
    });
    say(`${signal}: stopping`);
    // A second signal while stopping ends the process at once.
    const force = () => process.exit(130);
    process.once('SIGTERM', force);
    process.once('SIGINT', force);
    await service.close();
    await app.close();
    await store.close();
    return 0;
  } catch (e) {
    await store?.close().catch(() => undefined);
    if (isVxnetError(e) && e.code === 'RECONCILE_REFUSED') {
      say(`refusing to start: the store in ${opts.data} contradicts the config${opts.config ? ` ${opts.config}` : ''}:`);
      for (const line of e.message.split('\n')) process.stderr.write(`  - ${line}\n`);
      return EXIT_REFUSED;
    }
    if (isVxnetError(e)) {
      say(e.message);
      return 1;
    }
    throw e;
  }
}
