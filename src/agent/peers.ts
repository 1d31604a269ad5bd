// Pure: which watch events change what this host programs. Every report an
// agent sends (its overlays' status, its containers) comes back to every
// agent as a `put` of its record; at 4,093 peers each one would cost a new
// desired state and a plan over every table. Only what desired.ts reads of a
// peer counts: everything but `state` (the status the peer reports).

import type { AgentInfo } from '../api/types.js';

/** A peer's record as far as the data plane goes: all but the status it reports. */
export const programmedKey = (info: AgentInfo): string =>
  JSON.stringify([info.ip, info.overlays.map(({ state: _state, ...rest }) => rest)]);

/** Whether `next` replacing `before` changes what this host programs for that peer. */
export const changesProgramming = (before: AgentInfo | undefined, next: AgentInfo): boolean =>
  before === undefined || (before !== next && programmedKey(before) !== programmedKey(next));

/**
 * The peer table after a resync. A peer whose programming did not change
 * keeps its old object (desired.ts keeps its parsed entries per object);
 * this agent's own record is always the new one (its rules are `setMe`'s).
 * `changed`: a peer other than this agent came, went or changed.
 */
export function afterResync(
  before: ReadonlyMap<string, AgentInfo>,
  agents: readonly AgentInfo[],
  ownIp: string,
): { peers: Map<string, AgentInfo>; changed: boolean } {
  const peers = new Map<string, AgentInfo>();
  let changed = false;
  for (const agent of agents) {
    const old = before.get(agent.ip);
    const fresh = agent.ip === ownIp || changesProgramming(old, agent);
    if (fresh && agent.ip !== ownIp) changed = true;
    peers.set(agent.ip, fresh ? agent : old!);
  }
  for (const ip of before.keys()) if (ip !== ownIp && !peers.has(ip)) changed = true;
  return { peers, changed };
}
