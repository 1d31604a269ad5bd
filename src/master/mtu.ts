// The cluster's lowest MTU: each live agent's last reported `mtu` (what its
// underlay carries through the overlay), kept change by change by the
// replica, which sends a `mtu` watch event when the lowest changes and after
// every stream's first frames. Agents with `--mtu auto` use it.

import type { MtuEvent, MtuView } from '../api/types.js';
import type { AgentRecord } from '../store/store.js';

export class MtuCounter {
  /** Reported MTU per agent IP (live agents only). */
  private readonly byAgent = new Map<string, number>();
  /** Agents per reported MTU: few distinct values, so the lowest is a short scan. */
  private readonly agents = new Map<number, Set<string>>();

  constructor(records: Iterable<AgentRecord> = []) {
    for (const r of records) if (!r.expired) this.set(r.ip, r.mtu);
  }

  /** Records an agent's value (undefined: it reports none, or it left); true when the lowest changed. */
  set(ip: string, mtu: number | undefined): boolean {
    const old = this.byAgent.get(ip);
    if (old === mtu) return false;
    const before = this.lowestMtu();
    if (old !== undefined) {
      const holders = this.agents.get(old);
      holders?.delete(ip);
      if (holders?.size === 0) this.agents.delete(old);
      this.byAgent.delete(ip);
    }
    if (mtu !== undefined) {
      this.byAgent.set(ip, mtu);
      const holders = this.agents.get(mtu) ?? new Set<string>();
      holders.add(ip);
      this.agents.set(mtu, holders);
    }
    return this.lowestMtu() !== before;
  }

  lowestMtu(): number | undefined {
    let lowest: number | undefined;
    for (const mtu of this.agents.keys()) if (lowest === undefined || mtu < lowest) lowest = mtu;
    return lowest;
  }

  /** The lowest and one agent that reported it. */
  lowest(): { mtu: number; agent: string } | undefined {
    const mtu = this.lowestMtu();
    const agent = mtu === undefined ? undefined : this.agents.get(mtu)?.values().next().value;
    return mtu === undefined || agent === undefined ? undefined : { mtu, agent };
  }

  view(revision: number): MtuView {
    const lowest = this.lowest();
    const agents: Record<string, number> = {};
    for (const [mtu, holders] of [...this.agents].sort(([a], [b]) => a - b)) agents[String(mtu)] = holders.size;
    return { revision, ...(lowest && { lowest }), agents };
  }

  /** The `mtu` watch event now, or undefined before any agent reported. */
  event(revision: number): MtuEvent | undefined {
    const lowest = this.lowest();
    return lowest && { type: 'mtu', revision, mtu: lowest.mtu, agent: lowest.agent, reported: this.byAgent.size };
  }
}

/** Live only, like `pool`: no `id:` line, so a client's resume point stays the last change it saw. */
export const mtuFrame = (event: MtuEvent): string => `event: mtu\ndata: ${JSON.stringify(event)}\n\n`;
