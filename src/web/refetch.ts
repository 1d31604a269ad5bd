// Browser glue shared by the page's tables that refetch after watch events:
// one request in flight and at most one more queued, so a burst of events
// costs two fetches, not one per event.

/** `work` run so that calls during a run collapse into one more run after it. A failed run ends the burst. */
export function coalesced(work: () => Promise<void>): () => Promise<void> {
  let running = false;
  let again = false;
  return async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        await work();
      } while (again);
    } catch {
      // The watch's error handler reports a lost connection; the next event refetches.
    } finally {
      running = false;
    }
  };
}
