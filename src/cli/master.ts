// `vxnet master`, `vxnet state` and `vxnet network delete`.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import type { ContainerInfo, EngineState, MasterState } from '../api/types.js';
import { isVxnetError } from '../errors.js';
import { planNetworkDelete } from '../master/network-delete.js';
import { runMaster } from '../master/run.js';
import { formatState } from '../master/state-table.js';
import type { Store } from '../store/store.js';
import { DB_FILE, SqliteStore } from '../store/sqlite/sqlite-store.js';

const fail = (prefix: string, message: string): void => {
  process.stderr.write(`${prefix}: ${message}\n`);
  process.exitCode = 1;
};

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
    const listed = await getJson<{ containers: (ContainerInfo & { agent: string })[]; engines?: { agent: string; docker?: EngineState }[] }>(
      base.href,
      '/overlay-master/containers',
    ).catch(() => ({ containers: [], engines: [] }));
    process.stdout.write(formatState(state, listed.containers, listed.engines ?? []));
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e));
    fail('vxnet state', `cannot read the state from ${base.href} (${why}); start a master with "vxnet master" or pass --master URL`);
  }
}

async function deleteNetwork(name: string, options: { data?: string; etcd?: string; etcdPrefix: string }): Promise<void> {
  if ((options.data === undefined) === (options.etcd === undefined)) {
    return fail('vxnet network delete', 'give exactly one store: --data DIR (one master, SQLite) or --etcd URL[,URL...] (several masters on etcd)');
  }
  let store: Store | undefined;
  let where: string;
  try {
    if (options.data !== undefined) {
      where = options.data;
      // Opening would create an empty store: a mistyped --data must not look like "nothing to delete".
      if (!existsSync(join(options.data, DB_FILE))) {
        return fail('vxnet network delete', `${options.data} holds no vxnet store (no ${DB_FILE}); pass the --data directory the master uses`);
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
    if (!isVxnetError(e)) throw e;
    fail('vxnet network delete', e.message);
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
    .addOption(new Option('--log-level <level>', 'requests are never logged one by one').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('warn'))
    .action(async (opts: { config?: string; data?: string; etcd?: string; etcdPrefix: string; listen: string; tokenFile?: string; logLevel: string }) => {
      if ((opts.data === undefined) === (opts.etcd === undefined)) {
        return fail('vxnet master', 'give exactly one store: --data DIR (one master, SQLite) or --etcd URL[,URL...] (several masters on etcd)');
      }
      if (opts.etcd !== undefined) {
        // Loaded only here: the etcd client costs ~0.2 s of start-up that a single master never needs.
        const { runLeaderMaster } = await import('../master/leader.js');
        process.exitCode = await runLeaderMaster({ ...opts, etcd: opts.etcd });
        return;
      }
      process.exitCode = await runMaster({ ...opts, data: opts.data! });
    });

  program
    .command('state')
    .description("print the master's networks, agents and containers")
    .option('--master <url>', 'master URL', 'http://127.0.0.1:5050')
    .option('--json', 'print /overlay-master/state as JSON')
    .action(showState);

  const network = program.command('network').description('manage overlay networks in a stopped master\'s store');
  network
    .command('delete')
    .description('free every allocation of an overlay and remove it from the stored config (the master must be stopped)')
    .argument('<name>', 'overlay name')
    .option('--data <dir>', "the master's --data directory (one master)")
    .option('--etcd <urls>', "the masters' --etcd URLs (several masters; all must be stopped)")
    .option('--etcd-prefix <prefix>', 'key prefix in etcd (with --etcd)', '/vxnet')
    .action(deleteNetwork);
}
