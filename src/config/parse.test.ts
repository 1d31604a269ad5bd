import { describe, expect, it } from 'vitest';
import { parseConfigText } from './parse.js';

const SECTION_YAML = `vtep_subnet: 192.15.0.0/20
vtep_mac_oui: 70:B3:D5:00:00:00
overlays:
  - name: dcos-1
    subnet: 192.168.0.0/17
    prefix: 24
  - name: dcos-2
    subnet: 192.168.128.0/17
    prefix: 24
`;

/** The seed's whole config.yaml with a third overlay. */
const WHOLE_CONFIG = `agent_list:
- 10.10.0.117
bootstrap_url: file:///opt/dcos_install_tmp
cluster_name: demo
master_list:
- 10.10.0.120
dcos_overlay_network:
  vtep_subnet: 192.15.0.0/20
  vtep_mac_oui: 70:B3:D5:00:00:00
  overlays:
    - name: dcos-1
      subnet: 192.168.0.0/17
      prefix: 24
    - name: dcos-2
      subnet: 192.168.128.0/17
      prefix: 24
    - name: dcos-3
      subnet: 44.128.0.0/16
      prefix: 24
`;

describe('parseConfigText', () => {
  it('reads a YAML section, keeping the OUI a string', () => {
    const check = parseConfigText(SECTION_YAML, 'net.yaml');
    expect(check.errors).toEqual([]);
    expect(check.config?.vtep_mac_oui).toBe('70:B3:D5:00:00:00');
    expect(check.config?.overlays.map((o) => o.name)).toEqual(['dcos-1', 'dcos-2']);
  });

  it('reads a JSON section', () => {
    const json = JSON.stringify({
      vtep_subnet: '198.15.0.0/20',
      vtep_mac_oui: '70:B3:D5:00:00:00',
      overlays: [{ name: 'dcos', subnet: '44.128.0.0/16', prefix: 24 }],
    });
    expect(parseConfigText(json, 'net.json').config?.overlays[0]).toEqual({ name: 'dcos', subnet: '44.128.0.0/16', prefix: 24 });
  });

  it('takes dcos_overlay_network out of a whole config.yaml', () => {
    const check = parseConfigText(WHOLE_CONFIG, 'config.yaml');
    expect(check.errors).toEqual([]);
    expect(check.config?.overlays.map((o) => o.subnet)).toEqual(['192.168.0.0/17', '192.168.128.0/17', '44.128.0.0/16']);
  });

  it('reads the section given as a JSON string, as DC/OS expanded configs keep it', () => {
    const section = JSON.stringify({
      vtep_subnet: '198.15.0.0/20',
      vtep_mac_oui: '70:B3:D5:00:00:00',
      overlays: [{ name: 'dcos', subnet: '44.128.0.0/16', prefix: 24 }],
    });
    const check = parseConfigText(JSON.stringify({ cluster_name: 'x', dcos_overlay_network: section }), 'expanded.config.json');
    expect(check.errors).toEqual([]);
    expect(check.config?.overlays[0]).toEqual({ name: 'dcos', subnet: '44.128.0.0/16', prefix: 24 });
    const broken = parseConfigText(JSON.stringify({ dcos_overlay_network: '{"vtep_subnet": ' }), 'expanded.config.json');
    expect(broken.errors[0]?.path).toBe('dcos_overlay_network');
    expect(broken.errors[0]?.rule).toMatch(/^is a string but not valid JSON \(/);
  });

  it('points issues inside a whole config.yaml at dcos_overlay_network', () => {
    const check = parseConfigText(WHOLE_CONFIG.replace('prefix: 24\n    - name: dcos-3', 'prefx: 24\n    - name: dcos-3'), 'config.yaml');
    const paths = check.errors.map((e) => e.path);
    expect(paths).toContain('dcos_overlay_network.overlays[1].prefx');
    expect(paths).toContain('dcos_overlay_network.overlays[1].prefix');
  });

  it('reports a YAML syntax error with its line and column', () => {
    const check = parseConfigText('vtep_subnet: 192.15.0.0/20\noverlays: [\n  - name: x\n', 'bad.yaml');
    expect(check.config).toBeUndefined();
    expect(check.errors.length).toBeGreaterThan(0);
    expect(check.errors[0]!.path).toMatch(/^bad\.yaml:\d+:\d+$/);
    expect(check.errors[0]!.rule).toMatch(/YAML syntax error at line \d+, column \d+/);
  });

  it('reports a duplicate key instead of keeping the last one', () => {
    const check = parseConfigText(`${SECTION_YAML}vtep_subnet: 10.0.0.0/20\n`, 'dup.yaml');
    expect(check.errors[0]).toMatchObject({ path: 'dup.yaml:10:1', value: 'vtep_subnet: 10.0.0.0/20' });
    expect(check.errors[0]!.rule).toMatch(/unique/);
  });

  it('reports an empty file', () => {
    expect(parseConfigText('\n# nothing\n', 'empty.yaml').errors[0]).toMatchObject({ path: 'empty.yaml', rule: 'the file is empty' });
  });

  it('reports a top level that is neither a config.yaml nor the section', () => {
    const check = parseConfigText('cluster_name: demo\nssh_port: 22\n', 'other.yaml');
    expect(check.errors).toHaveLength(1);
    expect(check.errors[0]!.rule).toMatch(/neither a DC\/OS config\.yaml with a dcos_overlay_network key.*cluster_name, ssh_port/);
    expect(parseConfigText('- 1\n- 2\n', 'list.yaml').errors[0]!.rule).toMatch(/found a list/);
    expect(parseConfigText('42', 'scalar.yaml').errors[0]!.rule).toMatch(/found an integer/);
  });

  it('reports an empty dcos_overlay_network key', () => {
    const check = parseConfigText('cluster_name: demo\ndcos_overlay_network:\n', 'config.yaml');
    expect(check.errors[0]).toMatchObject({ path: 'dcos_overlay_network', value: null });
    expect(check.errors[0]!.rule).toMatch(/must be a mapping, got null/);
  });

  it('ignores a byte order mark', () => {
    expect(parseConfigText(`\uFEFF${SECTION_YAML}`, 'bom.yaml').errors).toEqual([]);
  });
});

describe('deeply nested input', () => {
  const section = (inner: string) =>
    `{"dcos_overlay_network": {"vtep_subnet": "44.0.0.0/24", "vtep_mac_oui": "70:B3:D5:00:00:00", "overlays": [{"name": "a", "subnet": "10.0.0.0/16", "prefix": 24, "x": ${inner}}]}}`;

  it.each([
    ['lists, past the parser', 5000, (d: number) => `${'['.repeat(d)}${']'.repeat(d)}`],
    ['mappings, past the parser', 5000, (d: number) => `${'{"a":'.repeat(d)}1${'}'.repeat(d)}`],
    ['lists the parser reads', 300, (d: number) => `${'['.repeat(d)}${']'.repeat(d)}`],
  ])('refuses %s (%i levels) with one short, clear error', (_what, depth, inner) => {
    const check = parseConfigText(section(inner(depth)), 'deep.json');
    expect(check.errors).toHaveLength(1);
    expect(check.errors[0]!.rule).toContain(`levels deep (lists and mappings inside each other)`);
    expect(check.errors[0]!.rule).not.toContain('Maximum call stack');
    expect(JSON.stringify(check).length).toBeLessThan(1000);
  });

  it('still reads a config nested as deep as it needs', () => {
    expect(parseConfigText(section('{"b": [1, [2]]}'), 'ok.json').errors.map((e) => e.rule)).not.toContainEqual(
      expect.stringContaining('levels deep'),
    );
  });
});
