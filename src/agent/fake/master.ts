// A fake of the master as the agent sees it (`MasterPort`): registration
// answers what the test says, watch events are pushed by the test, and
// every report is recorded.

import type { AgentInfo, ContainersReport, RegisterRequest, StatusReport, WatchEvent } from '../../api/types.js';
import type { MasterPort } from '../master-client.js';

export class FakeMaster implements MasterPort {
  readonly registrations: RegisterRequest[] = [];
  readonly statuses: StatusReport[] = [];
  readonly containers: ContainersReport[] = [];
  private listener: ((event: WatchEvent) => void) | undefined;
  private revision = 0;

  /** `answer` is what a registration returns (the agent as the master allocated it). */
  constructor(public answer: (req: RegisterRequest) => AgentInfo) {}

  async register(req: RegisterRequest): Promise<AgentInfo | undefined> {
    this.registrations.push(req);
    return this.answer(req);
  }

  async putStatus(_ip: string, report: StatusReport): Promise<void> {
    this.statuses.push(report);
  }

  async putContainers(_ip: string, report: ContainersReport): Promise<void> {
    this.containers.push(report);
  }

  watch(onEvent: (event: WatchEvent) => void, signal: AbortSignal): Promise<void> {
    this.listener = onEvent;
    return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  }

  /** Sends an event to the watching agent, with the next revision (any shape: unknown types too). */
  send(event: Record<string, unknown> & { type: string }): void {
    if (!this.listener) throw new Error('the agent is not watching');
    this.listener({ ...event, revision: ++this.revision } as unknown as WatchEvent);
  }
}
