import type { Command } from 'commander';

/** Placeholder until the owner of this command lands it. */
export function registerAgentCommands(_program: Command): void {}
