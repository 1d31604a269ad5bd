// Shows that a registration costs the same with 1k or 100k agents allocated:
// fill the pools to N agents, then time fresh registrations and
// delete/re-register churn at that size. Run: npx tsx bench/alloc.bench.ts
import { Allocator } from '../src/alloc/allocator.js';
import { canonicalize } from '../src/config/canonical.js';
import type { NetworkConfig } from '../src/config/types.js';
const SAMPLE = 1_000;
const BATCHES = 9;

const cpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const agentIp = (n: number): string => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;

function measure(config: NetworkConfig, agents: number): { fill: number; fresh: number; churn: number } {
  const allocator = new Allocator(canonicalize(config));
  const ips: string[] = [];
  const t = cpuMs();
  for (let n = 0; n < agents; n++) {
    ips.push(agentIp(n));
    allocator.register(agentIp(n), true);
  }
  const fill = (cpuMs() - t) / agents;

  // Churn: delete a pseudo-random agent, register a new one into the hole.
  // Each figure is the median CPU time of several batches: the machine is
  // shared, so wall-clock time would mostly measure other processes.
  let seed = 12345;
  let next = agents;
  const churnBatch = (): number => {
    const start = cpuMs();
    for (let i = 0; i < SAMPLE; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const victim = seed % ips.length;
      allocator.release(ips[victim]!);
      ips[victim] = agentIp(++next);
      allocator.register(ips[victim]!, true);
    }
    return (cpuMs() - start) / SAMPLE;
  };
  const freshBatch = (): number => {
    const start = cpuMs();
    for (let i = 0; i < SAMPLE; i++) allocator.register(agentIp(++next), true);
    return (cpuMs() - start) / SAMPLE;
  };
  const churn = median(Array.from({ length: BATCHES }, churnBatch));
  const fresh = median(Array.from({ length: BATCHES }, freshBatch));
  return { fill, fresh, churn };
}

/** For contrast: what one "lowest free block" costs when found by scanning what is taken. */
function naiveScan(agents: number): number {
  const taken = new Set<number>();
  for (let n = 0; n < agents; n++) taken.add(n);
  const start = cpuMs();
  const rounds = 20;
  for (let r = 0; r < rounds; r++) {
    let i = 0;
    while (taken.has(i)) i++;
    if (i !== agents) throw new Error('scan went wrong');
  }
  return (cpuMs() - start) / rounds;
}

const scenarios: { label: string; config: NetworkConfig; sizes: number[] }[] = [
  {
    label: '10.0.0.0/8 split into /24 (65,536 subnets)',
    config: {
      vtep_subnet: '44.0.0.0/12',
      vtep_mac_oui: '70:B3:D5:00:00:00',
      overlays: [{ name: 'big', subnet: '10.0.0.0/8', prefix: 24 }],
    },
    sizes: [1_000, 60_000],
  },
  {
    label: '10.0.0.0/8 split into /26 + fd00::/32 split into /64 (2^32 subnets), IPv6 VTEPs',
    config: {
      vtep_subnet: '44.0.0.0/12',
      vtep_subnet6: 'fd03::/64',
      vtep_mac_oui: '70:B3:D5:00:00:00',
      overlays: [{ name: 'big', subnet: '10.0.0.0/8', prefix: 26, subnet6: 'fd00::/32', prefix6: 64 }],
    },
    sizes: [1_000, 100_000],
  },
];

const us = (ms: number): string => `${(ms * 1000).toFixed(1).padStart(6)} µs`;
for (const { label, config, sizes } of scenarios) {
  console.log(label);
  measure(config, 1_000); // warm-up for the JIT
  const rows = sizes.map((n) => ({ n, ...measure(config, n) }));
  for (const r of rows) {
    console.log(
      `  at ${String(r.n).padStart(7)} agents: register ${us(r.fresh)}  delete+register ${us(r.churn)}  (fill average ${us(r.fill)})` +
        `  | a linear scan for the lowest free block alone: ${us(naiveScan(r.n))}`,
    );
  }
  const [small, large] = [rows[0]!, rows[rows.length - 1]!];
  console.log(
    `  ratio ${large.n / small.n}x agents -> register ${(large.fresh / small.fresh).toFixed(2)}x, churn ${(large.churn / small.churn).toFixed(2)}x`,
  );
}
