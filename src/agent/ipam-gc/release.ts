// Shell: releases one leaked reservation. By the container's CNI DEL with
// the recorded config (else the overlay's current conflist), an empty
// CNI_NETNS (the namespace is gone, or not ours to enter: CNI lets DEL run
// without it), the container id and interface; or, when no config for it can
// be run any more, by removing its file from vxnet's IPAM dir directly.

import { access, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { delNetwork } from '../../cni/invoke.js';
import { parseConfList } from '../../cni/netconf.js';
import { canonicalIp, isInterfaceName, overlayNameProblem } from '../names.js';
import type { Verdict } from './classify.js';
import { confFits, type Recorded } from './probes.js';
import { isContainerId } from './reservations.js';

export interface ReleaseSettings {
  ipamDir: string;
  cniConfDir: string;
  cniBinDir: string;
}

const exists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false,
  );

/** The file of a reservation, once every part of its path is checked. */
function fileOf(s: ReleaseSettings, v: Verdict): string {
  const problem =
    overlayNameProblem(v.overlay) ??
    (canonicalIp(v.ip) !== v.ip ? `${JSON.stringify(v.ip)} is not an address` : undefined) ??
    (!isContainerId(v.container) ? `container id ${JSON.stringify(v.container)} is not usable` : undefined) ??
    (!isInterfaceName(v.ifname) ? `interface ${JSON.stringify(v.ifname)} is not usable` : undefined);
  if (problem) throw new Error(`not releasing ${v.overlay}/${v.ip}: ${problem}`);
  return join(s.ipamDir, v.overlay, v.ip);
}

async function currentConf(s: ReleaseSettings, overlay: string) {
  try {
    const file = join(s.cniConfDir, `vxnet-${overlay}.conflist`);
    const conf = parseConfList(file, await readFile(file, 'utf8'));
    return confFits(conf, overlay, s.ipamDir) ? conf : undefined;
  } catch {
    return undefined;
  }
}

/** Removes the file only while it still names the leaked container (host-local never re-gives a reserved address). */
async function removeFile(file: string, v: Verdict): Promise<void> {
  const holder = (await readFile(file, 'utf8')).split(/\r?\n/)[0]?.trim();
  if (holder !== v.container) throw new Error(`${file} now names container ${holder}, not ${v.container}: left alone`);
  await unlink(file);
}

export async function releaseLeaked(s: ReleaseSettings, v: Verdict, recorded: Recorded | undefined): Promise<'cni-del' | 'file'> {
  const file = fileOf(s, v);
  if (!(await exists(file))) return 'file'; // already gone (a DEL of another address of that container)
  const conf = v.release === 'cni-del' ? (recorded?.conf ?? (await currentConf(s, v.overlay))) : undefined;
  if (!conf) {
    await removeFile(file, v);
    return 'file';
  }
  const failed = await delNetwork(
    { binDir: s.cniBinDir, containerId: v.container, netnsPath: '', ifname: v.ifname },
    conf,
    recorded?.prevResult,
  ).then(
    () => undefined,
    (e: unknown) => (e instanceof Error ? e.message : String(e)),
  );
  // A later plugin's DEL may fail after host-local freed the address: the address is what counts.
  if (await exists(file))
    throw new Error(`CNI DEL of container ${v.container} on ${v.overlay} left ${file} in place${failed ? `: ${failed}` : ''}`);
  return 'cni-del';
}
