// What the master benches share: the wide two-overlay config that lets every
// agent hold a subnet in each, agent addresses, percentiles, RSS and a small
// keep-alive HTTP client (node:http, so the client costs little beside the master).

import { readFileSync } from 'node:fs';
import { type Agent, request } from 'node:http';

export const WIDE_CONFIG = {
  dcos_overlay_network: {
    vtep_subnet: '198.18.0.0/15',
    vtep_mac_oui: '70:B3:D5:00:00:00',
    overlays: [
      { name: 'wide-a', subnet: '10.0.0.0/8', prefix: 24 },
      { name: 'wide-b', subnet: '100.64.0.0/10', prefix: 26 },
    ],
  },
};

export const agentIp = (n: number) => `172.${16 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
export const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;
export const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

/** One JSON request over `agent`'s kept-alive sockets. */
export function httpCall(url: URL, agent: Agent, method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
  return new Promise((ok, fail) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        agent,
        headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => ok({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', fail);
    req.end(payload);
  });
}
