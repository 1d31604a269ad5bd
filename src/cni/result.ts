// CNI results and errors (pure): what a plugin prints on stdout.

export interface CniIp {
  address: string;
  gateway?: string;
  interface?: number;
}

export interface CniResult {
  cniVersion?: string;
  interfaces?: { name: string; mac?: string; sandbox?: string }[];
  ips?: CniIp[];
  [key: string]: unknown;
}

/** Parses a plugin's success output; an empty output (DEL) is an empty result. */
export function parseResult(stdout: string): CniResult {
  if (stdout.trim() === '') return {};
  const r = JSON.parse(stdout) as unknown;
  if (typeof r !== 'object' || r === null) throw new Error('plugin result is not a JSON object');
  return r as CniResult;
}

/** The plugin's own error message when it printed a CNI error object, else the raw text. */
export function pluginErrorMessage(stdout: string, stderr: string): string {
  try {
    const e = JSON.parse(stdout) as { msg?: unknown; details?: unknown };
    if (typeof e.msg === 'string') return typeof e.details === 'string' && e.details ? `${e.msg}: ${e.details}` : e.msg;
  } catch {
    /* not JSON: fall through */
  }
  return (stderr.trim() || stdout.trim() || 'no output').split('\n').slice(-5).join('\n');
}

/** The container's addresses (without prefix length) on interface `ifname`, IPv4 first. */
export function containerIps(result: CniResult, ifname: string): { ip?: string; ip6?: string } {
  const ifaces = result.interfaces ?? [];
  const onIface = (result.ips ?? []).filter((a) => a.interface === undefined || ifaces[a.interface]?.name === ifname);
  const bare = onIface.map((a) => a.address.split('/')[0] ?? '');
  return { ip: bare.find((a) => a.includes('.')), ip6: bare.find((a) => a.includes(':')) };
}
