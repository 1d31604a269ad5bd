// Tells the master this host's overlay statuses and attached containers, only
// when they changed since the master last accepted them, without ever making
// the loop wait for the master.

import type { ContainersReport, StatusReport } from '../api/types.js';
import type { MasterPort } from './master-client.js';

export class Reporter {
  private accepted = { status: '', containers: '' };
  private inFlight = false;

  constructor(
    private readonly master: MasterPort,
    private readonly ip: string,
    private readonly log: (message: string) => void,
  ) {}

  /** After a (re-)registration the master holds nothing from us. */
  forget(): void {
    this.accepted = { status: '', containers: '' };
  }

  send(status: StatusReport, containers: ContainersReport): void {
    if (this.inFlight) return;
    const statusText = JSON.stringify(status);
    const containersText = JSON.stringify(containers);
    if (statusText === this.accepted.status && containersText === this.accepted.containers) return;
    this.inFlight = true;
    void (async () => {
      try {
        if (statusText !== this.accepted.status) {
          await this.master.putStatus(this.ip, status);
          this.accepted.status = statusText;
        }
        if (containersText !== this.accepted.containers) {
          await this.master.putContainers(this.ip, containers);
          this.accepted.containers = containersText;
        }
      } catch (err) {
        this.log(`report to master failed (retried next pass): ${err instanceof Error ? err.message : String(err)}`);
      } finally {
        this.inFlight = false;
      }
    })();
  }
}
