/**
 * The operations a platform adapter is running to build things (instances), by id, so that a retry
 * in the same process stops the earlier attempt before it removes what that attempt half-built.
 */
export function createBuildTracker() {
  const inFlight = new Map<string, { controller: AbortController; done: Promise<unknown> }>();
  return {
    /** Aborts the build of `id` running in this process, if any, and waits until it has given up. */
    async stop(id: string): Promise<void> {
      const running = inFlight.get(id);
      if (!running) return;
      running.controller.abort();
      await running.done.catch(() => undefined);
    },

    /**
     * Runs a build with its own abort signal (aborted with the caller's); if it fails or is cancelled,
     * `removeHalfBuilt` runs before the error is passed on.
     */
    async run<T>(id: string, signal: AbortSignal | undefined, build: (signal: AbortSignal) => Promise<T>, removeHalfBuilt: () => Promise<void>): Promise<T> {
      const controller = new AbortController();
      const onAbort = () => controller.abort();
      signal?.addEventListener('abort', onAbort, { once: true });
      if (signal?.aborted) controller.abort();
      const work = build(controller.signal);
      inFlight.set(id, { controller, done: work });
      try {
        return await work;
      } catch (error) {
        inFlight.delete(id);
        await removeHalfBuilt();
        throw error;
      } finally {
        inFlight.delete(id);
        signal?.removeEventListener('abort', onAbort);
      }
    },
  };
}
