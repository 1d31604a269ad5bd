// `vxnet container run|exec|rm|ls`: containers as network namespaces on an overlay.
import type { Command } from 'commander';
import { isVxnetError } from '../errors.js';
import { execInContainer, listContainers, removeContainer, runContainer, type RuntimeDirs } from '../cni/runtime.js';
import { fail } from './common.js';

const DEFAULTS = { confDir: '/etc/cni/net.d', binDir: '/usr/lib/cni', stateDir: '/run/vxnet/containers' };

interface DirOptions {
  cniConfDir: string;
  cniBinDir: string;
  stateDir: string;
}

const dirsOf = (o: DirOptions): RuntimeDirs => ({ confDir: o.cniConfDir, binDir: o.cniBinDir, stateDir: o.stateDir });

function withDirs(cmd: Command): Command {
  return cmd
    .option('--cni-conf-dir <dir>', 'where the agent writes its conflists', DEFAULTS.confDir)
    .option('--cni-bin-dir <dir>', 'the CNI plugin binaries', DEFAULTS.binDir)
    .option('--state-dir <dir>', 'where container records are kept', DEFAULTS.stateDir);
}

/** Runs a sub-command, turning expected errors into one line on stderr and exit 1. */
function action<A extends unknown[]>(what: string, fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      fail(`vxnet container ${what}`, isVxnetError(e) ? e.message : `unexpected failure: ${(e as Error).message ?? String(e)}`);
    }
  };
}

export function registerContainerCommands(program: Command): void {
  const container = program.command('container').description('containers (network namespaces) on overlay networks, through CNI');

  withDirs(
    container
      .command('run')
      .description('create a container NAME attached to NET, optionally running CMD inside; prints its IP')
      .argument('<name>', 'container name (also its network namespace)')
      .argument('[cmd...]', 'command to start inside, after "--"')
      .requiredOption('--network <net>', 'overlay network name, e.g. dcos-1'),
  ).action(
    action('run', async (name: string, cmd: string[], o: DirOptions & { network: string }) => {
      const rec = await runContainer(dirsOf(o), name, o.network, cmd);
      process.stdout.write(`${rec.ip ?? rec.ip6 ?? ''}\n`);
    }),
  );

  withDirs(
    container.command('exec').description('run CMD inside container NAME').argument('<name>').argument('<cmd...>', 'command, after "--"'),
  ).action(
    action('exec', async (name: string, cmd: string[], o: DirOptions) => {
      process.exitCode = await execInContainer(dirsOf(o), name, cmd);
    }),
  );

  withDirs(container.command('rm').description('stop, detach and delete container NAME (idempotent)').argument('<names...>')).action(
    action('rm', async (names: string[], o: DirOptions) => {
      for (const name of names) {
        const outcome = await removeContainer(dirsOf(o), name);
        process.stdout.write(outcome === 'removed' ? `removed ${name}\n` : `${name}: no such container, nothing to do\n`);
      }
    }),
  );

  withDirs(container.command('ls').description('list containers').option('--json', 'machine-readable output')).action(
    action('ls', async (o: DirOptions & { json?: boolean }) => {
      const rows = listContainers(dirsOf(o));
      if (o.json) {
        process.stdout.write(
          `${JSON.stringify(
            rows.map(({ name, network, ip, ip6, pid, running }) => ({ name, network, ip, ip6, pid, running })),
            null,
            2,
          )}\n`,
        );
        return;
      }
      const table = [
        ['NAME', 'NETWORK', 'IP', 'COMMAND'],
        ...rows.map((r) => [
          r.name,
          r.network,
          r.ip ?? r.ip6 ?? '-',
          r.cmd ? `${r.running ? 'running' : 'exited'} (pid ${r.pid}) ${r.cmd.join(' ')}` : '-',
        ]),
      ];
      const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
      for (const row of table)
        process.stdout.write(
          `${row
            .map((cell, c) => cell.padEnd(widths[c]!))
            .join('  ')
            .trimEnd()}\n`,
        );
    }),
  );
}
