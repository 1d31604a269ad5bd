// The agent's V8 heap (issue 10 (i)). Its first programming of thousands of
// peers (a multi-megabyte resync, the desired state, the plan, the batches)
// is a burst of allocation, and V8 answers a burst by doubling the young
// generation up to two 16 MB semi-spaces, and keeps them: RSS an idle agent
// never uses again. A growth factor of 1 keeps the young generation at its
// initial size. V8 reads this flag each time it would grow the space, so it
// works when set at run time, unlike --max-semi-space-size (read once, when
// the heap is made), which would have to be on the `node` command line of
// every way the agent is started.

import { setFlagsFromString } from 'node:v8';

export const YOUNG_GENERATION_FLAG = '--semi-space-growth-factor=1';

/** Call once, before the agent allocates anything large. */
export function keepYoungGenerationSmall(): void {
  setFlagsFromString(YOUNG_GENERATION_FLAG);
}
