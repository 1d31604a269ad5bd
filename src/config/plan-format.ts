// Human text for a capacity plan. Pure.

import type { CapacityPlan, FamilyCapacity, OverlayCapacity } from './plan.js';

/** Exact count; huge IPv6 counts also as a power of two so they can be read. */
export function formatCount(n: bigint): string {
  if (n < 1n << 32n) return String(n);
  const bits = n.toString(2).length;
  for (const k of [bits - 1, bits]) {
    const difference = (1n << BigInt(k)) - n;
    if (difference === 0n) return `${n} (2^${k})`;
    if (difference > 0n && difference <= 3n) return `${n} (2^${k} - ${difference})`;
  }
  return String(n);
}

function familyLines(overlay: OverlayCapacity, f: FamilyCapacity): string[] {
  const reserved = f.family === 4 ? 'network, gateway and broadcast' : 'network and gateway';
  return [
    `  IPv${f.family} ${f.subnet}, ${f.family === 4 ? 'prefix' : 'prefix6'} /${f.prefix}`,
    `    agent subnets           ${formatCount(f.agentSubnets)}`,
    `    addresses per agent     ${formatCount(f.addressesPerAgent)}`,
    `    bridge halves           /${f.bridgeHalfPrefix} each: m-${overlay.name} (lower), d-${overlay.name} (upper)`,
    `    container IPs per half  ${formatCount(f.containersPerBridgeHalf)} (after ${reserved})`,
  ];
}

/** The plan as text: VTEP pools, then each overlay, then the cluster-wide bound. */
export function formatPlan(plan: CapacityPlan): string {
  const lines = [
    'VTEP pools (one address per agent)',
    `  vtep_subnet   ${plan.vtep.ipv4.subnet}: ${formatCount(plan.vtep.ipv4.vteps)} VTEPs`,
  ];
  if (plan.vtep.ipv6) lines.push(`  vtep_subnet6  ${plan.vtep.ipv6.subnet}: ${formatCount(plan.vtep.ipv6.vteps)} VTEPs`);
  for (const overlay of plan.overlays) {
    lines.push(`Overlay ${overlay.name}${overlay.enabled ? '' : ' (disabled: no new allocations)'}`);
    for (const f of [overlay.ipv4, overlay.ipv6]) if (f) lines.push(...familyLines(overlay, f));
    lines.push(`  max agents              ${formatCount(overlay.maxAgents)}, limited by ${overlay.limitedBy.join(' and ')}`);
  }
  lines.push(
    `Cluster: at most ${formatCount(plan.cluster.maxAgents)} agents with every enabled overlay, limited by ${plan.cluster.limitedBy.join(' and ')}`,
  );
  if (plan.overlayCount.count >= plan.overlayCount.max)
    lines.push(`Overlays: ${plan.overlayCount.count}, the most a config may hold: no overlay can be added`);
  return `${lines.join('\n')}\n`;
}
