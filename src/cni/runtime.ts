// A thin container runtime over CNI: a named network namespace per container,
// attached with the agent's conflist and the reference plugins.
import { execFile, spawn } from 'node:child_process';
import { existsSync, openSync, closeSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { VxnetError } from '../errors.js';
import { addNetwork, delNetwork, type CniTarget } from './invoke.js';
import { checkContainerName } from './names.js';
import { netnsDirIsPrivateView, netnsDirPeers } from './mountinfo.js';
import { findNetwork, parseConfList, type ConfList } from './netconf.js';
import { deleteRecord, listRecords, loadRecord, reserveRecord, saveRecord, type ContainerRecord } from './records.js';
import { containerIps } from './result.js';

export interface RuntimeDirs {
  confDir: string;
  binDir: string;
  stateDir: string;
}

export const CONTAINER_IFNAME = 'eth0';
const NETNS_DIR = '/run/netns';

function ip(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile('ip', args, { timeout: 15_000 }, (err, _out, stderr) => resolve({ code: err ? 1 : 0, stderr: String(stderr).trim() }));
  });
}

async function ipOk(args: string[]): Promise<void> {
  const r = await ip(args);
  if (r.code !== 0) throw new VxnetError('KERNEL', `ip ${args.join(' ')} failed: ${r.stderr}`);
}

/** Every network configured in `confDir`; unreadable files are skipped and named in `broken`. */
export function loadNetworks(confDir: string): { lists: ConfList[]; broken: string[] } {
  let files: string[] = [];
  try {
    files = readdirSync(confDir)
      .filter((f) => /\.(conflist|conf|json)$/.test(f))
      .sort();
  } catch {
    /* a missing dir means no networks */
  }
  const lists: ConfList[] = [];
  const broken: string[] = [];
  for (const f of files) {
    try {
      lists.push(parseConfList(join(confDir, f), readFileSync(join(confDir, f), 'utf8')));
    } catch (e) {
      broken.push((e as Error).message);
    }
  }
  return { lists, broken };
}

function requireRoot(): void {
  if (process.getuid?.() !== 0)
    throw new VxnetError('PRECONDITION', 'containers need root (network namespaces and CNI plugins): rerun with sudo');
}

function requireSharedNetnsDir(): void {
  let mountinfo = '';
  try {
    mountinfo = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return;
  }
  if (netnsDirIsPrivateView(mountinfo)) {
    throw new VxnetError(
      'PRECONDITION',
      `${NETNS_DIR} is a private view in this mount namespace (are you inside \`ip netns exec\`?): the container's namespace would vanish when this command exits. ` +
        'Enter the host network namespace with `nsenter --net=/run/netns/HOST vxnet container ...` instead',
    );
  }
}

/** This process's mount namespace, where the netns file is made (the agent's IPAM collector looks there). */
function mountNsOf(): { mountNs?: string } {
  try {
    return { mountNs: readlinkSync('/proc/self/ns/mnt') };
  } catch {
    return {};
  }
}

/** The peer group of /run/netns here, once `ip netns add` has made it a shared mount. */
function netnsPeerOf(): string | undefined {
  try {
    return netnsDirPeers(readFileSync('/proc/self/mountinfo', 'utf8'), NETNS_DIR).shared;
  } catch {
    return undefined;
  }
}

const targetOf = (dirs: RuntimeDirs, rec: ContainerRecord): CniTarget => ({
  binDir: dirs.binDir,
  containerId: rec.name,
  netnsPath: rec.netnsPath,
  ifname: rec.ifname,
});

/** Creates netns `name`, attaches it to `network` and optionally starts `cmd` inside. */
export async function runContainer(
  dirs: RuntimeDirs,
  name: string,
  network: string,
  cmd: string[] = [],
): Promise<ContainerRecord & { conf: ConfList }> {
  checkContainerName(name);
  requireRoot();
  requireSharedNetnsDir();
  const { lists, broken } = loadNetworks(dirs.confDir);
  let conf: ConfList;
  try {
    conf = findNetwork(lists, network, dirs.confDir);
  } catch (e) {
    if (broken.length) (e as Error).message += `\nunreadable files skipped:\n${broken.join('\n')}`;
    throw e;
  }
  const rec: ContainerRecord & { conf: ConfList } = {
    name,
    network,
    netnsPath: join(NETNS_DIR, name),
    ifname: CONTAINER_IFNAME,
    confFile: conf.file,
    conf,
    createdAt: new Date().toISOString(),
    ...mountNsOf(),
  };
  reserveRecord(dirs.stateDir, rec);
  if (existsSync(rec.netnsPath)) {
    deleteRecord(dirs.stateDir, name);
    throw new VxnetError('CONFLICT', `a network namespace named "${name}" already exists and was not created by vxnet; pick another name`);
  }
  let netnsMade = false;
  try {
    await ipOk(['netns', 'add', name]);
    netnsMade = true;
    rec.netnsPeer = netnsPeerOf();
    await ipOk(['-n', name, 'link', 'set', 'lo', 'up']);
    rec.result = await addNetwork(targetOf(dirs, rec), conf);
    Object.assign(rec, containerIps(rec.result, rec.ifname));
    if (cmd.length) await startCommand(dirs, rec, cmd);
    saveRecord(dirs.stateDir, rec);
    return rec;
  } catch (e) {
    // Roll back in reverse: detach (errors here would hide the real one), drop the netns and the claim.
    await delNetwork(targetOf(dirs, rec), conf).catch(() => undefined);
    if (netnsMade) await ip(['netns', 'del', name]);
    deleteRecord(dirs.stateDir, name);
    throw e;
  }
}

/** How long a command gets to fail at start (not found, bad arguments) before run reports success. */
const START_GRACE_MS = 300;

async function startCommand(dirs: RuntimeDirs, rec: ContainerRecord, cmd: string[]): Promise<void> {
  const logFile = join(dirs.stateDir, `${rec.name}.log`);
  const fd = openSync(logFile, 'a');
  // Its own process group, so rm can stop the command together with its children.
  const child = spawn('ip', ['netns', 'exec', rec.name, ...cmd], { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  if (child.pid === undefined) throw new VxnetError('PRECONDITION', `could not start ${cmd.join(' ')}`);
  rec.pid = child.pid;
  rec.pidStart = processStart(child.pid);
  rec.cmd = cmd;
  const early = await new Promise<number | null | undefined>((resolve) => {
    const timer = setTimeout(() => resolve(undefined), START_GRACE_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
  child.unref();
  if (early !== undefined && early !== 0) {
    const output = readFileSync(logFile, 'utf8').trim().split('\n').slice(-3).join('\n');
    throw new VxnetError(
      'BAD_REQUEST',
      `the command ${JSON.stringify(cmd.join(' '))} exited at once with status ${early}: ${output || 'no output'}`,
    );
  }
}

/** Field 22 of /proc/PID/stat (start time), or undefined when the process is gone. */
function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export const isRunning = (rec: ContainerRecord): boolean =>
  rec.pid !== undefined && rec.pidStart !== undefined && processStart(rec.pid) === rec.pidStart;

async function stopCommand(rec: ContainerRecord): Promise<void> {
  if (!isRunning(rec) || rec.pid === undefined) return;
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(-rec.pid!, s);
    } catch {
      /* already gone */
    }
  };
  signal('SIGTERM');
  for (let i = 0; i < 30 && isRunning(rec); i++) await new Promise((r) => setTimeout(r, 100));
  if (isRunning(rec)) signal('SIGKILL');
}

/** Stops the command, detaches (CNI DEL), deletes the netns. 'absent' when there was nothing to do. */
export async function removeContainer(dirs: RuntimeDirs, name: string): Promise<'removed' | 'absent'> {
  checkContainerName(name);
  requireRoot();
  const rec = loadRecord(dirs.stateDir, name) as (ContainerRecord & { conf?: ConfList }) | undefined;
  if (!rec) return 'absent';
  await stopCommand(rec);
  const conf = rec.conf ?? loadNetworks(dirs.confDir).lists.find((l) => l.name === rec.network);
  if (conf) await delNetwork(targetOf(dirs, rec), conf, rec.result);
  const r = await ip(['netns', 'del', name]);
  if (r.code !== 0 && existsSync(rec.netnsPath)) throw new VxnetError('KERNEL', `could not delete network namespace ${name}: ${r.stderr}`);
  deleteRecord(dirs.stateDir, name);
  return 'removed';
}

/** Runs `cmd` inside container `name` with this terminal; resolves with its exit code. */
export function execInContainer(dirs: RuntimeDirs, name: string, cmd: string[]): Promise<number> {
  checkContainerName(name);
  if (!loadRecord(dirs.stateDir, name)) {
    throw new VxnetError('NOT_FOUND', `no container named "${name}" in ${dirs.stateDir}; see \`vxnet container ls\``);
  }
  if (cmd.length === 0)
    throw new VxnetError('BAD_REQUEST', 'nothing to run: give a command after "--", e.g. vxnet container exec NAME -- ping -c1 IP');
  return new Promise((resolve) => {
    const child = spawn('ip', ['netns', 'exec', name, ...cmd], { stdio: 'inherit' });
    child.once('exit', (code, sig) => resolve(code ?? (sig ? 128 : 1)));
    child.once('error', () => resolve(127));
  });
}

export const listContainers = (dirs: RuntimeDirs): (ContainerRecord & { running: boolean })[] =>
  listRecords(dirs.stateDir).map((r) => ({ ...r, running: isRunning(r) }));
