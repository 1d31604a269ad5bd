// Pure: the one spelling of a duration in flags and queries ("500ms", "30s",
// "5m", "1.5h", "7d"), shared by master, agent and CLI.

import { VxnetError } from './errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "30s", "5m", "1h", "1500ms", "2d" → milliseconds, or undefined when it is no duration. */
export function durationMs(text: string): number | undefined {
  const match = /^(\d{1,9}(?:\.\d{1,3})?)(ms|s|m|h|d)$/.exec(text.trim());
  return match ? Math.round(Number(match[1]) * UNITS[match[2]!]!) : undefined;
}

/** As durationMs, but throws BAD_REQUEST naming the flag, the value and the fix. */
export function parseDuration(text: string, flag: string): number {
  const ms = durationMs(text);
  if (ms === undefined) {
    throw new VxnetError(
      'BAD_REQUEST',
      `${flag} ${JSON.stringify(text)} is not a duration; give a number with a unit: ms, s, m, h or d, e.g. ${flag} 30s or ${flag} 5m`,
      { field: flag, value: text },
    );
  }
  return ms;
}

/** Milliseconds as the shortest duration text that parses back to them. */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) if (ms % UNITS[unit]! === 0) return `${ms / UNITS[unit]!}${unit}`;
  return `${ms}ms`;
}
