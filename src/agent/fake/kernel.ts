// A recording fake of the `Kernel` port, built on the planner's ops: it
// applies each batch to an in-memory ObservedState with `applyOps` (what the
// real kernel does with them) and keeps every batch, so a test sees exactly
// what a pass changed and whether it read the kernel first.

import { applyOps } from '../apply.js';
import type { OpFailure } from '../linux/execute.js';
import { emptyObserved, type ObservedState, type Op } from '../model.js';
import type { Kernel, KernelTable } from '../ports.js';

const copy = (state: ObservedState): ObservedState => structuredClone(state);

export class RecordingKernel implements Kernel {
  /** What the kernel holds now; a test may change it behind the agent's back (drift). */
  state: ObservedState;
  /** Every `execute` call, in order. */
  readonly batches: Op[][] = [];
  /** Full reads (`observe`). */
  observations = 0;
  /** Partial re-reads (`read`), the tables of each. */
  readonly reads: KernelTable[][] = [];
  /** Return an error text to make the kernel refuse an op (it is then not applied). */
  refuse: (op: Op) => string | undefined = () => undefined;
  /** Set to make `observe` throw (e.g. `ip` missing). */
  observeError: Error | undefined;

  constructor(initial: ObservedState = emptyObserved()) {
    this.state = copy(initial);
  }

  async observe(): Promise<ObservedState> {
    this.observations++;
    if (this.observeError) throw this.observeError;
    return copy(this.state);
  }

  async read(tables: ReadonlySet<KernelTable>): Promise<Partial<Pick<ObservedState, KernelTable>>> {
    this.reads.push([...tables].sort());
    if (this.observeError) throw this.observeError;
    const now = copy(this.state);
    return Object.fromEntries([...tables].map((t) => [t, now[t]]));
  }

  async execute(ops: Op[]): Promise<OpFailure[]> {
    this.batches.push(ops);
    const failures: OpFailure[] = [];
    const applied: Op[] = [];
    for (const op of ops) {
      const error = this.refuse(op);
      if (error === undefined) applied.push(op);
      else failures.push({ op, error });
    }
    this.state = applyOps(this.state, applied);
    return failures;
  }

  /** Every op executed so far, flattened. */
  ops(): Op[] {
    return this.batches.flat();
  }
}
