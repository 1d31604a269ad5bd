// Pure: the body of POST /overlay-master/agents/{ip}/heartbeat.

import { VxnetError } from '../errors.js';

/** `{"epoch": N}`: the epoch of the allocation the agent holds (from its registration answer). */
export function parseHeartbeat(body: unknown): number {
  const epoch = body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as { epoch?: unknown }).epoch : undefined;
  if (typeof epoch === 'number' && Number.isSafeInteger(epoch) && epoch >= 1) return epoch;
  throw new VxnetError(
    'BAD_REQUEST',
    `epoch: ${JSON.stringify(epoch) ?? 'undefined'} is not an allocation epoch; send {"epoch": N} with the epoch of your registration answer (a whole number from 1)`,
    { field: 'epoch', value: epoch },
  );
}
