// Pure: the shape of `POST /overlay-master/network/reload` (`?force=true` or
// a JSON body `{"force": true}`) and of its answer.

import { VxnetError } from '../errors.js';
import { type ConfigChangeSummary, describeChange } from './reload.js';

export function parseReloadRequest(query: unknown, body: unknown): { force: boolean } {
  const q = (query ?? {}) as Record<string, unknown>;
  const fromQuery = q.force;
  if (fromQuery !== undefined && fromQuery !== 'true' && fromQuery !== 'false')
    throw new VxnetError(
      'BAD_REQUEST',
      `force (in the query): ${JSON.stringify(fromQuery)} is not true or false; send ?force=true or leave it out`,
      {
        field: 'force',
      },
    );
  const b = (body ?? {}) as Record<string, unknown>;
  const unknown = Object.keys(b).filter((k) => k !== 'force');
  if (unknown.length > 0)
    throw new VxnetError('BAD_REQUEST', `${unknown[0]}: unknown field; the body may only hold {"force": true|false}`, {
      field: unknown[0],
    });
  if (b.force !== undefined && typeof b.force !== 'boolean')
    throw new VxnetError('BAD_REQUEST', `force: ${JSON.stringify(b.force)} is not a boolean; send {"force": true} or leave it out`, {
      field: 'force',
    });
  return { force: fromQuery === 'true' || b.force === true };
}

/** The answer: what changed, in a line and field by field. */
export const reloadAnswer = (outcome: ConfigChangeSummary & { revision: number }) => ({ summary: describeChange(outcome), ...outcome });
