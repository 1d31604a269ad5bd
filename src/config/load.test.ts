import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatIssues, loadConfigFile } from './load.js';
import { DEFAULT_NETWORK_CONFIG } from './types.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vxnet-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('loadConfigFile', () => {
  it('uses the seed defaults without a file', async () => {
    const check = await loadConfigFile();
    expect(check).toEqual({ config: DEFAULT_NETWORK_CONFIG, errors: [], warnings: [] });
  });

  it('reads a JSON file', async () => {
    const file = join(dir, 'net.json');
    await writeFile(file, JSON.stringify({ dcos_overlay_network: DEFAULT_NETWORK_CONFIG }));
    expect((await loadConfigFile(file)).config).toEqual(DEFAULT_NETWORK_CONFIG);
  });

  it('turns a missing file into an error, not a throw', async () => {
    const file = join(dir, 'missing.yaml');
    const check = await loadConfigFile(file);
    expect(check.config).toBeUndefined();
    expect(check.errors).toEqual([
      { path: file, value: file, rule: 'the config file does not exist', fix: expect.stringMatching(/check the path/) },
    ]);
  });

  it('turns a directory into an error', async () => {
    expect((await loadConfigFile(dir)).errors[0]!.rule).toBe('is not a regular file');
  });
});

describe('formatIssues', () => {
  it('prints errors before warnings, each with path, value, rule and fix', async () => {
    const file = join(dir, 'mixed.yaml');
    await writeFile(
      file,
      'vtep_subnet: 10.0.0.0/20\nvtep_mac_oui: 70:B3:D5:00:00:00\noverlays:\n  - {name: a, subnet: 10.1.0.0/24, prefix: 24}\n  - {name: b, subnet: 10.2.0.0/16, prefix: 33}\n',
    );
    const text = formatIssues(await loadConfigFile(file));
    expect(text).toContain('error: overlays[1].prefix = 33\n  rule: is too long');
    expect(text).toContain('  fix:  use a prefix between 16 (the mask of overlays[1].subnet) and 29, e.g. 24');
    expect(text).toContain('warning: overlays[0].prefix = 24\n  rule: equals the mask of 10.1.0.0/24');
    expect(text.indexOf('error:')).toBeLessThan(text.indexOf('warning:'));
    expect(text.trimEnd().endsWith('1 error(s), 1 warning(s)')).toBe(true);
  });

  it('prints nothing for a clean config', () => {
    expect(formatIssues({ errors: [], warnings: [] })).toBe('');
  });
});
