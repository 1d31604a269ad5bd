// The port between the HTTP layer's authentication and the service: who may
// write for an agent is decided by http/auth.ts, but checked by the service
// under the agent's lock against its record as it stands, so a credential
// that was just rotated stops working at once.

import type { AgentRecord } from '../store/store.js';
import type { IssuedCredential } from './credentials.js';

export interface AgentAccess {
  /** Throws UNAUTHORIZED/FORBIDDEN unless the caller speaks for `ip` (`record`: as stored, undefined when not registered). */
  check(ip: string, record: AgentRecord | undefined): void;
}

export interface RegisterAccess extends AgentAccess {
  /** A new credential for the agent: its secret goes into the answer, its hash into the record. */
  issue(): IssuedCredential;
}
