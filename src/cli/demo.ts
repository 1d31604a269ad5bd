// `vxnet demo`: the README's main command (root only).
import type { Command } from 'commander';
import { checkPreconditions } from '../testbed/preconditions.js';
import { fail } from './common.js';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('a local cluster: master, 3 host namespaces with agents, containers on dcos-1 and dcos-2, and a ping matrix')
    .option('--port <port>', 'master API port on 127.0.0.1', '5050')
    .option('--no-wait', 'tear everything down right after the ping matrix')
    .action(async (o: { port: string; wait: boolean }) => {
      const problems = checkPreconditions();
      const port = Number(o.port);
      if (!Number.isInteger(port) || port < 1 || port > 65535)
        problems.push(`--port ${JSON.stringify(o.port)} is not a TCP port: give 1-65535, e.g. --port 5050`);
      if (problems.length) {
        for (const p of problems) fail('vxnet demo', p);
        return;
      }
      try {
        const { runDemo } = await import('../testbed/demo.js');
        const ok = await runDemo({ port, wait: o.wait, out: (t) => process.stdout.write(`${t}\n`) });
        process.exitCode = ok ? 0 : 1;
      } catch (e) {
        fail('vxnet demo', (e as Error).message);
      }
    });
}
