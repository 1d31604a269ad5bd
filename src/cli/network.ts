// `vxnet network reload` (a running master re-reads its --config, through
// the admin endpoint) and `vxnet network delete` (offline, on a stopped
// master's store).

import { historyOfChanges } from '../master/history-events.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { ErrorBody } from '../api/types.js';
import { formatIssues, loadConfigFile } from '../config/load.js';
import { networkDeleteReport, planNetworkDelete } from '../master/network-delete.js';
import type { Store } from '../store/store.js';
import { DB_FILE } from '../store/sqlite/data-dir.js';
import { fail, readToken, report } from './common.js';
import type { EtcdTlsFlags } from './security.js';
import { readEtcdTls } from './security.js';

/** Exit code of a reload the master refused (as `vxnet master` exits when it refuses to start). */
const EXIT_REFUSED = 2;
const RELOAD = 'vxnet network reload';

interface ReloadFlags {
  master: string;
  force?: boolean;
  adminTokenFile?: string;
}

interface ReloadAnswer {
  summary: string;
  revision: number;
}

async function reloadNetworks(options: ReloadFlags): Promise<void> {
  let url: URL;
  try {
    url = new URL('/overlay-master/network/reload', options.master);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
  } catch {
    return fail(RELOAD, `--master ${JSON.stringify(options.master)} is not an http(s) URL; give e.g. http://127.0.0.1:5050`);
  }
  try {
    const token = options.adminTokenFile === undefined ? undefined : await readToken(options.adminTokenFile, '--admin-token-file');
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
        body: JSON.stringify({ force: options.force === true }),
        // A reload waits for requests in flight and one commit: generous, never endless.
        signal: AbortSignal.timeout(60_000),
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      return fail(
        RELOAD,
        `cannot reach the master at ${options.master} (${cause?.code ?? cause?.message ?? String(e)}); pass --master URL`,
      );
    }
    const text = await res.text();
    if (res.ok) {
      const answer = JSON.parse(text) as ReloadAnswer;
      process.stdout.write(`reloaded the config (revision ${answer.revision}): ${answer.summary}\n`);
      return;
    }
    let error: ErrorBody['error'] | undefined;
    try {
      error = (JSON.parse(text) as ErrorBody).error;
    } catch {
      error = undefined;
    }
    if (error?.code === 'RECONCILE_REFUSED') {
      const lines = error.message
        .split('\n')
        .map((line) => `  - ${line}`)
        .join('\n');
      return fail(RELOAD, `refused, nothing changed:\n${lines}`, EXIT_REFUSED);
    }
    const why = error ? `${error.code}: ${error.message}` : `${res.status} ${text.slice(0, 300)}`;
    const hint = res.status === 401 || res.status === 403 ? "; pass --admin-token-file F with the master's admin token" : '';
    fail(RELOAD, `the master answered ${res.status}, nothing changed: ${why}${hint}`);
  } catch (e) {
    report(RELOAD, e);
  }
}

async function deleteNetwork(
  name: string,
  options: { data?: string; etcd?: string; etcdPrefix: string; config?: string; force?: boolean } & EtcdTlsFlags,
): Promise<void> {
  // The stored allocations are freed; a --config that still lists the overlay would hand it out again at the next start.
  if (options.config !== undefined) {
    const check = await loadConfigFile(options.config);
    if (!check.config) return fail('vxnet network delete', `--config ${options.config} is not a valid config:\n${formatIssues(check)}`);
    if (check.config.overlays.some((o) => o.name === name) && !options.force) {
      return fail(
        'vxnet network delete',
        `overlay ${name} is still in --config ${options.config}: the master's next start would give it to every agent again, ` +
          `in registration order, so containers on ${name} would keep addresses that are no longer theirs. ` +
          `Remove ${name} from ${options.config} first, or pass --force when you are re-numbering it; nothing was deleted`,
      );
    }
  }
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
      const { SqliteStore } = await import('../store/sqlite/sqlite-store.js');
      store = await SqliteStore.open(options.data);
    } else {
      const { openStoppedEtcdStore } = await import('../store/etcd/offline.js');
      where = `etcd (prefix ${options.etcdPrefix})`;
      store = await openStoppedEtcdStore(options.etcd!, options.etcdPrefix, await readEtcdTls(options));
    }
    const snap = await store.snapshot();
    const plan = planNetworkDelete(snap, name, where);
    // The freed subnets go into the allocation history too (history-events.ts), as a master's writes do.
    const before = new Map(snap.agents.map((r) => [r.ip, r]));
    await store.commit(
      plan.changes,
      historyOfChanges(plan.changes, (ip) => before.get(ip), new Date().toISOString()),
    );
    const { summary, warning } = networkDeleteReport(plan, name, where);
    process.stdout.write(`${summary}\n`);
    // Without --config the command cannot see the master's config: say what to check, as advice, not as an error.
    if (warning && options.config === undefined) process.stdout.write(`${warning}\n`);
  } catch (e) {
    report('vxnet network delete', e);
  } finally {
    await store?.close();
  }
}

export function registerNetworkCommands(program: Command): void {
  const network = program.command('network').description('change overlay networks: reload a running master, or delete from a stopped one');
  network
    .command('delete')
    .description('free every allocation of an overlay and remove it from the stored config (the master must be stopped)')
    .argument('<name>', 'overlay name')
    .option('--data <dir>', "the master's --data directory (one master)")
    .option('--etcd <urls>', "the masters' --etcd URLs (several masters; all must be stopped)")
    .option('--etcd-prefix <prefix>', 'key prefix in etcd (with --etcd)', '/vxnet')
    .option('--etcd-ca <file>', 'CA of the etcd servers (with https:// --etcd URLs)')
    .option('--etcd-cert <file>', 'client certificate for etcd (with --etcd-key)')
    .option('--etcd-key <file>', 'private key of --etcd-cert')
    .option('--config <file>', "the master's --config: refuse while it still lists the overlay")
    .option('--force', 'with --config: delete although the config still lists the overlay (re-numbering it)')
    .action(deleteNetwork);

  network
    .command('reload')
    .description('make a running master re-read its --config: add, disable, re-enable or delete overlays, all or nothing')
    .option('--master <url>', 'master URL (with several masters: the leader)', 'http://127.0.0.1:5050')
    .option('--admin-token-file <file>', "the master's admin token (its --admin-token-file)")
    .option('--force', 'delete overlays that still have containers attached (their addresses are freed under them)')
    .action(reloadNetworks);
}
