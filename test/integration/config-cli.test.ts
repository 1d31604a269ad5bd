// Runs the built CLI (`npx tsc -p tsconfig.json` first) on real files.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CLI = join(import.meta.dirname, '../../dist/cli/main.js');
const run = promisify(execFile);

async function vxnet(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vxnet-config-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('vxnet config', () => {
  it('validates the defaults, a broken file (all errors, exit 1, --json) and plans exactly', async () => {
    const ok = await vxnet('config', 'validate');
    expect(ok).toMatchObject({ code: 0, stderr: '' });
    expect(ok.stdout).toMatch(/^OK/);

    const broken = join(dir, 'config.yaml');
    await writeFile(
      broken,
      'cluster_name: demo\ndcos_overlay_network:\n  vtep_subnet: 10.0.0.0/7\n  vtep_mac_oui: 70:B3:D5:00:00:00\n  overlays:\n    - {name: dcos-1, subnet: 192.168.0.0/17, prefix: 30}\n    - {name: host, subnet: 192.168.0.0/16, prefix: 24}\n',
    );
    const human = await vxnet('config', 'validate', broken);
    expect(human.code).toBe(1);
    expect(human.stdout).toContain('error: dcos_overlay_network.overlays[0].prefix = 30');
    expect(human.stdout).toContain('4 error(s)');
    expect(human.stdout).not.toMatch(/\n\s+at /); // no stack trace

    const json = await vxnet('config', 'validate', broken, '--json');
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as { ok: boolean; errors: { path: string }[] };
    expect(report.ok).toBe(false);
    expect(report.errors.map((e) => e.path)).toEqual([
      'dcos_overlay_network.vtep_subnet',
      'dcos_overlay_network.overlays[0].prefix',
      'dcos_overlay_network.overlays[1].name',
      'dcos_overlay_network.overlays[1].subnet',
    ]);

    const refused = await vxnet('config', 'plan', broken);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain('no plan until these are fixed');

    const plan = await vxnet('config', 'plan', '--json');
    expect(plan.code).toBe(0);
    const capacity = JSON.parse(plan.stdout) as {
      vtep: { ipv4: { vteps: string } };
      overlays: { ipv4: { agentSubnets: string; containersPerBridgeHalf: string } }[];
    };
    expect(capacity.vtep.ipv4.vteps).toBe('4094');
    expect(capacity.overlays.map((o) => [o.ipv4.agentSubnets, o.ipv4.containersPerBridgeHalf])).toEqual([
      ['128', '125'],
      ['128', '125'],
    ]);
  });
});
