// Pure: the CNI network config list for an overlay's mesos bridge, for the
// reference `bridge`, `host-local` and `portmap` plugins (CNI 1.0.0, the
// newest Debian's plugins 1.1.1 speak).

import type { AgentOverlayInfo } from '../api/types.js';
import { bridgeAddress } from './desired.js';
import { canonicalCidr } from './names.js';

export const CNI_VERSION = '1.0.0';

/** The plugins every conflist below names; the agent checks --cni-bin-dir has them. */
export const CONFLIST_PLUGINS = ['bridge', 'host-local', 'portmap'] as const;

export const conflistFileName = (overlay: string): string => `vxnet-${overlay}.conflist`;

/** The conflist text, or undefined when the overlay has no usable mesos bridge. */
export function renderConflist(overlay: AgentOverlayInfo, options: { mtu: number; ipamDir: string }): string | undefined {
  const bridge = overlay.mesos_bridge;
  if (!bridge) return undefined;
  const ranges: { subnet: string; gateway: string }[][] = [];
  const routes: { dst: string }[] = [];
  for (const [half, defaultRoute] of [
    [bridge.ip, '0.0.0.0/0'],
    [bridge.ip6, '::/0'],
  ] as const) {
    const subnet = canonicalCidr(half);
    const gateway = half === undefined ? undefined : bridgeAddress(half);
    if (!subnet || !gateway) continue;
    ranges.push([{ subnet, gateway: gateway.slice(0, gateway.lastIndexOf('/')) }]);
    routes.push({ dst: defaultRoute });
  }
  if (ranges.length === 0) return undefined;
  const conf = {
    cniVersion: CNI_VERSION,
    name: overlay.info.name,
    plugins: [
      {
        type: 'bridge',
        bridge: bridge.name,
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        mtu: options.mtu,
        ipam: { type: 'host-local', ranges, routes, dataDir: options.ipamDir },
      },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
    ],
  };
  return `${JSON.stringify(conf, null, 2)}\n`;
}
