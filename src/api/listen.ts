// Pure: parses --listen HOST:PORT, for the master and the agent alike.

import { VxnetError } from '../errors.js';
import { parseIp } from '../net/ip.js';

export interface ListenAddress {
  host: string;
  port: number;
}

const fail = (value: string, rule: string): never => {
  throw new VxnetError(
    'BAD_REQUEST',
    `--listen ${JSON.stringify(value)} ${rule}; give HOST:PORT, e.g. 127.0.0.1:5050, [::1]:5050 or :5050 for every address`,
  );
};

export function parseListen(value: string): ListenAddress {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(value);
  if (!match) return fail(value, 'is not HOST:PORT');
  const port = Number(match[3]);
  if (port > 65535) return fail(value, `has port ${port}, above 65535`);
  const host = match[1] ?? match[2] ?? '';
  if (host === '') return { host: '0.0.0.0', port };
  if (match[1] !== undefined && parseIp(host)?.family !== 6) return fail(value, `has "${host}" in brackets, which is not an IPv6 address`);
  if (match[2] !== undefined && !parseIp(host) && !/^[a-zA-Z0-9.-]{1,253}$/.test(host))
    return fail(value, `has host "${host}", which is neither an address nor a host name`);
  return { host, port };
}
