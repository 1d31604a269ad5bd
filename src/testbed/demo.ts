// `vxnet demo`: a master on the embedded store with the seed's networks, three
// host namespaces with agents, containers on both overlays, and the ping matrix.
import { existsSync } from 'node:fs';
import { startCluster, type Cluster } from './cluster.js';
import { DOCKERD } from './docker-engine.js';
import { freePortCheck } from './forward.js';
import { containerTable, pingMatrix, type MatrixContainer } from './matrix.js';
import { ping } from './ping.js';
import { pool } from './pool.js';
import { reapDeadRuns } from './reap.js';
import { waitFor } from './wait.js';
import { BUSYBOX_IMAGE } from './busybox-image.js';

export interface DemoOptions {
  port: number;
  wait: boolean;
  out: (text: string) => void;
}

const LAYOUT = [
  { suffix: 'a', network: 'dcos-1' },
  { suffix: 'b', network: 'dcos-1' },
  { suffix: 'c', network: 'dcos-2' },
];

/** Runs the demo; resolves with true when every pair in the matrix answered. */
export async function runDemo(opts: DemoOptions): Promise<boolean> {
  const { out } = opts;
  // First, so a killed demo's master no longer holds the port.
  const reaped = await reapDeadRuns();
  if (reaped.length > 0) out(`removed leftovers of a run that died without cleaning up:\n  ${reaped.join('\n  ')}`);
  await freePortCheck('127.0.0.1', opts.port);
  // The demo's setup installs docker.io; without it the demo runs with CNI containers only.
  const docker = existsSync(DOCKERD);
  out(`starting a master (SQLite store, seed networks dcos-1 and dcos-2) and 3 hosts with agents${docker ? ' and a dockerd each' : ''}...`);
  const cluster: Cluster = await startCluster({ hosts: 3, masterListen: { host: '127.0.0.1', port: opts.port }, preferOctet: 0, docker });
  let allOk = false;
  try {
    out(`run prefix ${cluster.names.prefix}; underlay ${cluster.underlay.net}.0/24; master for the hosts at ${cluster.masterUrl}`);
    await cluster.waitAllOk(60_000);
    const ctrs: (MatrixContainer & { ns: string })[] = [];
    for (const h of cluster.hosts) {
      for (const { suffix, network } of LAYOUT) {
        const label = `h${h.index}-${suffix}`;
        const ns = cluster.names.container(label);
        const ip = await cluster.runContainer(h, ns, network, ['sleep', 'infinity']);
        ctrs.push({ label, ns, host: `${h.ns} (${h.ip})`, network, ip });
      }
      if (docker) {
        const label = `h${h.index}-docker`;
        await waitFor(
          `dcos-1's Docker network on ${h.ns}`,
          async () => (await h.docker!.docker(['network', 'inspect', 'dcos-1'])).code === 0,
          { timeoutMs: 30_000 },
        );
        const { ip, ns } = await cluster.runDockerContainer(h, label, 'dcos-1', ['sleep', '86400']);
        ctrs.push({ label, ns, host: `${h.ns} (${h.ip})`, network: 'dcos-1', ip });
      }
    }
    out(`\n${containerTable(ctrs)}\n`);
    const pairs = ctrs.flatMap((_, i) => ctrs.map((__, j) => [i, j] as const)).filter(([i, j]) => i !== j);
    const reached = new Set<string>();
    await pool(pairs, 6, async ([i, j]) => {
      if (await ping(ctrs[i]!.ns, ctrs[j]!.ip, { timeoutS: 2 })) reached.add(`${i},${j}`);
    });
    allOk = reached.size === pairs.length;
    out(`ping matrix (dcos-1 <-> dcos-2 is routed without NAT):\n${pingMatrix(ctrs, (i, j) => reached.has(`${i},${j}`))}\n`);
    out(allOk ? `all ${pairs.length} pairs reachable` : `${pairs.length - reached.size} of ${pairs.length} pairs FAILED`);
    out(`\nAPI: ${cluster.localMasterUrl}/overlay-master/state  (also /overlay-master/containers, /metrics)`);
    out(`web page: ${cluster.localMasterUrl}/  (networks, containers and agents, live)`);
    out(`try: ip netns exec ${ctrs[0]!.ns} ping ${ctrs[4]!.ip}`);
    const dockerCtr = ctrs.find((x) => x.label.endsWith('-docker'));
    if (dockerCtr)
      out(
        `     docker -H ${cluster.hosts[0]!.docker!.host} run --rm --network dcos-1 ${BUSYBOX_IMAGE} ping -c 3 ${ctrs[ctrs.length - 1]!.ip}`,
      );
    if (opts.wait) {
      out('running until Ctrl-C; then everything is removed');
      await new Promise<never>(() => undefined);
    }
  } finally {
    await cluster.teardown();
    const left = await waitFor(
      'the demo to leave nothing behind',
      async () => ((await cluster.leftovers()).length === 0 ? [] : undefined),
      { timeoutMs: 10_000 },
    ).catch(async () => cluster.leftovers());
    out(left.length ? `left behind: ${left.join(', ')}` : 'removed everything');
  }
  return allOk;
}
