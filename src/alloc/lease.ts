// What one agent holds, as parsed values: the allocator's currency. Records
// (text, as stored) become leases at the edge (lease-record.ts) and nowhere else.

import { VxnetError } from '../errors.js';
import type { Cidr, Ip } from '../net/ip.js';

/** One overlay of a lease. An overlay that could not be filled carries `error` instead of a subnet of that family. */
export interface OverlayLease {
  readonly subnet?: Cidr;
  readonly subnet6?: Cidr;
  /** Why a family got no subnet: the overlay is full. */
  readonly error?: string;
}

export interface Lease {
  readonly vtepIp: Ip;
  readonly vtepIp6?: Ip;
  /** Lowercase; derived from vtepIp and the OUI. Kept so a stored MAC that no longer matches is caught. */
  readonly vtepMac: string;
  /** By overlay name, in config order. */
  readonly overlays: Readonly<Record<string, OverlayLease>>;
}

/** How RECONCILE_REFUSED names a value: agent, what it holds, why that is wrong, how to fix it. */
export function leaseRefusal(agent: string, what: string, problem: string, fix: string, details: Record<string, unknown>): VxnetError {
  return new VxnetError('RECONCILE_REFUSED', `agent ${agent} holds ${what}, ${problem}; ${fix}`, { agent, ...details });
}

export const VTEP_FIX = 'restore the vtep settings the store was written with, or delete the agent';

export const overlayFix = (overlay: string): string =>
  `restore overlay ${overlay}'s old subnet and prefix in the config, or run "vxnet network delete ${overlay} --data DIR" to free its allocations`;

export const missingOverlayFix = (overlay: string): string =>
  `put overlay ${overlay} back in the config, or run "vxnet network delete ${overlay} --data DIR" to free its allocations`;
