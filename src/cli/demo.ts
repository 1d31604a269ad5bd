import type { Command } from 'commander';

/** Placeholder until the demo lands. */
export function registerDemoCommand(_program: Command): void {}
