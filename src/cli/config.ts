// `vxnet config validate|plan [FILE]`: check a network config and show its capacity.

import type { Command } from 'commander';
import { canonicalize } from '../config/canonical.js';
import { formatIssues, loadConfigFile } from '../config/load.js';
import { formatPlan } from '../config/plan-format.js';
import { planCapacity } from '../config/plan.js';

interface JsonOption {
  json?: boolean;
}

/** JSON with bigints as decimal strings (exact, unlike numbers). */
const toJson = (value: unknown): string =>
  `${JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`;

const sourceLabel = (file?: string): string => file ?? 'the default networks (no file given)';

async function validate(file: string | undefined, options: JsonOption): Promise<void> {
  const check = await loadConfigFile(file);
  const ok = check.errors.length === 0;
  if (options.json) {
    process.stdout.write(toJson({ ok, errors: check.errors, warnings: check.warnings }));
  } else {
    const headline = ok ? `OK: ${sourceLabel(file)} is a valid network config\n` : `INVALID: ${sourceLabel(file)}\n`;
    process.stdout.write(headline + formatIssues(check));
  }
  if (!ok) process.exitCode = 1;
}

async function plan(file: string | undefined, options: JsonOption): Promise<void> {
  const check = await loadConfigFile(file);
  if (!check.config) {
    if (options.json) process.stdout.write(toJson({ ok: false, errors: check.errors, warnings: check.warnings }));
    else process.stderr.write(`INVALID: ${sourceLabel(file)}; no plan until these are fixed\n${formatIssues(check)}`);
    process.exitCode = 1;
    return;
  }
  const capacity = planCapacity(canonicalize(check.config));
  if (options.json) {
    process.stdout.write(toJson({ ...capacity, warnings: check.warnings }));
  } else {
    process.stdout.write(formatPlan(capacity) + formatIssues({ errors: [], warnings: check.warnings }));
  }
}

export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('check a dcos_overlay_network config and show its capacity');
  config
    .command('validate')
    .description('check every rule and report all errors and warnings (exit 1 on errors)')
    .argument('[file]', 'DC/OS config.yaml or its dcos_overlay_network section, YAML or JSON (default: the seed defaults)')
    .option('--json', 'print {ok, errors, warnings} as JSON')
    .action(validate);
  config
    .command('plan')
    .description('show per overlay: agent subnets, addresses per agent, container IPs per bridge half, VTEP capacity and the binding limit')
    .argument('[file]', 'DC/OS config.yaml or its dcos_overlay_network section, YAML or JSON (default: the seed defaults)')
    .option('--json', 'print the plan as JSON (counts as decimal strings)')
    .action(plan);
}
