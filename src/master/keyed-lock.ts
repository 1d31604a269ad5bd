// Serialises async work per key (an agent IP) so two requests for the same
// agent never interleave, while different agents run concurrently.

export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

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
    const previous: Promise<void>[] = [];
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
}
