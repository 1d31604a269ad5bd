// Pure: validates HTTP request bodies and path values of the master API into
// typed values, or throws VxnetError('BAD_REQUEST') naming field, value and fix.

import { z } from 'zod';
import type { AgentNetworkConfig, ContainerInfo, ContainersReport, OverlayStatus, StatusReport } from '../api/types.js';
import { OVERLAY_STATUSES } from '../api/types.js';
import { VxnetError } from '../errors.js';
import { formatCidr, formatIp, parseIp } from '../net/ip.js';
import { isOverlayName, MIN_VXLAN_MTU } from '../net/link.js';
import { specialRangeOf } from '../net/special-ranges.js';

const show = (value: unknown): string => {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    // Too deep (or cyclic) to render: the type still tells the caller what was wrong.
    return Array.isArray(value) ? '[...]' : typeof value === 'object' ? '{...}' : String(value);
  }
  if (text === undefined) return String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
};

const bad = (field: string, value: unknown, rule: string, fix: string): VxnetError =>
  new VxnetError('BAD_REQUEST', `${field}: ${show(value)} ${rule}; ${fix}`, { field, value });

/** An agent IP: IPv4 dotted quad, returned in canonical form. */
export function agentIp(value: unknown, field = 'ip'): string {
  const ip = typeof value === 'string' ? parseIp(value) : undefined;
  if (ip?.family !== 4) {
    throw bad(field, value, 'is not an IPv4 address', 'agents are identified by their IPv4 address, e.g. "10.0.0.1"');
  }
  return formatIp(ip);
}

/**
 * The IP of an agent that registers. Only registration checks that it is a
 * unicast host address, so agents stored by older versions stay reachable
 * by GET and delete.
 */
export function registeringAgentIp(value: unknown, field = 'ip'): string {
  const text = agentIp(value, field);
  const ip = parseIp(text)!;
  // Peers put this address into FDB entries: it must reach the agent from other hosts.
  const special = specialRangeOf(ip);
  if (special) {
    const rule = special.hostUnicast
      ? `is ${special.what} (${formatCidr(special.cidr)}), which is not routed between hosts`
      : `is not a unicast host address (${special.what}: ${formatCidr(special.cidr)})`;
    throw bad(field, value, rule, "give the agent's own underlay IPv4 address, which its peers can reach");
  }
  return text;
}

function valueAt(body: unknown, path: (string | number)[]): unknown {
  let v: unknown = body;
  for (const key of path) v = v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[key] : undefined;
  return v;
}

function parseWith<T>(schema: z.ZodType<T>, body: unknown, what: string, example: string): T {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw bad('body', body, 'is not a JSON object', `send ${what} as a JSON object, e.g. ${example}`);
  }
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.length
    ? issue.path
        .map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`))
        .join('')
        .replace(/^\./, '')
    : 'body';
  throw bad(field, valueAt(body, issue.path), `is invalid (${issue.message})`, `see the example ${example}`);
}

const registerSchema = z
  .object({
    ip: z.unknown(),
    network_config: z
      .object({ allocate_subnet: z.boolean().optional(), mesos_bridge: z.boolean().optional(), docker_bridge: z.boolean().optional() })
      .strict()
      .optional(),
  })
  .strict();

export interface ParsedRegister {
  ip: string;
  networkConfig: AgentNetworkConfig;
}

const REGISTER_EXAMPLE = '{"ip":"10.0.0.1","network_config":{"allocate_subnet":true,"mesos_bridge":true,"docker_bridge":true}}';

/** POST /overlay-master/agents. Each switch defaults to true. */
export function parseRegister(body: unknown): ParsedRegister {
  const parsed = parseWith(registerSchema, body, 'the registration', REGISTER_EXAMPLE);
  const ip = registeringAgentIp(parsed.ip);
  const nc = parsed.network_config ?? {};
  return {
    ip,
    networkConfig: {
      allocate_subnet: nc.allocate_subnet ?? true,
      mesos_bridge: nc.mesos_bridge ?? true,
      docker_bridge: nc.docker_bridge ?? true,
    },
  };
}

const statusSchema = z
  .object({
    overlays: z.array(
      z
        .object({
          name: z.string(),
          status: z.enum(OVERLAY_STATUSES as [OverlayStatus, ...OverlayStatus[]]),
          error: z.string().max(4096).optional(),
        })
        .strict(),
    ),
    // vxnet's addition: what the agent's underlay carries through the overlay (src/master/mtu.ts).
    mtu: z.number().int().min(MIN_VXLAN_MTU).max(65535).optional(),
  })
  .strict();

/** PUT /overlay-master/agents/{ip}/status. Overlay names are checked by the service. */
export function parseStatus(body: unknown): StatusReport {
  return parseWith(statusSchema, body, 'the status report', '{"overlays":[{"name":"dcos-1","status":"STATUS_OK"}]}');
}

const engineSchema = z
  .object({
    status: z.enum(['ok', 'not found', 'error', 'disabled']),
    version: z.string().max(64).optional(),
    detail: z.string().max(4096).optional(),
  })
  .strict();

/** The agent's IPAM check counts per overlay (src/agent/ipam-gc/): bounded in keys and values, it goes into the record. */
const MAX_IPAM_OVERLAYS = 256;
const ipamCount = z
  .number()
  .int()
  .min(0)
  .max(2 ** 32);
const ipamSchema = z
  .record(
    z.string().refine(isOverlayName, 'is not an overlay name'),
    z.object({ used: ipamCount, leaked: ipamCount, suspect: ipamCount, stranded: ipamCount }).strict(),
  )
  .refine((r) => Object.keys(r).length <= MAX_IPAM_OVERLAYS, `at most ${MAX_IPAM_OVERLAYS} overlays`);

const containerSchema = z
  .object({
    id: z.string().min(1).max(256),
    network: z.string().min(1),
    ip: z.string(),
    ip6: z.string().optional(),
    interface: z.string().max(64),
    runtime: z.enum(['cni', 'docker']).optional(),
    name: z.string().max(256).optional(),
  })
  .strict();

/** Stranded containers an agent may report (src/master/leases.ts): checked as data only, never against the allocation. */
export const MAX_STRANDED = 256;

const containersSchema = z
  .object({
    containers: z.array(containerSchema),
    engines: z.object({ docker: engineSchema.optional() }).strict().optional(),
    ipam: ipamSchema.optional(),
    stranded: z.array(containerSchema).max(MAX_STRANDED).optional(),
  })
  .strict();

/** PUT /overlay-master/agents/{ip}/containers. */
export function parseContainers(body: unknown): ContainersReport {
  const report = parseWith(
    containersSchema,
    body,
    'the containers report',
    '{"containers":[{"id":"c1","network":"dcos-1","ip":"192.168.0.2","interface":"eth0"}]}',
  );
  // A container on an IPv6-only overlay has no IPv4 address: agents report its IPv6 one as `ip`.
  const canonical = (field: string) => (c: ContainerInfo, i: number) => {
    const ip = parseIp(c.ip);
    if (!ip)
      throw bad(
        `${field}[${i}].ip`,
        c.ip,
        'is not an IP address',
        'report the container\'s overlay address, e.g. "192.168.0.2" (or its IPv6 address on an IPv6-only overlay)',
      );
    const ip6 = c.ip6 === undefined ? undefined : parseIp(c.ip6);
    if (ip6 !== undefined && ip6?.family !== 6)
      throw bad(`${field}[${i}].ip6`, c.ip6, 'is not an IPv6 address', 'leave it out or give the IPv6 address');
    return { ...c, ip: formatIp(ip), ...(ip6 && { ip6: formatIp(ip6) }) };
  };
  const containers = report.containers.map(canonical('containers'));
  const stranded = report.stranded?.map(canonical('stranded'));
  return {
    containers,
    ...(report.engines && { engines: report.engines }),
    ...(report.ipam && { ipam: report.ipam }),
    ...(stranded && { stranded }),
  };
}

const deleteSchema = z.object({ agents: z.array(z.unknown()) }).strict();

/** POST /overlay-master/agents/delete: canonical IPs, duplicates removed. */
export function parseDelete(body: unknown): string[] {
  const parsed = parseWith(deleteSchema, body, 'the agents to delete', '{"agents":["10.0.0.3"]}');
  return [...new Set(parsed.agents.map((ip, i) => agentIp(ip, `agents[${i}]`)))];
}

/** The `since` query of the watch: a non-negative integer, or absent. */
export function parseSince(value: unknown): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value === 'string' && /^\d{1,15}$/.test(value)) return Number(value);
  throw bad('since', value, 'is not a revision', 'pass the id of the last event you received, e.g. ?since=42, or leave it out');
}
