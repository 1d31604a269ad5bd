// CPU time of the whole machine from /proc/stat, for "CPU-seconds per GB moved"
// around a transfer: softirq (the network stack's receive and transmit work,
// wherever it ran) and all non-idle time.
import { readFileSync } from 'node:fs';

export interface CpuSample {
  /** USER_HZ ticks, all CPUs together. */
  softirq: number;
  busy: number;
}

/** USER_HZ: /proc/stat counts in it (100 on Linux everywhere but a few old ports). */
const USER_HZ = 100;

/** Parses the aggregate `cpu` line of /proc/stat. */
export function parseProcStat(text: string): CpuSample {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new Error('/proc/stat has no "cpu" line');
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
  // guest time is already counted in user
  return { softirq, busy: user + nice + system + irq + softirq + steal };
}

export const cpuSample = (): CpuSample => parseProcStat(readFileSync('/proc/stat', 'utf8'));

/** CPU-seconds per GB (1e9 bytes) between two samples. */
export function perGB(before: CpuSample, after: CpuSample, bytes: number): { softirq: number; busy: number } {
  const gb = bytes / 1e9;
  return { softirq: (after.softirq - before.softirq) / USER_HZ / gb, busy: (after.busy - before.busy) / USER_HZ / gb };
}
