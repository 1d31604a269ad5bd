// Calls the reference CNI plugins directly, as a runtime does: CNI_* in the
// environment, the plugin config on stdin, the result on stdout.
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { VxnetError } from '../errors.js';
import { pluginStdin, type ConfList, type PluginConf } from './netconf.js';
import { parseResult, pluginErrorMessage, type CniResult } from './result.js';

export interface CniTarget {
  binDir: string;
  containerId: string;
  netnsPath: string;
  ifname: string;
}

type Command = 'ADD' | 'DEL';

function pluginPath(binDir: string, type: string): string {
  const file = join(binDir, type);
  try {
    accessSync(file, constants.X_OK);
  } catch {
    throw new VxnetError(
      'PRECONDITION',
      `CNI plugin "${type}" not found in ${binDir}: install the Debian package containernetworking-plugins or pass --cni-bin-dir`,
    );
  }
  return file;
}

function exhaustedHint(message: string): string {
  return /no IP addresses available|no free|exhausted/i.test(message)
    ? " (the network's address range on this host is exhausted: remove containers with `vxnet container rm`)"
    : '';
}

export function invokePlugin(
  target: CniTarget,
  command: Command,
  list: ConfList,
  plugin: PluginConf,
  prevResult?: unknown,
): Promise<CniResult> {
  const file = pluginPath(target.binDir, plugin.type);
  const env = {
    ...process.env,
    CNI_COMMAND: command,
    CNI_CONTAINERID: target.containerId,
    CNI_NETNS: target.netnsPath,
    CNI_IFNAME: target.ifname,
    CNI_PATH: target.binDir,
  };
  return new Promise((resolve, reject) => {
    const child = execFile(file, [], { env, timeout: 30_000, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        const msg = pluginErrorMessage(String(stdout), String(stderr));
        reject(
          new VxnetError('CNI', `CNI ${command} failed on network "${list.name}" (plugin ${plugin.type}): ${msg}${exhaustedHint(msg)}`, {
            plugin: plugin.type,
          }),
        );
        return;
      }
      try {
        resolve(parseResult(String(stdout)));
      } catch (e) {
        reject(new VxnetError('CNI', `plugin ${plugin.type} printed an unreadable result: ${(e as Error).message}`));
      }
    });
    child.stdin?.end(pluginStdin(list, plugin, prevResult));
  });
}

/** ADD through the whole chain, each plugin getting the previous one's result. */
export async function addNetwork(target: CniTarget, list: ConfList): Promise<CniResult> {
  let result: CniResult | undefined;
  for (const plugin of list.plugins) result = await invokePlugin(target, 'ADD', list, plugin, result);
  return result ?? {};
}

/** DEL in reverse order; keeps going after errors and reports them all at the end. */
export async function delNetwork(target: CniTarget, list: ConfList, prevResult?: CniResult): Promise<void> {
  const errors: string[] = [];
  for (const plugin of [...list.plugins].reverse()) {
    try {
      await invokePlugin(target, 'DEL', list, plugin, prevResult);
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  if (errors.length) throw new VxnetError('CNI', errors.join('\n'));
}
