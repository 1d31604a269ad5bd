// Who sent this packet? A one-shot UDP listener and sender, run with node
// inside a namespace, to see the source address after (or without) NAT.
import { spawn } from 'node:child_process';
import { inNetns, runOk } from './exec.js';

const LISTENER = `
const s = require('node:dgram').createSocket('udp4');
s.on('message', (_m, r) => { process.stdout.write(JSON.stringify({ address: r.address, port: r.port }) + '\\n'); process.exit(0); });
s.bind(Number(process.argv[2]), process.argv[1], () => process.stdout.write('ready\\n'));
`;
const SENDER = `
const s = require('node:dgram').createSocket('udp4');
const send = () => s.send('vxnet', Number(process.argv[2]), process.argv[1]);
send(); const t = setInterval(send, 100); setTimeout(() => { clearInterval(t); s.close(); }, 1000);
`;

/** Starts a listener on ip:port in `ns`; `source` resolves with the first sender's address. */
export async function udpListener(ns: string, ip: string, port: number, timeoutMs = 5_000): Promise<{ source: Promise<string> }> {
  const argv = inNetns(ns, ['node', '-e', LISTENER, ip, String(port)]);
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('ready')) resolve();
    });
    child.once('exit', () => reject(new Error(`UDP listener in ${ns} exited early: ${err.trim()}`)));
  });
  const timer = setTimeout(() => child.pid && process.kill(child.pid, 'SIGKILL'), timeoutMs);
  const source = new Promise<string>((resolve, reject) => {
    child.once('exit', () => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve((JSON.parse(line) as { address: string }).address);
      else reject(new Error(`no UDP packet reached ${ip}:${port} in ${ns} within ${timeoutMs} ms`));
    });
  });
  source.catch(() => undefined);
  await ready;
  return { source };
}

/** Sends a few datagrams from `ns` to ip:port over one second. */
export async function udpSend(ns: string, ip: string, port: number): Promise<void> {
  await runOk(inNetns(ns, ['node', '-e', SENDER, ip, String(port)]));
}
