import { sleep } from '../../../lib/child-process';
import { statusOf } from './api-errors';

/**
 * Read, change, replace with the resourceVersion that was read: a 409 Conflict (someone wrote the object
 * in between) re-reads and applies the change again. `change` returns undefined when nothing needs writing.
 */
export async function updateWithRetry<T extends { metadata?: { resourceVersion?: string } }>(
  read: () => Promise<T>,
  change: (current: T) => T | undefined,
  replace: (next: T) => Promise<T>,
  attempts = 10,
): Promise<{ object: T; written: boolean }> {
  for (let attempt = 1; ; attempt++) {
    const current = await read();
    const next = change(current);
    if (!next) return { object: current, written: false };
    try {
      return { object: await replace({ ...next, metadata: { ...next.metadata, resourceVersion: current.metadata?.resourceVersion } }), written: true };
    } catch (error) {
      if (statusOf(error) !== 409 || attempt >= attempts) throw error;
      // Writers that collided would collide again in lockstep: each waits a little, differently.
      await sleep(Math.floor(Math.random() * 50 * attempt));
    }
  }
}
