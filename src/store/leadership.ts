// The leadership port: how several masters on one store agree on a leader.
// Small on purpose, like the store port: the master's standby → campaign →
// lead loop (src/master/leader.ts) uses only this; the etcd implementation
// lives in etcd/etcd-leadership.ts, next to the store it fences.

export interface Leadership {
  /**
   * Campaigns as `self` (the URL this master serves on) and resolves once
   * elected. Rejects (VxnetError NOT_LEADER or STORE_UNAVAILABLE) when the
   * campaign fails or `resign()` is called first.
   */
  campaign(self: string): Promise<void>;
  /**
   * Fences the store to this term: from now on a write succeeds only while
   * this master still holds the election, so a deposed leader writes nothing.
   */
  fence(): Promise<void>;
  /** The elected leader's URL as it announced itself, or undefined when there is none (or it is unknown). */
  leader(): Promise<string | undefined>;
  /** Gives the election up (or stops campaigning) at once; idempotent. */
  resign(): Promise<void>;
  /** Called once when an elected term is lost (e.g. the lease expired). */
  onLost(listener: (reason: string) => void): void;
}
