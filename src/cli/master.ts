// `vxnet master` and `vxnet state`: picks the store
// (SQLite, or etcd with its leadership), starts the master, reports errors and
// ends the process.

import { join } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { parseListen } from '../api/listen.js';
import type { ContainerInfo, EngineState, MasterState } from '../api/types.js';
import { formatIssues, loadConfigFile } from '../config/load.js';
import type { NetworkConfig } from '../config/types.js';
import { isVxnetError, VxnetError } from '../errors.js';
import { parseDuration } from '../duration.js';
import { leaseSettings } from '../master/leases.js';
import { leaseSection } from './lease-state.js';
import { utilisationSection } from './utilisation-state.js';
import { DEFAULT_HTTP_LIMITS, type MasterLimits } from '../master/limits.js';
import { DEFAULT_MAX_PENDING_BYTES, DEFAULT_MAX_WATCHERS } from '../master/watch-streams.js';
import { formatState } from '../master/state-table.js';
import type { Store } from '../store/store.js';
import { fail, report } from './common.js';
import { collect, type EtcdTlsFlags, openMasterWarning, readEtcdTls, readMasterSecurity, type SecurityFlags } from './security.js';

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

/**
 * SIGHUP reloads the --config file (src/master/reload-hangup.ts). Listening at
 * once, so a SIGHUP during start-up is reported instead of ending the process.
 */
function hangupSignal(): (handler: () => void) => void {
  let current: (() => void) | undefined;
  process.on('SIGHUP', () => (current ? current() : say('SIGHUP: not serving yet; send it again once the master is up')));
  return (handler) => {
    current = handler;
  };
}

/** Loads and checks the config, printing its warnings; every error is thrown as one CONFIG_INVALID. */
async function loadMasterConfig(path: string | undefined): Promise<NetworkConfig> {
  const check = await loadConfigFile(path);
  if (!check.config)
    throw new VxnetError('CONFIG_INVALID', `the config ${path ?? '(defaults)'} is invalid:\n${formatIssues(check).trimEnd()}`);
  if (check.warnings.length > 0) process.stderr.write(formatIssues(check));
  return check.config;
}

interface MasterFlags extends SecurityFlags, EtcdTlsFlags {
  config?: string;
  data?: string;
  etcd?: string;
  etcdPrefix: string;
  listen: string;
  logLevel: string;
  allowEmptyStore?: boolean;
  maxWatchers: number;
  watchBufferKib: number;
  requestTimeout: number;
  maxConnections: number;
  agentTtl?: string;
  agentQuarantine?: string;
  saveStateEvery?: string;
}

/** A commander parser for a whole number of at least `min`. */
const wholeNumber =
  (min: number) =>
  (value: string): number => {
    if (!/^\d{1,9}$/.test(value) || Number(value) < min) throw new InvalidArgumentError(`give a whole number of at least ${min}`);
    return Number(value);
  };

const limitsOf = (opts: MasterFlags): MasterLimits => ({
  http: { requestTimeoutMs: opts.requestTimeout * 1000, maxConnections: opts.maxConnections },
  watch: { maxWatchers: opts.maxWatchers, maxPendingBytes: opts.watchBufferKib * 1024 },
});

const DEFAULT_SAVE_STATE_EVERY = '1m';

/** --save-state-every: 0 (only at a clean stop) or at least a second, since each save writes the whole /state. */
function saveStateInterval(text: string): number {
  const ms = parseDuration(text, '--save-state-every');
  if (ms !== 0 && ms < 1000)
    throw new VxnetError(
      'BAD_REQUEST',
      `--save-state-every ${text} is shorter than 1s: each save writes the whole /state; give 1s or more, or 0s`,
      {
        field: '--save-state-every',
        value: text,
      },
    );
  return ms;
}

async function runMasterCommand(opts: MasterFlags): Promise<void> {
  if ((opts.data === undefined) === (opts.etcd === undefined)) {
    return fail(MASTER, 'give exactly one store: --data DIR (one master, SQLite) or --etcd URL[,URL...] (several masters on etcd)');
  }
  let store: Store | undefined;
  // The answer a sole master saved is read on the thread pool while the store is opened (100,000 agents: 75 MB, 0.3 s).
  const stateCacheFile = opts.data === undefined ? undefined : join(opts.data, 'state-cache');
  const stateCacheRead =
    stateCacheFile === undefined ? undefined : import('../master/state-cache.js').then((m) => m.readStateCache(stateCacheFile));
  try {
    const listen = parseListen(opts.listen);
    if (opts.saveStateEvery !== undefined && opts.etcd !== undefined)
      return fail(MASTER, '--save-state-every goes with --data: masters on --etcd keep no saved state; leave it out');
    const saveStateEveryMs = saveStateInterval(opts.saveStateEvery ?? DEFAULT_SAVE_STATE_EVERY);
    const security = await readMasterSecurity(opts);
    const etcdTls = await readEtcdTls(opts);
    if (etcdTls && opts.etcd === undefined) return fail(MASTER, '--etcd-ca, --etcd-cert and --etcd-key go with --etcd URL[,URL...]');
    const config = await loadMasterConfig(opts.config);
    const warning = openMasterWarning(security, listen.host, listen.port);
    if (warning) say(warning);
    const common = {
      config,
      listen,
      logLevel: opts.logLevel,
      security,
      limits: limitsOf(opts),
      stop: stopSignal(),
      say,
      loadConfig: () => loadMasterConfig(opts.config),
      onHangup: hangupSignal(),
      leases: leaseSettings(opts.agentTtl, opts.agentQuarantine),
    };
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
          const etcd = await EtcdStore.open(endpoints, { prefix, onLost: (e) => onLost(e.message), ...(etcdTls && { tls: etcdTls }) });
          return { store: etcd, leadership: new EtcdLeadership(etcd) };
        },
      });
      return;
    }
    // Loaded here, not at the top: `vxnet agent` and the other commands never need the master's modules (issue 10 (i)).
    const [{ SqliteStore }, { runMaster }] = await Promise.all([import('../store/sqlite/sqlite-store.js'), import('../master/run.js')]);
    const sqlite = await SqliteStore.open(opts.data!, { allowEmpty: opts.allowEmptyStore === true, deferIntegrityCheck: true });
    store = sqlite;
    await runMaster({
      ...common,
      store,
      storeArgs: `--data ${opts.data}`,
      where: `data ${opts.data}`,
      stateCacheFile,
      ...(stateCacheRead && { stateCacheRead }),
      saveStateEveryMs,
      peek: () => sqlite.peek(),
      checkStore: () => sqlite.checkIntegrity(),
    });
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
    process.stdout.write(await leaseSection(base.href));
    process.stdout.write(await utilisationSection(base.href));
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e));
    fail('vxnet state', `cannot read the state from ${base.href} (${why}); start a master with "vxnet master" or pass --master URL`);
  }
}

export function registerMasterCommands(program: Command): void {
  program
    .command('master')
    .description('run the master: allocation, durable state and the DC/OS-shaped HTTP API')
    .option('--config <file>', 'DC/OS config.yaml or its dcos_overlay_network section (default: the seed networks)')
    .option('--data <dir>', 'directory of the embedded store (created if missing); one master')
    .option(
      '--allow-empty-store',
      'with --data: start even though DIR/vxnet.db exists but holds no store (truncated); every allocation is forgotten',
    )
    .option(
      '--save-state-every <duration>',
      'with --data: how often /state is saved beside the store while it changes, so a restart after a crash renders only ' +
        'what changed since (default 1m; 0s: only at a clean stop)',
    )
    .option('--etcd <urls>', 'etcd client URLs, comma-separated, instead of --data: several masters, one elected leader')
    .option('--etcd-prefix <prefix>', 'key prefix in etcd (with --etcd)', '/vxnet')
    .option('--listen <host:port>', 'address of the HTTP API', '127.0.0.1:5050')
    .option('--token-file <file>', 'join token: agents register with it (it cannot take over an IP that holds a credential)')
    .option('--admin-token-file <file>', "admin token: deletes agents and resets an agent IP's credential")
    .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate (with --tls-key)')
    .option('--tls-key <file>', 'the PEM private key of --tls-cert')
    .option('--tls-client-ca <file>', 'verify client certificates with this CA: one speaks for the agent IPs in its IP SANs')
    .option('--allowed-host <name>', 'a Host name a master without tokens answers to besides loopback and --listen (repeatable)', collect)
    .option('--etcd-ca <file>', 'CA of the etcd servers (with https:// --etcd URLs)')
    .option('--etcd-cert <file>', 'client certificate for etcd (with --etcd-key)')
    .option('--etcd-key <file>', 'private key of --etcd-cert')
    .option(
      '--max-watchers <n>',
      'open watch streams of clients other than agents; more get 503 with Retry-After',
      wholeNumber(1),
      DEFAULT_MAX_WATCHERS,
    )
    .option(
      '--watch-buffer-kib <n>',
      'bytes (KiB) a watch stream may have queued, its first message included, before it is cut',
      wholeNumber(64),
      DEFAULT_MAX_PENDING_BYTES / 1024,
    )
    .option(
      '--request-timeout <seconds>',
      'time for a request, headers and body, to arrive (408 after it); not watch streams',
      wholeNumber(1),
      DEFAULT_HTTP_LIMITS.requestTimeoutMs / 1000,
    )
    .option('--agent-ttl <duration>', 'expire an agent that has not renewed its lease for this long, e.g. 5m (default: never, as DC/OS)')
    .option(
      '--agent-quarantine <duration>',
      "with --agent-ttl: how long an expired agent's subnets and VTEP stay held before reuse (default: twice the TTL; at least the TTL)",
    )
    .option(
      '--max-connections <n>',
      'open connections, watch streams included; more are closed at once',
      wholeNumber(16),
      DEFAULT_HTTP_LIMITS.maxConnections,
    )
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
}
