// Container records under the state dir: one JSON file per container,
// created exclusively so two runs of the same name cannot both win.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VxnetError } from '../errors.js';
import type { CniResult } from './result.js';

export interface ContainerRecord {
  name: string;
  network: string;
  netnsPath: string;
  /** The mount namespace (`mnt:[inode]`) the netns file was made in: only there does its absence prove the container gone. */
  mountNs?: string;
  /** The propagation peer group of /run/netns there: a view that receives from it sees the file go too. */
  netnsPeer?: string;
  ifname: string;
  confFile?: string;
  ip?: string;
  ip6?: string;
  result?: CniResult;
  pid?: number;
  /** Start time from /proc/PID/stat, so a reused PID is never signalled. */
  pidStart?: string;
  cmd?: string[];
  createdAt: string;
}

const fileOf = (dir: string, name: string) => join(dir, `${name}.json`);

/** Claims `name`; throws CONFLICT when a record already holds it. */
export function reserveRecord(dir: string, rec: ContainerRecord): void {
  mkdirSync(dir, { recursive: true });
  try {
    writeFileSync(fileOf(dir, rec.name), JSON.stringify(rec, null, 2), { flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new VxnetError(
        'CONFLICT',
        `container name "${rec.name}" is already in use (see \`vxnet container ls\`); pick another name or run \`vxnet container rm ${rec.name}\``,
      );
    }
    throw e;
  }
}

export function saveRecord(dir: string, rec: ContainerRecord): void {
  const tmp = `${fileOf(dir, rec.name)}.tmp`;
  writeFileSync(tmp, JSON.stringify(rec, null, 2));
  renameSync(tmp, fileOf(dir, rec.name));
}

export function loadRecord(dir: string, name: string): ContainerRecord | undefined {
  try {
    return JSON.parse(readFileSync(fileOf(dir, name), 'utf8')) as ContainerRecord;
  } catch {
    return undefined;
  }
}

export function listRecords(dir: string): ContainerRecord[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  return files
    .map((f) => loadRecord(dir, f.slice(0, -'.json'.length)))
    .filter((r): r is ContainerRecord => r !== undefined)
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function deleteRecord(dir: string, name: string): void {
  rmSync(fileOf(dir, name), { force: true });
  rmSync(join(dir, `${name}.log`), { force: true });
}
