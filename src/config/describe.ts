// Shared wording for config issues: how values and types are shown to users,
// and the closest known key for a typo.

import type { ConfigIssue } from './types.js';

/** Errors and warnings collected while checking; every check appends, none stops the others. */
export interface IssueSink {
  errors: ConfigIssue[];
  warnings: ConfigIssue[];
}

export const newSink = (): IssueSink => ({ errors: [], warnings: [] });

export function addError(sink: IssueSink, path: string, value: unknown, rule: string, fix: string): void {
  sink.errors.push({ path, value, rule, fix });
}

export function addWarning(sink: IssueSink, path: string, value: unknown, rule: string, fix: string): void {
  sink.warnings.push({ path, value, rule, fix });
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/** "a string", "a list", ... as users know YAML/JSON types. */
export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (isPlainObject(value)) return 'a mapping';
  switch (typeof value) {
    case 'string':
      return 'a string';
    case 'number':
      return Number.isInteger(value) ? 'an integer' : 'a number';
    case 'boolean':
      return 'a boolean';
    case 'undefined':
      return 'nothing';
    default:
      return typeof value;
  }
}

/** A short printable form of any value (strings quoted, long values cut). */
export function describeValue(value: unknown): string {
  if (value === undefined) return '(missing)';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** The known key a typo most likely meant, if any is close enough to be a typo. */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(lower, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

/** Reports every key of `object` that is not in `known`, suggesting the closest known key. */
export function checkKnownKeys(
  sink: IssueSink,
  object: Record<string, unknown>,
  known: readonly string[],
  pathOf: (key: string) => string,
  where: string,
): void {
  for (const key of Object.keys(object)) {
    if (known.includes(key)) continue;
    const suggestion = closestKey(key, known);
    addError(
      sink,
      pathOf(key),
      object[key],
      `unknown key "${key}" in ${where}`,
      suggestion ? `did you mean "${suggestion}"? Rename the key to ${suggestion}` : `remove it; known keys are ${known.join(', ')}`,
    );
  }
}
