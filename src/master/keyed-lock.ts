// Serialises async work per key (an agent IP) so two requests for the same
// agent never interleave, while different agents run concurrently. A reload
// takes the whole lock (`exclusive`): it waits for every holder and holds off
// everyone who comes after it.

export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();
  /** The latest exclusive section (queued or running); every later caller waits for it. */
  private barrier: Promise<void> | undefined;

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    return this.runAll([key], work);
  }

  /**
   * Runs `work` holding every key. All keys are queued in one synchronous step,
   * so waits always point at earlier callers (no deadlock), and taking
   * thousands of keys costs no recursion or stack.
   */
  async runAll<T>(keys: readonly string[], work: () => Promise<T>): Promise<T> {
    const unique = [...new Set(keys)];
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const previous: Promise<void>[] = this.barrier ? [this.barrier] : [];
    for (const key of unique) {
      const tail = this.tails.get(key);
      if (tail) previous.push(tail);
      this.tails.set(key, mine);
    }
    try {
      if (previous.length > 0) await Promise.all(previous);
      return await work();
    } finally {
      release();
      for (const key of unique) if (this.tails.get(key) === mine) this.tails.delete(key);
    }
  }

  /**
   * Runs `work` alone: after every holder and queued caller of any key (and
   * any earlier exclusive section) is done, and before anyone who calls later.
   */
  async exclusive<T>(work: () => Promise<T>): Promise<T> {
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    // Each key's tail is its last caller, which itself waits for the earlier ones.
    const previous = [...this.tails.values(), ...(this.barrier ? [this.barrier] : [])];
    this.barrier = mine;
    try {
      if (previous.length > 0) await Promise.all(previous);
      return await work();
    } finally {
      release();
      if (this.barrier === mine) this.barrier = undefined;
    }
  }
}
