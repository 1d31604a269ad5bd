import { describe, expect, it } from 'vitest';
import { busyboxRootfsLayout } from './busybox-image.js';
import { dockerdArgv } from './docker-engine.js';
import { parentFromStat, withDescendants } from './engine-procs.js';
import { engineCgroupParent } from './engines.js';
import { cgroupMountPlan, mountsUnder, nsenterArgv, parseMountinfo } from './mount-ns.js';
import { containersConf, storageConf } from './podman.js';

// Trimmed from this machine's /proc/self/mountinfo (cgroup v1 with a unified cgroup2).
const HYBRID = [
  '26 1 254:0 / / rw,relatime - ext4 /dev/vda rw',
  '22 26 0:21 / /sys rw,relatime - sysfs sysfs rw',
  '30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
  '31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
  '34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
  '35 30 0:32 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid - cgroup cgroup rw,net_cls,net_prio',
  '39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd',
  '40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
  '90 26 254:0 /tmp/x/h1/engines/mnt/pin /tmp/x/h1/engines/mnt/pin rw - ext4 /dev/vda rw',
  '91 90 0:4 mnt:[4026532390] /tmp/x/h1/engines/mnt/pin/mnt rw - nsfs nsfs rw',
  '92 26 0:50 / /tmp/x2/dir\\040with\\040space rw - tmpfs tmpfs rw',
].join('\n');

describe('mount namespace helpers', () => {
  it('parses mountinfo targets, types and super options, unescaping spaces', () => {
    const m = parseMountinfo(HYBRID);
    expect(m.find((e) => e.target === '/sys/fs/cgroup/memory')).toEqual({
      target: '/sys/fs/cgroup/memory',
      fstype: 'cgroup',
      superOptions: ['rw', 'memory'],
    });
    expect(m.at(-1)!.target).toBe('/tmp/x2/dir with space');
  });

  it('lists mounts under a run dir deepest first, not those of a dir that merely shares its prefix', () => {
    expect(mountsUnder(HYBRID, ['/tmp/x'])).toEqual(['/tmp/x/h1/engines/mnt/pin/mnt', '/tmp/x/h1/engines/mnt/pin']);
  });

  it('mirrors a hybrid cgroup layout', () => {
    expect(cgroupMountPlan(HYBRID)).toEqual([
      ['mount', '-t', 'tmpfs', '-o', 'mode=755', 'cgroup', '/sys/fs/cgroup'],
      ['mkdir', '-p', '/sys/fs/cgroup/cpu'],
      ['mount', '-t', 'cgroup', '-o', 'cpu', 'cgroup', '/sys/fs/cgroup/cpu'],
      ['mkdir', '-p', '/sys/fs/cgroup/memory'],
      ['mount', '-t', 'cgroup', '-o', 'memory', 'cgroup', '/sys/fs/cgroup/memory'],
      ['mkdir', '-p', '/sys/fs/cgroup/net_cls,net_prio'],
      ['mount', '-t', 'cgroup', '-o', 'net_cls,net_prio', 'cgroup', '/sys/fs/cgroup/net_cls,net_prio'],
      ['mkdir', '-p', '/sys/fs/cgroup/systemd'],
      ['mount', '-t', 'cgroup', '-o', 'none,name=systemd', 'cgroup', '/sys/fs/cgroup/systemd'],
      ['mkdir', '-p', '/sys/fs/cgroup/unified'],
      ['mount', '-t', 'cgroup2', 'cgroup2', '/sys/fs/cgroup/unified'],
    ]);
  });

  it('mirrors a cgroup v2-only host with one cgroup2 mount', () => {
    expect(cgroupMountPlan('30 22 0:27 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate')).toEqual([
      ['mount', '-t', 'cgroup2', 'cgroup2', '/sys/fs/cgroup'],
    ]);
  });

  it('falls back to the documented v1 layout when no cgroup is mounted', () => {
    const plan = cgroupMountPlan('26 1 254:0 / / rw - ext4 /dev/vda rw');
    expect(plan[0]).toEqual(['mount', '-t', 'tmpfs', '-o', 'mode=755', 'cgroup', '/sys/fs/cgroup']);
    expect(plan).toContainEqual(['mount', '-t', 'cgroup', '-o', 'none,name=systemd', 'cgroup', '/sys/fs/cgroup/systemd']);
    expect(plan.at(-1)).toEqual(['mount', '-t', 'cgroup2', 'cgroup2', '/sys/fs/cgroup/unified']);
  });

  it('enters the mount namespace file and the named network namespace with an argv', () => {
    expect(nsenterArgv('/t/pin/mnt', 'vx1-h1', ['docker', 'ps'])).toEqual([
      'nsenter',
      '--mount=/t/pin/mnt',
      '--net=/run/netns/vx1-h1',
      '--',
      'docker',
      'ps',
    ]);
  });
});

describe('engine process helpers', () => {
  it('reads the parent PID from /proc/<pid>/stat, whatever the command name holds', () => {
    expect(parentFromStat('123 (sleep) S 77 123 1 0')).toBe(77);
    expect(parentFromStat('124 (a (b) c) R 9 1 1 0')).toBe(9);
    expect(parentFromStat('')).toBeUndefined();
  });

  it('collects the descendants of the roots only', () => {
    const parentOf = new Map([
      [10, 1],
      [11, 10],
      [12, 11],
      [20, 1],
      [21, 20],
    ]);
    expect(withDescendants([10], parentOf)).toEqual([10, 11, 12]);
    expect(withDescendants([], parentOf)).toEqual([]);
  });

  it("names cgroup parents per run and host (relative, so containers stay in the test's cgroup)", () => {
    expect(engineCgroupParent('vx3fa2', 2)).toBe('vxnet-vx3fa2-h2');
  });
});

describe('engine configuration', () => {
  it('starts dockerd on its own roots, socket and pidfile with iptables on', () => {
    const argv = dockerdArgv({
      dataRoot: '/t/d',
      execRoot: '/t/e',
      pidFile: '/t/p',
      socket: '/t/s.sock',
      cgroupParent: 'vxnet-a-h1',
      configFile: '/t/c.json',
      liveRestore: true,
    });
    expect(argv).toEqual([
      '/usr/sbin/dockerd',
      '--data-root',
      '/t/d',
      '--exec-root',
      '/t/e',
      '--pidfile',
      '/t/p',
      '-H',
      'unix:///t/s.sock',
      '--config-file',
      '/t/c.json',
      '--cgroup-parent',
      'vxnet-a-h1',
      '--iptables=true',
      '--live-restore',
    ]);
    expect(dockerdArgv({ dataRoot: 'd', execRoot: 'e', pidFile: 'p', socket: 's', cgroupParent: 'c', configFile: 'f' })).not.toContain(
      '--live-restore',
    );
  });

  it("writes a containers.conf for the CNI backend on the agent's conflist dir, with file locks and lower ulimits", () => {
    const conf = containersConf({
      cniConfDir: '/t/h1/cni',
      tmpDir: '/t/tmp',
      staticDir: '/t/root/libpod',
      volumePath: '/t/root/volumes',
      eventsLog: '/t/events.log',
    });
    for (const line of [
      'network_backend = "cni"',
      'cni_plugin_dirs = ["/usr/lib/cni"]',
      'network_config_dir = "/t/h1/cni"',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      'runtime = "runc"',
      'tmp_dir = "/t/tmp"',
      'lock_type = "file"',
      'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]',
    ]) {
      expect(conf.split('\n')).toContain(line);
    }
    expect(storageConf({ driver: 'overlay', root: '/r', runroot: '/rr' })).toBe(
      '[storage]\ndriver = "overlay"\ngraphroot = "/r"\nrunroot = "/rr"\n',
    );
  });

  it('lays out a busybox rootfs with the commands the tests use', () => {
    const l = busyboxRootfsLayout();
    for (const c of ['sh', 'ping', 'ip', 'sleep', 'httpd', 'nc', 'cat', 'echo', 'ifconfig', 'route', 'hostname'])
      expect(l.links).toContain(`bin/${c}`);
    expect(l.dirs).toContain('etc');
  });
});
