import type { Command } from 'commander';

/** Placeholder until the owner of this command lands it. */
export function registerMasterCommands(_program: Command): void {}
