// `vxnet master`, `vxnet state` and `vxnet network delete`: picks the store
// (SQLite, or etcd with its leadership), starts the master, reports errors and
// ends the process.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import { parseListen } from '../api/listen.js';
import type { ContainerInfo, EngineState, MasterState } from '../api/types.js';
import { formatIssues, loadConfigFile } from '../config/load.js';
import type { NetworkConfig } from '../config/types.js';
import { isVxnetError, VxnetError } from '../errors.js';
import { planNetworkDelete } from '../master/network-delete.js';
import { runMaster } from '../master/run.js';
import { formatState } from '../master/state-table.js';
import type { Store } from '../store/store.js';
import { DB_FILE, SqliteStore } from '../store/sqlite/sqlite-store.js';
import { fail, readToken, report } from './common.js';

/** Exit code of a master that refuses a config its store contradicts. */
export const EXIT_REFUSED = 2;

const MASTER = 'vxnet master';
const say = (text: string): void => void process.stderr.write(`${MASTER}: ${text}\n`);

/** The first SIGTERM/SIGINT stops the master; a second one while stopping ends the process at once. */
function stopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      process.once('SIGTERM', () => process.exit(130));
      process.once('SIGINT', () => process.exit(130));
      resolve(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

/** Loads and checks the config, printing its warnings; every error is thrown as one CONFIG_INVALID. */
async function loadMasterConfig(path: string | undefined): Promise<NetworkConfig> {
  const check = await loadConfigFile(path);
  if (!check.config)
    throw new VxnetError('CONFIG_INVALID', `the config ${path ?? '(defaults)'} is invalid:\n${formatIssues(check).trimEnd()}`);
  if (check.warnings.length > 0) process.stderr.write(formatIssues(check));
  return check.config;
}

interface MasterFlags {
  config?: string;
  data?: string;
  etcd?: string;
  etcdPrefix: string;
  listen: string;
  tokenFile?: string;
  logLevel: string;
}

async function runMasterCommand(opts: MasterFlags): Promise<void> {
  if ((opts.data === undefined) === (opts.etcd === undefined)) {
    return fail(MASTER, 'give exactly one store: --data DIR (one master, SQLite) or --etcd URL[,URL...] (several masters on etcd)');
  }
  let store: Store | undefined;
  try {
    const listen = parseListen(opts.listen);
    const token = opts.tokenFile !== undefined ? await readToken(opts.tokenFile) : undefined;
    const config = await loadMasterConfig(opts.config);
    const common = { config, listen, logLevel: opts.logLevel, ...(token !== undefined && { token }), stop: stopSignal(), say };
    if (opts.etcd !== undefined) {
      // Loaded only here: the etcd client costs ~0.2 s of start-up that a single master never needs.
      const [{ runLeaderMaster }, { EtcdStore }, { EtcdLeadership }, { parseEndpoints }, { layoutOf }] = await Promise.all([
        import('../master/leader.js'),
        import('../store/etcd/etcd-store.js'),
        import('../store/etcd/etcd-leadership.js'),
        import('../store/etcd/connect.js'),
        import('../store/etcd/layout.js'),
      ]);
      const endpoints = parseEndpoints(opts.etcd);
      const prefix = layoutOf(opts.etcdPrefix).prefix; // a bad prefix is the operator's to fix, not something to wait out
      await runLeaderMaster({
        ...common,
        storeArgs: `--etcd ${endpoints.join(',')} --etcd-prefix ${prefix}`,
        where: `etcd ${endpoints.join(',')}, prefix ${prefix}`,
        openTerm: async (onLost) => {
          const etcd = await EtcdStore.open(endpoints, { prefix, onLost: (e) => onLost(e.message) });
          return { store: etcd, leadership: new EtcdLeadership(etcd) };
        },
      });
      return;
    }
    store = await SqliteStore.open(opts.data!);
    await runMaster({ ...common, store, storeArgs: `--data ${opts.data}`, where: `data ${opts.data}` });
  } catch (e) {
    if (isVxnetError(e) && e.code === 'RECONCILE_REFUSED') {
      const where = opts.etcd !== undefined ? `the store in etcd (prefix ${opts.etcdPrefix})` : `the store in ${opts.data}`;
      const lines = e.message
        .split('\n')
        .map((line) => `  - ${line}`)
        .join('\n');
      return fail(
        MASTER,
        `refusing to ${opts.etcd !== undefined ? 'lead' : 'start'}: ${where} contradicts the config${opts.config ? ` ${opts.config}` : ''}:\n${lines}`,
        EXIT_REFUSED,
      );
    }
    report(MASTER, e);
  } finally {
    await store?.close().catch(() => undefined);
    // The etcd client may leave a reconnecting stream behind after close; all
    // state is handed over, so it must not hold the process.
    if (opts.etcd !== undefined) setTimeout(() => process.exit(), 500).unref();
  }
}

async function getJson<T>(base: string, path: string): Promise<T> {
  const res = await fetch(new URL(path, base), { signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${path} answered ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

async function showState(options: { master: string; json?: boolean }): Promise<void> {
  let base: URL;
  try {
    base = new URL(options.master);
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new Error('not http');
  } catch {
    return fail('vxnet state', `--master ${JSON.stringify(options.master)} is not an http(s) URL; give e.g. http://127.0.0.1:5050`);
  }
  try {
    const state = await getJson<MasterState>(base.href, '/overlay-master/state');
    if (options.json) {
      process.stdout.write(`${JSON.stringify(state, null, 2)}\n`);
      return;
    }
    const listed = await getJson<{
      containers: (ContainerInfo & { agent: string })[];
      engines?: { agent: string; docker?: EngineState }[];
    }>(base.href, '/overlay-master/containers').catch(() => ({ containers: [], engines: [] }));
    process.stdout.write(formatState(state, listed.containers, listed.engines ?? []));
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e));
    fail('vxnet state', `cannot read the state from ${base.href} (${why}); start a master with "vxnet master" or pass --master URL`);
  }
}

async function deleteNetwork(name: string, options: { data?: string; etcd?: string; etcdPrefix: string }): Promise<void> {
  if ((options.data === undefined) === (options.etcd === undefined)) {
    return fail(
      'vxnet network delete',
      'give exactly one store: --data DIR (one master, SQLite) or --etcd URL[,URL...] (several masters on etcd)',
    );
  }
  let store: Store | undefined;
  let where: string;
  try {
    if (options.data !== undefined) {
      where = options.data;
      // Opening would create an empty store: a mistyped --data must not look like "nothing to delete".
      if (!existsSync(join(options.data, DB_FILE))) {
        return fail(
          'vxnet network delete',
          `${options.data} holds no vxnet store (no ${DB_FILE}); pass the --data directory the master uses`,
        );
      }
      store = await SqliteStore.open(options.data);
    } else {
      const { openStoppedEtcdStore } = await import('../store/etcd/offline.js');
      where = `etcd (prefix ${options.etcdPrefix})`;
      store = await openStoppedEtcdStore(options.etcd!, options.etcdPrefix);
    }
    const plan = planNetworkDelete(await store.snapshot(), name, where);
    await store.commit(plan.changes);
    process.stdout.write(
      `deleted overlay ${name} from ${where}: freed its subnets on ${plan.agents} agent(s)` +
        `${plan.fromConfig ? ' and removed it from the stored config' : ''}. ` +
        `Agents drop its bridges, routes and NAT rules when they next sync; run "vxnet agent cleanup" on hosts that are gone.\n`,
    );
  } catch (e) {
    report('vxnet network delete', e);
  } finally {
    await store?.close();
  }
}

export function registerMasterCommands(program: Command): void {
  program
    .command('master')
    .description('run the master: allocation, durable state and the DC/OS-shaped HTTP API')
    .option('--config <file>', 'DC/OS config.yaml or its dcos_overlay_network section (default: the seed networks)')
    .option('--data <dir>', 'directory of the embedded store (created if missing); one master')
    .option('--etcd <urls>', 'etcd client URLs, comma-separated, instead of --data: several masters, one elected leader')
    .option('--etcd-prefix <prefix>', 'key prefix in etcd (with --etcd)', '/vxnet')
    .option('--listen <host:port>', 'address of the HTTP API', '127.0.0.1:5050')
    .option('--token-file <file>', 'require "Authorization: Bearer <token>" on write endpoints')
    .addOption(
      new Option('--log-level <level>', 'requests are never logged one by one')
        .choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
        .default('warn'),
    )
    .action(runMasterCommand);

  program
    .command('state')
    .description("print the master's networks, agents and containers")
    .option('--master <url>', 'master URL', 'http://127.0.0.1:5050')
    .option('--json', 'print /overlay-master/state as JSON')
    .action(showState);

  const network = program.command('network').description("manage overlay networks in a stopped master's store");
  network
    .command('delete')
    .description('free every allocation of an overlay and remove it from the stored config (the master must be stopped)')
    .argument('<name>', 'overlay name')
    .option('--data <dir>', "the master's --data directory (one master)")
    .option('--etcd <urls>', "the masters' --etcd URLs (several masters; all must be stopped)")
    .option('--etcd-prefix <prefix>', 'key prefix in etcd (with --etcd)', '/vxnet')
    .action(deleteNetwork);
}
