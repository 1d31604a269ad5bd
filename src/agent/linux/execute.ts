// Ops -> `ip -batch -` / `bridge -batch -` runs, one line per kernel change.
// Every value was validated before it became an op, so a line never holds
// more words than intended. `-force` keeps going after a failed line, and the
// kernel's error text is mapped back to the op that caused it.

import { VTEP_NAME } from '../../api/types.js';
import { OWNER_ALIAS, ROUTE_PROTO, type Op } from '../model.js';
import type { Exec } from './exec.js';

export interface Batch {
  tool: 'ip' | 'bridge';
  lines: string[];
  /** For each line, the index of its op in the input. */
  opOf: number[];
}

export interface OpFailure {
  op: Op;
  error: string;
}

const toolOf = (op: Op): 'ip' | 'bridge' => (op.kind.startsWith('fdb-') ? 'bridge' : 'ip');

export function opLines(op: Op): string[] {
  switch (op.kind) {
    case 'link-add': {
      const l = op.link;
      const head = `link add name ${l.name}${l.mac ? ` address ${l.mac}` : ''} mtu ${l.mtu} up`;
      const type = l.vxlan
        ? `type vxlan id ${l.vxlan.vni} dstport ${l.vxlan.port} local ${l.vxlan.local} dev ${l.vxlan.dev} ${l.vxlan.learning ? 'learning' : 'nolearning'}`
        : 'type bridge';
      return [`${head} ${type}`, `link set dev ${l.name} alias ${OWNER_ALIAS}`];
    }
    case 'link-set':
      return [`link set dev ${op.name}${op.mac ? ` address ${op.mac}` : ''}${op.mtu ? ` mtu ${op.mtu}` : ''}${op.up ? ' up' : ''}`];
    case 'link-del':
      return [`link del dev ${op.name}`];
    case 'addr-add':
      // Allocated addresses are unique; without nodad an IPv6 address on a
      // bridge with no ports yet stays tentative and unusable.
      return [`addr replace ${op.address} dev ${op.dev}${op.address.includes(':') ? ' nodad' : ''}`];
    case 'addr-del':
      return [`addr del ${op.address} dev ${op.dev}`];
    case 'neigh-replace':
      return [`neigh replace ${op.ip} lladdr ${op.mac} dev ${VTEP_NAME} nud permanent`];
    case 'neigh-del':
      return [`neigh del ${op.ip} dev ${VTEP_NAME}`];
    case 'fdb-replace':
      return [`fdb replace ${op.mac} dev ${VTEP_NAME} dst ${op.dst} self permanent`];
    case 'fdb-del':
      return [`fdb del ${op.mac} dev ${VTEP_NAME} dst ${op.dst} self`];
    case 'route-replace':
      return [`route replace ${op.dst} via ${op.via} dev ${VTEP_NAME} onlink proto ${ROUTE_PROTO}`];
    case 'route-del':
      return [`route del ${op.dst} via ${op.via} dev ${op.dev} proto ${ROUTE_PROTO}`];
  }
}

/** Consecutive ops for the same tool share one batch, keeping the planner's order. */
export function toBatches(ops: Op[]): Batch[] {
  const batches: Batch[] = [];
  ops.forEach((op, index) => {
    const tool = toolOf(op);
    let batch = batches[batches.length - 1];
    if (!batch || batch.tool !== tool) {
      batch = { tool, lines: [], opOf: [] };
      batches.push(batch);
    }
    for (const line of opLines(op)) {
      batch.lines.push(line);
      batch.opOf.push(index);
    }
  });
  return batches;
}

/** `-force -batch` stderr -> error text per failed line (1-based). */
export function parseBatchErrors(stderr: string): Map<number, string> {
  const errors = new Map<number, string>();
  let pending: string[] = [];
  for (const line of stderr.split('\n')) {
    const failed = /^Command failed -:(\d+)\s*$/.exec(line);
    if (failed) {
      errors.set(Number(failed[1]), pending.join('; ') || 'failed');
      pending = [];
    } else if (line.trim()) pending.push(line.trim());
  }
  return errors;
}

export async function execute(exec: Exec, ops: Op[]): Promise<OpFailure[]> {
  const failures: OpFailure[] = [];
  for (const batch of toBatches(ops)) {
    const r = await exec(batch.tool, ['-force', '-batch', '-'], `${batch.lines.join('\n')}\n`);
    if (r.code === 0) continue;
    const errors = parseBatchErrors(r.stderr);
    const failed = new Map<number, string>();
    if (errors.size === 0) batch.opOf.forEach((i) => failed.set(i, r.stderr.trim() || `${batch.tool} exited with ${r.code}`));
    for (const [line, error] of errors) {
      const i = batch.opOf[line - 1];
      if (i !== undefined && !failed.has(i)) failed.set(i, error);
    }
    for (const [i, error] of failed) failures.push({ op: ops[i]!, error });
  }
  return failures;
}
