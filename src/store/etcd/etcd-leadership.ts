// Leadership on etcd's election API, next to the store it fences. Election
// keys live at <prefix>/election/masters/<lease id> and hold the candidate's
// URL; the lease TTL (default 3 s) is how long a dead leader keeps the election.

import type { Campaign, Election } from 'etcd3';
import { VxnetError } from '../../errors.js';
import type { Leadership } from '../leadership.js';
import { reasonOf } from './connect.js';
import type { EtcdStore } from './etcd-store.js';

/** Where masters campaign; `vxnet network delete --etcd` refuses while a key exists here. */
export const electionKeys = (prefix: string): string => `${prefix}/election/`;

export class EtcdLeadership implements Leadership {
  private readonly election: Election;
  private campaignOf: Campaign | undefined;
  private lostListener: (reason: string) => void = () => {};

  constructor(
    private readonly store: EtcdStore,
    leaseTtlSeconds = 3,
  ) {
    this.election = store.client.namespace(`${store.layout.prefix}/`).election('masters', leaseTtlSeconds);
  }

  campaign(self: string): Promise<void> {
    const campaign = this.election.campaign(self);
    this.campaignOf = campaign;
    return new Promise<void>((resolve, reject) => {
      let elected = false;
      campaign.on('elected', () => {
        elected = true;
        resolve();
      });
      campaign.on('error', (err) => {
        const reason = reasonOf(err);
        if (elected) this.lostListener(`the leader lease was lost (${reason})`);
        else reject(new VxnetError('NOT_LEADER', `the election failed (${reason})`));
      });
    });
  }

  async fence(): Promise<void> {
    const campaign = this.campaignOf;
    if (!campaign) throw new VxnetError('NOT_LEADER', 'cannot fence the store before campaigning');
    const key = await campaign.getCampaignKey();
    const kv = (await this.store.client.get(key).exec()).kvs[0];
    if (!kv) throw new VxnetError('NOT_LEADER', `the election key ${key} vanished right after the election`);
    this.store.setFence({ key, createRevision: String(kv.create_revision) });
  }

  async leader(): Promise<string | undefined> {
    return this.election.leader().then(
      (url) => url,
      () => undefined,
    );
  }

  async resign(): Promise<void> {
    const campaign = this.campaignOf;
    this.campaignOf = undefined;
    this.store.setFence(undefined);
    await campaign?.resign();
  }

  onLost(listener: (reason: string) => void): void {
    this.lostListener = listener;
  }
}
