// `vxnet agent` and `vxnet agent cleanup`: their flags. What they run is in
// agent-run.ts, loaded only when one of them runs: the agent's modules (and
// an HTTP client and server) cost every other command start-up time, and the
// agent itself never needs the master's (issue 10 (i)).

import type { Command } from 'commander';
import { IPAM_GC_DEFAULTS } from '../agent/ipam-gc/flags.js';
import { VXLAN_PORT } from '../api/types.js';
import type { AgentCliOptions } from './agent-run.js';

const DEFAULT_STATE_DIR = '/var/lib/vxnet';
const DEFAULT_CNI_CONF_DIR = '/etc/cni/net.d';

export function registerAgentCommands(program: Command): void {
  const agent = program
    .command('agent')
    .description("run the vxnet agent: registers with the master and programs this host's overlays")
    .option('--master <urls>', 'master URL(s), comma-separated')
    .option('--ip <ip>', "this host's underlay IPv4 address")
    .option('--listen <host:port>', 'agent API address', ':5051')
    .option('--token-file <file>', "the master's join token (first registration); the agent then keeps its own credential in --state-dir")
    .option('--ca <file>', "PEM CA that signed the master's certificate (https:// --master URLs)")
    .option('--tls-cert <file>', "PEM client certificate with this agent's IP as IP SAN (the master's --tls-client-ca), with --tls-key")
    .option('--tls-key <file>', 'the private key of --tls-cert')
    .option('--state-dir <dir>', 'state directory (host-local IPAM data lives in <dir>/ipam)', DEFAULT_STATE_DIR)
    .option('--cni-conf-dir <dir>', 'where the CNI conflists are written', DEFAULT_CNI_CONF_DIR)
    .option('--cni-bin-dir <dir>', 'where the CNI plugins are', '/usr/lib/cni')
    .option('--mtu <mtu>', "container MTU, or auto: the underlay's MTU minus 50, lowered to the cluster's lowest", 'auto')
    .option('--vxlan-port <port>', 'VXLAN UDP port', String(VXLAN_PORT))
    .option('--max-attempts <n>', 'failed passes before an overlay is left FAILED and retried with back-off (up to a minute)', '4')
    .option('--tick-ms <ms>', 'how often sysctls, conflists and host-local containers are re-checked', '1000')
    .option(
      '--resync-ms <ms>',
      'how often the whole kernel is re-read and nftables, DOCKER-USER and Docker re-checked (ip monitor repairs drift in between)',
      '30000',
    )
    .option('--no-subnet', 'ask for no overlay subnets (a master node: VTEP and routes only)')
    .option('--no-mesos-bridge', 'do not create the m-<overlay> CNI bridges')
    .option('--no-docker-bridge', 'do not create the d-<overlay> Docker bridges (nor Docker networks)')
    .option(
      '--docker-host <url>',
      'the Docker engine whose networks the agent keeps (default: $DOCKER_HOST, else unix:///var/run/docker.sock)',
    )
    .option('--no-docker', 'leave Docker networks alone (the d- bridges are still made)')
    .option('--ipam-gc-grace <duration>', 'how long an address whose container is gone stays reserved', IPAM_GC_DEFAULTS.grace)
    .option('--ipam-gc-interval <duration>', 'how often leaked addresses are looked for', IPAM_GC_DEFAULTS.interval)
    .option('--container-state-dir <dir>', "vxnet's container records (vxnet container --state-dir)", IPAM_GC_DEFAULTS.containerStateDir)
    .option('--podman-argv <json>', "how to run podman, as a JSON argv array ('[]': do not ask podman)", IPAM_GC_DEFAULTS.podmanArgv)
    .option('--cni-cache-dir <dir>', "libcni's cache directory (podman's CNI results)", IPAM_GC_DEFAULTS.cniCacheDir)
    .action(async (opts: AgentCliOptions) => (await import('./agent-run.js')).runAgent(opts));

  agent
    .command('cleanup')
    .description('remove everything the agent created on this host (idempotent)')
    .option('--state-dir <dir>', "the agent's state directory", DEFAULT_STATE_DIR)
    .option('--cni-conf-dir <dir>', "the agent's CNI conf directory", DEFAULT_CNI_CONF_DIR)
    .option(
      '--docker-host <url>',
      "the Docker engine to remove vxnet's networks from (default: $DOCKER_HOST, else unix:///var/run/docker.sock)",
    )
    .option('--force', "also remove vxnet's Docker networks that containers still use (they are disconnected)")
    .action(async (local: { stateDir: string; cniConfDir: string; dockerHost?: string; force?: boolean }, cmd: Command) => {
      // Commander hands the shared flags to the parent `agent` command unless given after them.
      const pick = <K extends 'stateDir' | 'cniConfDir' | 'dockerHost'>(key: K): string | undefined =>
        cmd.getOptionValueSource(key) === 'cli' ? local[key] : (agent.opts()[key] as string | undefined);
      const { runCleanup } = await import('./agent-run.js');
      await runCleanup({
        stateDir: pick('stateDir')!,
        cniConfDir: pick('cniConfDir')!,
        dockerHost: pick('dockerHost'),
        force: local.force === true,
      });
    });
}
