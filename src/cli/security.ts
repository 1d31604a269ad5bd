// The master's security flags read into MasterSecurity (tokens, TLS, allowed
// hosts) and the etcd client's TLS files, each refusal naming flag, file and fix.

import type { EtcdTls } from '../store/etcd/connect.js';
import { VxnetError } from '../errors.js';
import type { MasterSecurity } from '../master/server.js';
import { isLoopbackName, hostName } from '../master/http/host-guard.js';
import { readFlagFile, readToken } from './common.js';

export interface SecurityFlags {
  tokenFile?: string;
  adminTokenFile?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsClientCa?: string;
  allowedHost?: string[];
}

export interface EtcdTlsFlags {
  etcdCa?: string;
  etcdCert?: string;
  etcdKey?: string;
}

const invalid = (message: string): VxnetError => new VxnetError('CONFIG_INVALID', message);

export async function readMasterSecurity(flags: SecurityFlags): Promise<MasterSecurity> {
  const joinToken = flags.tokenFile !== undefined ? await readToken(flags.tokenFile, '--token-file') : undefined;
  const adminToken = flags.adminTokenFile !== undefined ? await readToken(flags.adminTokenFile, '--admin-token-file') : undefined;
  if (joinToken !== undefined && joinToken === adminToken)
    throw invalid(
      '--token-file and --admin-token-file hold the same token: every agent could then delete the others; give each its own token',
    );
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined))
    throw invalid('--tls-cert and --tls-key go together: give the PEM certificate and its private key');
  if (flags.tlsClientCa !== undefined && flags.tlsCert === undefined)
    throw invalid('--tls-client-ca needs TLS: give --tls-cert and --tls-key as well');
  const tls =
    flags.tlsCert !== undefined && flags.tlsKey !== undefined
      ? {
          cert: await readFlagFile('--tls-cert', flags.tlsCert),
          key: await readFlagFile('--tls-key', flags.tlsKey),
          ...(flags.tlsClientCa !== undefined && { clientCa: await readFlagFile('--tls-client-ca', flags.tlsClientCa) }),
        }
      : undefined;
  return {
    ...(joinToken !== undefined && { joinToken }),
    ...(adminToken !== undefined && { adminToken }),
    ...(tls && { tls }),
    allowedHosts: flags.allowedHost ?? [],
  };
}

/** The start-up warning of a master anyone on the network may write to, or undefined. */
export function openMasterWarning(security: MasterSecurity, listenHost: string, port: number): string | undefined {
  const open = security.joinToken === undefined && security.adminToken === undefined && security.tls?.clientCa === undefined;
  if (!open || isLoopbackName(hostName(listenHost))) return undefined;
  return (
    `WARNING: listening on ${listenHost}:${port} with no token: anyone who can reach this port can register, ` +
    'report for and delete any agent. Give --token-file (agents join with it) and --admin-token-file (see "Security" in the README).'
  );
}

/** --etcd-ca/--etcd-cert/--etcd-key, or undefined when none is given. */
export async function readEtcdTls(flags: EtcdTlsFlags): Promise<EtcdTls | undefined> {
  if (flags.etcdCa === undefined && flags.etcdCert === undefined && flags.etcdKey === undefined) return undefined;
  if (flags.etcdCa === undefined) throw invalid("--etcd-cert and --etcd-key need --etcd-ca: give the CA that signed etcd's certificates");
  if ((flags.etcdCert === undefined) !== (flags.etcdKey === undefined))
    throw invalid('--etcd-cert and --etcd-key go together: give the client certificate and its private key');
  return {
    ca: await readFlagFile('--etcd-ca', flags.etcdCa),
    ...(flags.etcdCert !== undefined && { cert: await readFlagFile('--etcd-cert', flags.etcdCert) }),
    ...(flags.etcdKey !== undefined && { key: await readFlagFile('--etcd-key', flags.etcdKey) }),
  };
}

/** Commander's collector for a repeatable flag. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
