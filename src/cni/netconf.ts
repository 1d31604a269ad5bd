// CNI network configuration lists (pure): parse, find by network name, and
// build the per-plugin config each invocation reads on stdin.
import { VxnetError } from '../errors.js';

export interface PluginConf {
  type: string;
  [key: string]: unknown;
}

export interface ConfList {
  cniVersion: string;
  name: string;
  plugins: PluginConf[];
  /** Where it was read from. */
  file: string;
}

const PLUGIN_TYPE_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Parses a .conflist (or a single-plugin .conf, wrapped as a one-plugin list). */
export function parseConfList(file: string, text: string): ConfList {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new VxnetError('CNI', `${file}: not valid JSON (${(e as Error).message}); fix or remove the file`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new VxnetError('CNI', `${file}: must hold a JSON object`);
  const obj = raw as Record<string, unknown>;
  const name = obj.name;
  if (typeof name !== 'string' || name === '')
    throw new VxnetError('CNI', `${file}: field "name" is missing or empty; every CNI network needs a name`);
  const cniVersion = typeof obj.cniVersion === 'string' ? obj.cniVersion : '0.4.0';
  const pluginsRaw = Array.isArray(obj.plugins) ? obj.plugins : typeof obj.type === 'string' ? [stripListFields(obj)] : undefined;
  if (!pluginsRaw || pluginsRaw.length === 0)
    throw new VxnetError('CNI', `${file}: field "plugins" must be a non-empty list (network ${name})`);
  const plugins = pluginsRaw.map((p, i) => {
    const type = (p as { type?: unknown } | null)?.type;
    if (typeof type !== 'string' || !PLUGIN_TYPE_RE.test(type)) {
      throw new VxnetError(
        'CNI',
        `${file}: plugins[${i}].type is ${JSON.stringify(type)}; it must be a plugin binary name such as "bridge"`,
      );
    }
    return p as PluginConf;
  });
  return { cniVersion, name, plugins, file };
}

function stripListFields(obj: Record<string, unknown>): PluginConf {
  const { name: _n, cniVersion: _v, ...plugin } = obj;
  return plugin as PluginConf;
}

/** Finds network `name` among parsed lists; the error lists the known networks. */
export function findNetwork(lists: readonly ConfList[], name: string, confDir: string): ConfList {
  const found = lists.find((l) => l.name === name);
  if (found) return found;
  const known = [...new Set(lists.map((l) => l.name))].sort();
  const hint = known.length
    ? `known networks: ${known.join(', ')}`
    : 'no networks are configured there: is `vxnet agent` running on this host with the same --cni-conf-dir?';
  throw new VxnetError('NOT_FOUND', `unknown network "${name}" in ${confDir}; ${hint}`, { known });
}

/** The stdin config for one plugin of a chain: the list's name and version, plus prevResult. */
export function pluginStdin(list: ConfList, plugin: PluginConf, prevResult?: unknown): string {
  const conf: Record<string, unknown> = { ...plugin, name: list.name, cniVersion: list.cniVersion };
  if (prevResult !== undefined) conf.prevResult = prevResult;
  return JSON.stringify(conf);
}
