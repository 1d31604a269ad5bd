// Human text for config issues: errors first, then warnings. Pure.

import { describeValue } from './describe.js';
import type { ConfigCheck, ConfigIssue } from './types.js';

function formatIssue(kind: 'error' | 'warning', issue: ConfigIssue): string {
  return [`${kind}: ${issue.path} = ${describeValue(issue.value)}`, `  rule: ${issue.rule}`, `  fix:  ${issue.fix}`].join('\n');
}

/** Every error, then every warning, each with its path, value, rule and fix. */
export function formatIssues(check: ConfigCheck): string {
  const lines = [...check.errors.map((i) => formatIssue('error', i)), ...check.warnings.map((i) => formatIssue('warning', i))];
  const counts = `${check.errors.length} error(s), ${check.warnings.length} warning(s)`;
  return lines.length ? `${lines.join('\n')}\n${counts}\n` : '';
}
