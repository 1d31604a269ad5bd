// Shell: asks what the runtimes know about the containers behind the
// reservations: vxnet's container records (and their netns files, looked at
// in the mount namespace where they were made), libcni's result cache and
// podman. Every probe that fails says why; the classifier keeps those.

import { execFile } from 'node:child_process';
import { lstat, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { listRecords } from '../../cni/records.js';
import { netnsDirPeers } from '../../cni/mountinfo.js';
import { parseConfList, type ConfList } from '../../cni/netconf.js';
import type { CniResult } from '../../cni/result.js';
import { canonicalIp } from '../names.js';
import {
  type Evidence,
  type Here,
  type MadeIn,
  type NetnsSeen,
  netnsVisible,
  type PodmanProbe,
  type Reservation,
  reservationKey,
  type VxnetRecordFacts,
} from './classify.js';

/** What a CNI DEL of a reservation needs besides its id and interface: the recorded config and result. */
export interface Recorded {
  conf?: ConfList;
  prevResult?: CniResult;
}

export interface ProbeSettings {
  ipamDir: string;
  containerStateDir: string;
  cniCacheDir: string;
  podmanArgv: readonly string[];
  timeoutMs?: number;
}

const NETNS_PATH_RE = /^\/run\/netns\/[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

const errText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** This agent's view of /run/netns (classify.ts: netnsVisible). */
async function hereView(): Promise<Here> {
  const mountNs = await readlink('/proc/self/ns/mnt').catch(() => undefined);
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  return { ...(mountNs && { mountNs }), ...netnsDirPeers(mountinfo) };
}

async function netnsSeen(netnsPath: string, made: MadeIn, here: Here): Promise<NetnsSeen> {
  if (!NETNS_PATH_RE.test(netnsPath)) return { unknown: `its record names ${JSON.stringify(netnsPath)}, not a file in /run/netns` };
  const visible = netnsVisible(made, here);
  if ('unknown' in visible) return visible;
  try {
    await lstat(netnsPath);
    return { present: true };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { present: false };
    return { unknown: errText(e) };
  }
}

const resultIps = (result: CniResult | undefined): string[] | undefined =>
  result?.ips?.map((a) => canonicalIp(a.address.split('/')[0]) ?? a.address);

/** The host-local data dirs a conflist's plugins write to. */
const dataDirs = (conf: ConfList): unknown[] =>
  conf.plugins
    .map((p) => p.ipam as { type?: unknown; dataDir?: unknown } | undefined)
    .flatMap((i) => (i?.type === 'host-local' ? [i.dataDir] : []));

/** A recorded config is only used for a DEL when it is this overlay's and writes to this agent's IPAM dir. */
export const confFits = (conf: ConfList | undefined, overlay: string, ipamDir: string): conf is ConfList =>
  conf !== undefined && conf.name === overlay && dataDirs(conf).length > 0 && dataDirs(conf).every((d) => d === ipamDir);

/** libcni's cache entry of a reservation, when it names this agent's IPAM dir (else it is not one of ours). */
async function libcniEntry(s: ProbeSettings, r: Reservation): Promise<Recorded | undefined> {
  const file = join(s.cniCacheDir, 'results', `${r.overlay}-${r.container}-${r.ifname}`);
  try {
    const entry = JSON.parse(await readFile(file, 'utf8')) as { config?: unknown; result?: CniResult; containerId?: unknown };
    if (entry.containerId !== r.container || typeof entry.config !== 'string') return undefined;
    const conf = parseConfList(file, Buffer.from(entry.config, 'base64').toString('utf8'));
    return confFits(conf, r.overlay, s.ipamDir) ? { conf, ...(entry.result && { prevResult: entry.result }) } : undefined;
  } catch {
    return undefined;
  }
}

/** `podman ps -a`: every container id podman holds. */
export function askPodman(argv: readonly string[], timeoutMs: number): Promise<PodmanProbe> {
  const [file, ...pre] = argv;
  if (!file) return Promise.resolve({ ok: false, error: 'no podman command' });
  return new Promise((resolve) => {
    execFile(
      file,
      [...pre, 'ps', '-a', '--no-trunc', '--format', '{{.ID}}'],
      { timeout: timeoutMs, maxBuffer: 16 << 20 },
      (err, out, stderr) => {
        if (err) {
          const why = err.killed ? `timed out after ${timeoutMs} ms` : String(stderr).trim().split('\n').slice(-2).join(' ') || err.message;
          resolve({ ok: false, error: `${argv.join(' ')} ps -a failed: ${why}` });
          return;
        }
        const lines = String(out)
          .split('\n')
          .map((l) => l.trim())
          .filter(Boolean);
        const odd = lines.find((l) => !/^[0-9a-f]{64}$/.test(l));
        resolve(
          odd === undefined
            ? { ok: true, ids: new Set(lines) }
            : { ok: false, error: `podman ps printed ${JSON.stringify(odd.slice(0, 80))}, not a container id` },
        );
      },
    );
  });
}

/** Evidence on these reservations, plus what a DEL of each would need. */
export async function probe(
  s: ProbeSettings,
  reservations: readonly Reservation[],
): Promise<Omit<Evidence, 'inSubnets'> & { recorded: Map<string, Recorded> }> {
  const recorded = new Map<string, Recorded>();
  const wanted = new Set(reservations.map((r) => r.container));
  const records = new Map<string, VxnetRecordFacts>();
  const here = await hereView();
  for (const rec of listRecords(s.containerStateDir)) {
    if (!wanted.has(rec.name)) continue;
    const ips = resultIps(rec.result);
    records.set(rec.name, {
      network: rec.network,
      ifname: rec.ifname,
      ...(ips && { ips }),
      netnsPath: rec.netnsPath,
      netns: await netnsSeen(rec.netnsPath, { mountNs: rec.mountNs, peer: rec.netnsPeer }, here),
    });
    const conf = (rec as { conf?: ConfList }).conf;
    recorded.set(reservationKey({ overlay: rec.network, container: rec.name, ifname: rec.ifname }), {
      ...(confFits(conf, rec.network, s.ipamDir) && { conf }),
      ...(rec.result && { prevResult: rec.result }),
    });
  }
  const libcniCached = new Set<string>();
  for (const r of reservations) {
    const key = reservationKey(r);
    if (records.has(r.container) || libcniCached.has(key)) continue;
    const entry = await libcniEntry(s, r);
    if (!entry) continue;
    libcniCached.add(key);
    recorded.set(key, entry);
  }
  // podman is only asked when a reservation is its, and only after the files were read: a container made since is not judged.
  const podman = s.podmanArgv.length === 0 || libcniCached.size === 0 ? undefined : await askPodman(s.podmanArgv, s.timeoutMs ?? 20_000);
  return { records, libcniCached, ...(podman && { podman }), recorded };
}
