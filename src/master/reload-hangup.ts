// SIGHUP on a master: re-read its --config and reload it, never forced, and
// say in the log what changed or why nothing did. On a standby the file is
// re-read and kept for when this master leads.

import type { NetworkConfig } from '../config/types.js';
import { isVxnetError } from '../errors.js';
import { describeChange } from './reload.js';
import type { MasterService } from './service.js';

/** A multi-line refusal as indented lines under its headline. */
const indented = (text: string): string =>
  text
    .split('\n')
    .map((line) => `  - ${line}`)
    .join('\n');

export function reloadFailureText(e: unknown): string {
  if (isVxnetError(e) && e.code === 'RECONCILE_REFUSED') return `refused, nothing changed:\n${indented(e.message)}`;
  if (isVxnetError(e) && e.code === 'CONFIG_INVALID') return `the config is invalid, nothing changed:\n${e.message}`;
  return `failed, nothing changed: ${e instanceof Error ? e.message : String(e)}`;
}

/** Reloads the leader's --config (SIGHUP never forces) and logs the outcome. */
export async function reloadOnHangup(service: MasterService, say: (text: string) => void): Promise<void> {
  try {
    const out = await service.reloadConfigFile({ force: false });
    say(`SIGHUP: config reloaded (revision ${out.revision}): ${describeChange(out)}`);
  } catch (e) {
    say(`SIGHUP: config reload ${reloadFailureText(e)}`);
  }
}

/** A standby re-reads the file now and uses it when it leads; undefined when the file is not usable. */
export async function rereadOnStandby(load: () => Promise<NetworkConfig>, say: (text: string) => void): Promise<NetworkConfig | undefined> {
  try {
    const config = await load();
    say('SIGHUP: standby: re-read the config; it is applied when this master leads');
    return config;
  } catch (e) {
    say(`SIGHUP: standby: config re-read ${reloadFailureText(e)}`);
    return undefined;
  }
}
