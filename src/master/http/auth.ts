// Who a request speaks for, and the master's rules on it:
// - the join token (--token-file) registers agents whose IP holds no credential yet;
// - the admin token (--admin-token-file) deletes agents and resets an IP's credential;
// - an agent's credential (issued at registration, stored hashed) or a
//   verified client certificate with the agent's IP in its IP SANs writes for
//   that agent only, and re-registers it (rotating the credential).
// With none of token, admin token and client CA configured the master is open.

import type { TLSSocket } from 'node:tls';
import type { FastifyRequest } from 'fastify';
import { VxnetError } from '../../errors.js';
import type { AgentRecord } from '../../store/store.js';
import type { AgentAccess, RegisterAccess } from '../access.js';
import { issueCredential, matchesHash, sameToken } from '../credentials.js';

export interface AuthOptions {
  joinToken?: string;
  adminToken?: string;
  /** Client certificates are verified (--tls-client-ca): a valid one speaks for the IPs in its IP SANs. */
  clientCerts?: boolean;
}

/** What one request proved about its caller. */
export interface Caller {
  admin: boolean;
  join: boolean;
  /** The bearer when it is no configured token: maybe an agent's credential. */
  bearer?: string;
  /** Agent IPs in the IP SANs of the verified client certificate. */
  certIps: readonly string[];
}

const BEARER = /^Bearer +(\S+)\s*$/i;

/** The IPv4 addresses in a certificate's subjectaltname ("DNS:x, IP Address:10.0.0.1"). */
export function sanIps(subjectaltname: string | undefined): string[] {
  if (!subjectaltname) return [];
  return subjectaltname
    .split(',')
    .map((part) => /^\s*IP Address:(\d+\.\d+\.\d+\.\d+)\s*$/.exec(part)?.[1])
    .filter((ip): ip is string => ip !== undefined);
}

export class MasterAuth {
  constructor(private readonly options: AuthOptions) {}

  /** No token and no client CA: every write is open to whoever reaches the port (as before credentials). */
  get open(): boolean {
    return this.options.joinToken === undefined && this.options.adminToken === undefined && !this.options.clientCerts;
  }

  callerOf(req: FastifyRequest): Caller {
    const authorization = req.headers.authorization;
    const bearer = authorization === undefined ? undefined : BEARER.exec(authorization)?.[1];
    const { joinToken, adminToken } = this.options;
    // Both compared always, so the time taken does not tell which one matched.
    const admin = bearer !== undefined && adminToken !== undefined && sameToken(bearer, adminToken);
    const join = bearer !== undefined && joinToken !== undefined && sameToken(bearer, joinToken);
    const socket = req.raw.socket as Partial<TLSSocket>;
    const certIps =
      this.options.clientCerts && socket.encrypted && socket.authorized ? sanIps(socket.getPeerCertificate?.().subjectaltname) : [];
    return { admin, join, ...(bearer !== undefined && !admin && !join && { bearer }), certIps };
  }

  /** Before the body is parsed: a write that shows nothing at all is a 401 at once. */
  requireSomething(caller: Caller): void {
    if (this.open || caller.admin || caller.join || caller.bearer !== undefined || caller.certIps.length > 0) return;
    throw new VxnetError(
      'UNAUTHORIZED',
      'this endpoint needs a credential: send "Authorization: Bearer <token>" (an agent\'s credential, the join token of --token-file or the admin token of --admin-token-file) or a client certificate',
    );
  }

  /** `POST /overlay-master/agents/delete` and anything else administrative. */
  requireAdmin(caller: Caller): void {
    if (this.open || caller.admin) return;
    if (this.options.adminToken === undefined)
      throw new VxnetError(
        'FORBIDDEN',
        'this endpoint needs the admin token, and this master has none: start it with --admin-token-file F',
      );
    this.refuse(
      caller,
      'this endpoint needs the admin token: send "Authorization: Bearer <token>" with the token of the master\'s --admin-token-file',
    );
  }

  /** Status and container reports: only the agent itself (its credential or certificate). */
  agentWrite(caller: Caller): AgentAccess | undefined {
    if (this.open) return undefined;
    return {
      check: (ip, record) => {
        // Not registered: the service answers 404, which says nothing /state does not.
        if (!record || this.speaksFor(caller, ip, record)) return;
        this.refuse(
          caller,
          `only agent ${ip} may write for it: send the credential its registration answered with (or a client certificate for ${ip})`,
        );
      },
    };
  }

  /** Registration: the join token while the IP holds no credential; then only its credential, its certificate or the admin token. */
  registration(caller: Caller): RegisterAccess | undefined {
    if (this.open) return undefined;
    return {
      check: (ip, record) => {
        if (caller.admin || this.speaksFor(caller, ip, record)) return;
        if (record?.credential !== undefined) {
          this.refuse(
            caller,
            `agent ${ip} holds a credential: re-register with it (it is rotated), or with the admin token to reset it for a host that lost its state dir`,
          );
        }
        if (caller.join) return;
        this.refuse(
          caller,
          'registration needs the join token: send "Authorization: Bearer <token>" with the token of the master\'s --token-file',
        );
      },
      issue: () => issueCredential(),
    };
  }

  private speaksFor(caller: Caller, ip: string, record: AgentRecord | undefined): boolean {
    if (caller.certIps.includes(ip)) return true;
    return caller.bearer !== undefined && record?.credential !== undefined && matchesHash(caller.bearer, record.credential);
  }

  /** 401 when the request showed nothing, 403 when what it showed is not enough. */
  private refuse(caller: Caller, message: string): never {
    const showed = caller.admin || caller.join || caller.bearer !== undefined || caller.certIps.length > 0;
    throw new VxnetError(showed ? 'FORBIDDEN' : 'UNAUTHORIZED', message);
  }
}
