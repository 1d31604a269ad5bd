// The agent's V8 heap (issue 10 (i)). Its first programming of thousands of
// peers (a multi-megabyte resync, the desired state, the plan, the batches)
// is a burst of allocation, and V8 answers a burst by doubling the young
// generation up to two 16 MB semi-spaces, and keeps them: RSS an idle agent
// never uses again. A growth factor of 1 keeps the young generation at its
// initial size. Idle, each 30 s table read leaves megabytes of garbage in the
// old generation; optimising for size makes V8 collect it in smaller steps
// (an idle agent at 4,093 peers drifted to 76-83 MB without it, 70-76 MB
// with it).
// V8 reads both flags each time it sizes the heap, so they work when set at
// run time, unlike --max-semi-space-size (read once, when the heap is made),
// which would have to be on the `node` command line of every way the agent
// is started.

import { setFlagsFromString } from 'node:v8';

export const HEAP_FLAGS = ['--semi-space-growth-factor=1', '--optimize-for-size'];

/** Call once, before the agent allocates anything large. */
export function keepHeapSmall(): void {
  for (const flag of HEAP_FLAGS) setFlagsFromString(flag);
}
