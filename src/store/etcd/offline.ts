// Opening the etcd store for an offline operation (`vxnet network delete`):
// only while no master runs, as the SQLite store's lock file ensures for --data.

import { VxnetError } from '../../errors.js';
import { type EtcdTls, parseEndpoints } from './connect.js';
import { electionKeys } from './etcd-leadership.js';
import { EtcdStore } from './etcd-store.js';

export async function openStoppedEtcdStore(urls: string, prefix: string, tls?: EtcdTls): Promise<EtcdStore> {
  const store = await EtcdStore.open(parseEndpoints(urls), { prefix, ...(tls && { tls }) });
  try {
    const running = await store.client.getAll().prefix(electionKeys(prefix)).count();
    if (running > 0) {
      throw new VxnetError(
        'CONFLICT',
        `${running} vxnet master(s) are running on etcd prefix ${prefix} (keys under ${electionKeys(prefix)}): stop every master first, then run this again`,
      );
    }
    return store;
  } catch (e) {
    await store.close();
    throw e;
  }
}
