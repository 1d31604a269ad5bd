// One iperf3 TCP run between two network namespaces: a one-shot server, the
// client with -J; bytes received, Gbit/s, and the machine's CPU-seconds per GB
// moved, sampled around the client only (the server waits idle until then).
import { inNetns, run, runOk, startProcess, stopProcess, waitFor } from '../src/testbed/index.js';
import { cpuSample, perGB } from './softirq.js';

export interface IperfPath {
  serverNs: string;
  serverIp: string;
  clientNs: string;
  seconds: number;
  logFile: string;
}

export async function iperfRun(p: IperfPath): Promise<{ gbps: number; bytes: number; perGB: { softirq: number; busy: number } }> {
  const server = startProcess('iperf3-server', inNetns(p.serverNs, ['iperf3', '-s', '-1', '-B', p.serverIp, '-p', '5201']), p.logFile);
  try {
    await waitFor(
      `iperf3 server on ${p.serverIp}`,
      async () => {
        if (!server.isRunning()) throw new Error(`iperf3 server exited: ${server.log().slice(-500)}`);
        return (await run(inNetns(p.serverNs, ['ss', '-ltnH', 'sport = :5201']))).stdout.includes('5201');
      },
      { timeoutMs: 10_000, intervalMs: 20 },
    );
    const before = cpuSample();
    const out = await runOk(inNetns(p.clientNs, ['iperf3', '-c', p.serverIp, '-p', '5201', '-t', String(p.seconds), '-J']), {
      timeoutMs: 60_000,
    });
    const after = cpuSample();
    const r = (JSON.parse(out) as { end: { sum_received: { bytes: number; bits_per_second: number } } }).end.sum_received;
    return { gbps: r.bits_per_second / 1e9, bytes: r.bytes, perGB: perGB(before, after, r.bytes) };
  } finally {
    await stopProcess(server);
  }
}
