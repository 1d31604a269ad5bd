// Pure: checks a parsed request against the config and the stored state,
// which requests.ts (the shape of one body) cannot see. Throws VxnetError
// naming the field, the value and the fix: BAD_REQUEST when the request
// contradicts itself or the config, CONFLICT when it contradicts what the
// master holds (the agent's allocation, another agent's report).

import type { ContainersReport } from '../api/types.js';
import type { ParsedRegister } from './requests.js';
import type { CanonicalConfig } from '../config/canonical.js';
import { VxnetError } from '../errors.js';
import { type Cidr, contains, formatCidr, formatIp, halves, lastAddress, mustCidr, mustIp, parseIp } from '../net/ip.js';
import type { AgentRecord } from '../store/store.js';

const REGISTER_FIX = "give the agent's own underlay IPv4 address, which must lie outside vtep_subnet and every overlay's subnet";

/**
 * An agent's address must not be one vxnet hands out: peers would send
 * VXLAN traffic to a VTEP or a container instead of the host.
 */
export function checkAgentAddress(ip: string, config: CanonicalConfig): void {
  const addr = mustIp(ip);
  const pools: [Cidr | undefined, string][] = [
    [config.vtep4, 'vtep_subnet'],
    ...config.overlays.map((o): [Cidr | undefined, string] => [o.v4?.subnet, `the subnet of overlay ${o.name}`]),
  ];
  for (const [cidr, what] of pools) {
    if (cidr && contains(cidr, addr)) {
      throw new VxnetError('BAD_REQUEST', `ip: "${ip}" is inside ${what} (${formatCidr(cidr)}); ${REGISTER_FIX}`, {
        field: 'ip',
        value: ip,
      });
    }
  }
}

const holdsSubnet = (record: AgentRecord): boolean =>
  Object.values(record.overlays).some((o) => o.subnet !== undefined || o.subnet6 !== undefined);

/**
 * Same IP, same answer: an agent that holds subnets keeps them, so
 * `allocate_subnet: false` from it counts as true (its containers may still
 * use them). To give them up, delete the agent first.
 */
export function keepingHeldSubnets(req: ParsedRegister, existing: AgentRecord | undefined): ParsedRegister {
  if (req.networkConfig.allocate_subnet || !existing || !holdsSubnet(existing)) return req;
  return { ...req, networkConfig: { ...req.networkConfig, allocate_subnet: true } };
}

/** Addresses of an agent subnet no container may have: each half's network, gateway (the bridge) and, IPv4, broadcast address. */
function reservedIn(subnet: Cidr): bigint[] {
  const bits = subnet.family === 4 ? 32 : 128;
  if (subnet.length >= bits - 1) return [subnet.base];
  return halves(subnet).flatMap((h) => [h.base, h.base + 1n, ...(h.family === 4 ? [lastAddress(h)] : [])]);
}

/**
 * A containers report: every address inside the reporting agent's subnet of
 * that overlay (and family), not a reserved one, none twice, none that
 * another agent reports (`ownerOf` says who reports an address now).
 */
export function checkContainers(
  agent: AgentRecord,
  report: ContainersReport,
  config: CanonicalConfig,
  ownerOf: (ip: string) => string | undefined,
): void {
  const seen = new Map<string, string>();
  report.containers.forEach((c, i) => {
    const overlay = config.overlays.find((o) => o.name === c.network);
    if (!overlay) {
      const known = config.overlays.map((o) => o.name).join(', ');
      throw new VxnetError('BAD_REQUEST', `containers[${i}].network: "${c.network}" is not a configured overlay; use one of: ${known}`, {
        field: `containers[${i}].network`,
        value: c.network,
      });
    }
    const addresses: [string, string][] = [[`containers[${i}].ip`, c.ip]];
    if (c.ip6 !== undefined) addresses.push([`containers[${i}].ip6`, c.ip6]);
    for (const [field, text] of addresses) {
      const ip = mustIp(text);
      const range = ip.family === 4 ? overlay.v4 : overlay.v6;
      const family = ip.family === 4 ? 'IPv4' : 'IPv6';
      const fail = (code: 'BAD_REQUEST' | 'CONFLICT', rule: string, fix: string): VxnetError =>
        new VxnetError(code, `${field}: "${text}" ${rule}; ${fix}`, { field, value: text });
      if (!range)
        throw fail(
          'BAD_REQUEST',
          `is IPv${ip.family} but overlay ${overlay.name} has no ${family} subnet`,
          'report its address on that overlay',
        );
      if (!contains(range.subnet, ip)) {
        throw fail(
          'BAD_REQUEST',
          `is not in overlay ${overlay.name} (${formatCidr(range.subnet)})`,
          "report the container's address on that overlay",
        );
      }
      const heldText = agent.overlays[overlay.name]?.[ip.family === 4 ? 'subnet' : 'subnet6'];
      if (heldText === undefined) {
        throw fail(
          'CONFLICT',
          `is on overlay ${overlay.name}, where agent ${agent.ip} holds no ${family} subnet`,
          'report only containers on overlays where GET /overlay-master/agents/{ip} lists a subnet (register with allocate_subnet: true)',
        );
      }
      const held = mustCidr(heldText);
      if (!contains(held, ip)) {
        throw fail(
          'CONFLICT',
          `is outside agent ${agent.ip}'s subnet of overlay ${overlay.name} (${heldText})`,
          'report only containers attached on this agent',
        );
      }
      if (reservedIn(held).includes(ip.value)) {
        throw fail(
          'BAD_REQUEST',
          `is a network, broadcast or bridge gateway address of ${heldText} (halves ${halvesText(held)})`,
          "report the container's own address",
        );
      }
      const key = formatIp(ip);
      const earlier = seen.get(key);
      if (earlier !== undefined) throw fail('BAD_REQUEST', `is reported twice (also as ${earlier})`, 'report each address once');
      seen.set(key, field);
      const owner = ownerOf(key);
      if (owner !== undefined && owner !== agent.ip) {
        throw fail(
          'CONFLICT',
          `is reported by agent ${owner} too`,
          `delete the stale agent (POST /overlay-master/agents/delete) or detach the container there`,
        );
      }
    }
  });
}

function halvesText(subnet: Cidr): string {
  const bits = subnet.family === 4 ? 32 : 128;
  return subnet.length >= bits ? formatCidr(subnet) : halves(subnet).map(formatCidr).join(' and ');
}

/** Every address a record's containers use (ip and ip6), canonical; stored text that is no address is skipped. */
export function containerAddresses(record: AgentRecord): string[] {
  const out: string[] = [];
  for (const c of record.containers) {
    for (const text of [c.ip, c.ip6]) {
      const ip = text === undefined ? undefined : parseIp(text);
      if (ip) out.push(formatIp(ip));
    }
  }
  return out;
}
