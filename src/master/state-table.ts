// Pure: renders the master's state as the human tables of `vxnet state`.

import type { AgentInfo, ContainerInfo, EngineState, MasterState } from '../api/types.js';
import type { OverlayConfig } from '../config/types.js';
import { mustCidr } from '../net/ip.js';

/** Left-aligned columns separated by two spaces. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

function familyUsage(agents: AgentInfo[], overlay: OverlayConfig, family: 4 | 6): { used: number; free: bigint } | undefined {
  const subnet = family === 4 ? overlay.subnet : overlay.subnet6;
  const prefix = family === 4 ? overlay.prefix : overlay.prefix6;
  if (subnet === undefined || prefix === undefined) return undefined;
  const total = 1n << BigInt(prefix - mustCidr(subnet).length);
  const used = agents.filter((a) =>
    a.overlays.some((o) => o.info.name === overlay.name && (family === 4 ? o.subnet : o.subnet6) !== undefined),
  ).length;
  return { used, free: total - BigInt(used) };
}

function networkRow(state: MasterState, overlay: OverlayConfig): string[] {
  const v4 = familyUsage(state.agents, overlay, 4);
  const v6 = familyUsage(state.agents, overlay, 6);
  const both = <T>(a: T | undefined, b: T | undefined) => [a, b].filter((x) => x !== undefined).join(', ');
  const holders = state.agents.filter((a) =>
    a.overlays.some((o) => o.info.name === overlay.name && (o.subnet ?? o.subnet6) !== undefined),
  ).length;
  return [
    overlay.name + (overlay.enabled === false ? ' (disabled)' : ''),
    both(overlay.subnet, overlay.subnet6),
    both(overlay.prefix, overlay.prefix6),
    String(holders),
    both(v4?.free, v6?.free),
  ];
}

function agentRows(agent: AgentInfo): string[][] {
  const vxlan = agent.overlays[0]?.backend.vxlan;
  const vtep = vxlan ? [vxlan.vtep_ip, vxlan.vtep_ip6].filter(Boolean).join(', ') : '-';
  const first = [agent.ip, vtep, vxlan?.vtep_mac ?? '-'];
  if (agent.overlays.length === 0) return [[...first, '-', '-', '-']];
  return agent.overlays.map((o, i) => [
    ...(i === 0 ? first : ['', '', '']),
    o.info.name,
    [o.subnet, o.subnet6].filter(Boolean).join(', ') || '-',
    o.state.error !== undefined ? `${o.state.status}: ${o.state.error}` : o.state.status,
  ]);
}

/** One agent's engines as `vxnet state` shows them: "docker: ok (20.10.24)", "docker: not found at unix:///…". */
export function engineText(docker: EngineState | undefined): string {
  if (!docker) return 'docker: not reported';
  if (docker.detail?.startsWith(docker.status)) return `docker: ${docker.detail}`;
  const extra = [docker.version, docker.detail].filter(Boolean).join('; ');
  return `docker: ${docker.status}${extra ? ` (${extra})` : ''}`;
}

export function formatState(
  state: MasterState,
  containers: (ContainerInfo & { agent: string })[] = [],
  engines: { agent: string; docker?: EngineState }[] = [],
): string {
  const parts = [
    'NETWORKS',
    table(
      ['NAME', 'SUBNET', 'PREFIX', 'AGENTS', 'FREE SUBNETS'],
      state.network.overlays.map((o) => networkRow(state, o)),
    ),
    '',
    `AGENTS (${state.agents.length})`,
    state.agents.length
      ? table(['IP', 'VTEP IP', 'VTEP MAC', 'OVERLAY', 'SUBNET', 'STATUS'], state.agents.flatMap(agentRows))
      : '(none registered)',
  ];
  if (containers.length > 0) {
    parts.push('', `CONTAINERS (${containers.length})`);
    parts.push(
      table(
        ['AGENT', 'ID', 'NAME', 'RUNTIME', 'NETWORK', 'IP', 'INTERFACE'],
        containers.map((c) => [
          c.agent,
          c.runtime === 'docker' ? c.id.slice(0, 12) : c.id,
          c.name ?? '-',
          c.runtime ?? 'cni',
          c.network,
          [...new Set([c.ip, c.ip6].filter(Boolean))].join(', '),
          c.interface || '-',
        ]),
      ),
    );
  }
  // Only once some agent drives an engine: clusters without Docker see no noise.
  if (engines.some((e) => e.docker)) {
    parts.push(
      '',
      'ENGINES',
      table(
        ['AGENT', 'ENGINES'],
        engines.map((e) => [e.agent, engineText(e.docker)]),
      ),
    );
  }
  return `${parts.join('\n')}\n`;
}
