// Teardown that happens whatever the ending: normal return, failure, process
// exit (synchronous best effort) or SIGINT/SIGTERM (async, then exit).

export interface Teardown {
  /** Best effort without awaiting, for process 'exit'. */
  sync(): void;
  async(): Promise<void>;
}

const live = new Set<Teardown>();
let handlersInstalled = false;

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.once('exit', () => {
    for (const t of live) t.sync();
  });
  // `on`, not `once`: Ctrl-C reaches the whole process group (and impatient
  // users press it twice); a second signal must not kill the teardown halfway.
  let stopping = false;
  for (const [sig, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.on(sig, () => {
      if (stopping) {
        process.stderr.write(`vxnet test bed: ${sig} again, still removing everything; please wait\n`);
        return;
      }
      stopping = true;
      process.stderr.write(`\nvxnet test bed: ${sig}, removing everything\n`);
      void Promise.allSettled([...live].map((t) => t.async())).then(() => process.exit(code));
    });
  }
}

/** Runs `t` on exit or signal until `release` is called (after a normal teardown). */
export function registerTeardown(t: Teardown): { release(): void } {
  installHandlers();
  live.add(t);
  return { release: () => live.delete(t) };
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
