// Reachability probes between namespaces.
import { run, inNetns } from './exec.js';

/** True when `count` pings from namespace `ns` to `ip` all get an answer. */
export async function ping(ns: string, ip: string, opts: { count?: number; timeoutS?: number } = {}): Promise<boolean> {
  const count = opts.count ?? 1;
  const r = await run(inNetns(ns, ['ping', '-n', '-q', '-c', String(count), '-i', '0.2', '-W', String(opts.timeoutS ?? 1), ip]), {
    timeoutMs: (count * 0.2 + (opts.timeoutS ?? 1) + 5) * 1000,
  });
  return r.code === 0 && new RegExp(`${count} received`).test(r.stdout);
}
