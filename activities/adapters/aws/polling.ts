/**
 * Waiting on a cloud resource, as pure logic over the states it reports: read, judge, wait, again. The
 * clock is given, so tests run it over a sequence of states (moto has no pending states) without sleeping.
 */

/** What one reading of the resource says: done (with its value), failed for good, or still on its way. */
export type PollVerdict<T> = { done: T } | { failed: string } | { waiting: string };

export interface PollClock {
  now(): number;
  /** Resolves after `ms`, or rejects at once when the signal aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: PollClock = {
  now: () => Date.now(),
  sleep: (ms, signal) => new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason ?? new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  }),
};

export interface PollOptions<S, T> {
  /** "mita-pitr-4f2a to become available": what the messages say is awaited. */
  what: string;
  read: () => Promise<S>;
  judge: (state: S) => PollVerdict<T>;
  intervalMs: number;
  timeoutMs: number;
  /** After every reading that is still waiting: the resource's own word for its state and the seconds since the wait began. */
  onWait?: (status: string, elapsedSeconds: number) => void;
  signal?: AbortSignal;
  clock?: PollClock;
}

/** The resource did not get there in time (retryable: a later attempt may find it done). */
export class PollTimeoutError extends Error {
  override readonly name = 'PollTimeoutError';
}

/** The resource reached a state it will not leave by waiting. */
export class PollFailedError extends Error {
  override readonly name = 'PollFailedError';
}

export async function pollUntil<S, T>(options: PollOptions<S, T>): Promise<T> {
  const clock = options.clock ?? realClock;
  const started = clock.now();
  const elapsed = () => Math.round((clock.now() - started) / 1000);
  let last = 'not read yet';
  for (;;) {
    if (options.signal?.aborted) throw new Error(`cancelled while waiting for ${options.what} (last: ${last}, ${elapsed()} s)`);
    const verdict = options.judge(await options.read());
    if ('done' in verdict) return verdict.done;
    if ('failed' in verdict) throw new PollFailedError(`${options.what}: ${verdict.failed} after ${elapsed()} s`);
    last = verdict.waiting;
    options.onWait?.(last, elapsed());
    if (clock.now() - started + options.intervalMs > options.timeoutMs) {
      throw new PollTimeoutError(`${options.what}: still ${last} after ${elapsed()} s (waited up to ${Math.round(options.timeoutMs / 1000)} s)`);
    }
    await clock.sleep(options.intervalMs, options.signal);
  }
}
