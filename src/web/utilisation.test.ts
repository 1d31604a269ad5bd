import { describe, expect, it } from 'vitest';
import type { UtilisationView } from '../api/types.js';
import { agentUtilisationRows, useText, utilisationRows } from './utilisation.js';

describe('utilisation rows', () => {
  it('one row per VTEP pool and per overlay family, disabled overlays marked, quarantine kept apart', () => {
    const count = (used: number, total: number) => ({
      used,
      free: total - used,
      total,
      percent: total > 0 ? Math.round((used / total) * 1000) / 10 : 0,
    });
    const view: UtilisationView = {
      revision: 7,
      vtep: [{ family: 4, cidr: '198.15.0.0/20', ...count(3, 4094) }],
      overlays: [
        {
          name: 'dcos',
          enabled: true,
          families: [
            { family: 4, cidr: '44.128.0.0/16', prefix: 24, subnets: { ...count(3, 256), quarantined: 1 }, containers: count(5, 750) },
          ],
        },
        {
          name: 'old',
          enabled: false,
          families: [
            { family: 6, cidr: 'fd00::/48', prefix: 64, subnets: { ...count(0, 65536), quarantined: 0 }, containers: count(0, 0) },
          ],
        },
      ],
      agents: [{ ip: '10.0.0.1', overlays: [{ name: 'dcos', family: 4, subnet: '44.128.0.0/24', containers: count(5, 250) }] }],
    };
    expect(agentUtilisationRows(view)).toEqual([
      { agent: '10.0.0.1', overlay: 'dcos', subnet: '44.128.0.0/24', containers: count(5, 250) },
    ]);
    expect(
      utilisationRows(view).map((r) => [
        r.pool,
        r.family,
        r.range,
        useText(r.blocks),
        r.quarantined,
        r.containers && useText(r.containers),
      ]),
    ).toEqual([
      ['VTEP', 'IPv4', '198.15.0.0/20', '3 / 4094 used (0.1%), 4091 free', 0, undefined],
      ['dcos', 'IPv4', '44.128.0.0/16 /24', '3 / 256 used (1.2%), 253 free', 1, '5 / 750 used (0.7%), 745 free'],
      ['old (disabled)', 'IPv6', 'fd00::/48 /64', '0 / 65536 used (0%), 65536 free', 0, '0 / 0 used (0%), 0 free'],
    ]);
  });
});
