// The `Kernel` port on this host: reads with `ip -j`/`bridge -j`, changes
// with `ip -batch`/`bridge -batch`, through an `Exec`.

import type { Kernel } from '../ports.js';
import type { Exec } from './exec.js';
import { execute } from './execute.js';
import { type ObserveMemo, observe, readTables } from './observe.js';

export const linuxKernel = (exec: Exec): Kernel => {
  const memo: ObserveMemo = {};
  return {
    observe: () => observe(exec, memo),
    read: (tables) => readTables(exec, tables),
    execute: (ops) => execute(exec, ops),
  };
};
