// A container image without a registry: a rootfs tar of busybox-static,
// imported into each engine (`docker import` / `podman import`).
import { chmodSync, copyFileSync, existsSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runOk } from './exec.js';

export const BUSYBOX_IMAGE = 'vxnet-busybox:latest';
export const BUSYBOX_BINARY = '/bin/busybox';
export const BUSYBOX_LINKS = [
  'sh',
  'ping',
  'ip',
  'sleep',
  'httpd',
  'nc',
  'cat',
  'echo',
  'ifconfig',
  'route',
  'hostname',
  'ls',
  'ps',
  'kill',
  'true',
  'mkdir',
] as const;

/** Pure: the rootfs layout (directories, then links to busybox in /bin, then small files). */
export function busyboxRootfsLayout(): { dirs: string[]; links: string[]; files: Record<string, string> } {
  return {
    dirs: ['bin', 'etc', 'tmp', 'proc', 'sys', 'dev', 'root', 'var/www'],
    links: BUSYBOX_LINKS.map((l) => `bin/${l}`),
    files: { 'etc/passwd': 'root:x:0:0:root:/root:/bin/sh\n', 'etc/group': 'root:x:0:\n' },
  };
}

const building = new Map<string, Promise<string>>();

/** Builds (once per path) `<cacheDir>/busybox-rootfs.tar` and resolves with its path. */
export function busyboxRootfsTar(cacheDir: string): Promise<string> {
  const tar = join(cacheDir, 'busybox-rootfs.tar');
  let p = building.get(tar);
  if (!p) {
    p = (async () => {
      if (existsSync(tar)) return tar;
      if (!existsSync(BUSYBOX_BINARY))
        throw new Error(`${BUSYBOX_BINARY} is missing: install the Debian package busybox-static (scripts/setup.sh)`);
      const dir = join(cacheDir, 'busybox-rootfs');
      rmSync(dir, { recursive: true, force: true });
      const layout = busyboxRootfsLayout();
      for (const d of layout.dirs) mkdirSync(join(dir, d), { recursive: true });
      copyFileSync(BUSYBOX_BINARY, join(dir, 'bin/busybox'));
      chmodSync(join(dir, 'bin/busybox'), 0o755);
      for (const l of layout.links) symlinkSync('busybox', join(dir, l));
      for (const [f, text] of Object.entries(layout.files)) writeFileSync(join(dir, f), text);
      await runOk(['tar', '--numeric-owner', '-C', dir, '-cf', `${tar}.part`, '.']);
      renameSync(`${tar}.part`, tar);
      rmSync(dir, { recursive: true, force: true });
      return tar;
    })();
    p.catch(() => building.delete(tar));
    building.set(tar, p);
  }
  return p;
}
