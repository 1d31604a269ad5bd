#!/usr/bin/env node
// The vxnet command line: the only composition root. Each sub-command lives
// in its own file and registers itself here.

import { Command } from 'commander';
import { registerConfigCommands } from './config.js';
import { registerMasterCommands } from './master.js';
import { registerNetworkCommands } from './network.js';
import { registerAgentCommands } from './agent.js';
import { registerContainerCommands } from './container.js';
import { registerIpamCommands } from './ipam.js';
import { registerHistoryCommand } from './history.js';
import { fail } from './common.js';
import { registerDemoCommand } from './demo.js';

const program = new Command()
  .name('vxnet')
  .description('IP-per-container virtual networks across a cluster of hosts')
  .version('0.1.0')
  .showHelpAfterError();

registerConfigCommands(program);
registerMasterCommands(program);
registerNetworkCommands(program);
registerAgentCommands(program);
registerContainerCommands(program);
registerIpamCommands(program);
registerHistoryCommand(program);
registerDemoCommand(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  // Commands report their own errors (common.ts); anything reaching here is a bug, shown briefly.
  fail('vxnet', err instanceof Error ? err.message : String(err));
});
