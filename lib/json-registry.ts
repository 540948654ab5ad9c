import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from './atomic-file';

/**
 * Records by id in one JSON file (`{"<recordsKey>": {"<id>": record, …}}`), rewritten atomically; what
 * a local platform remembers of what it built, so a restarted worker finds it. Updates within one
 * process are serialised; one file belongs to one worker process at a time.
 */
export class JsonRegistry<T> {
  private queue: Promise<unknown> = Promise.resolve();

  /** `recordsKey`: the file's one top-level key, which names what it holds. */
  constructor(readonly file: string, private readonly recordsKey = 'records') {}

  private read(): Record<string, T> {
    if (!existsSync(this.file)) return {};
    return (JSON.parse(readFileSync(this.file, 'utf8')) as Record<string, Record<string, T>>)[this.recordsKey]!;
  }

  get(id: string): T | undefined {
    return this.read()[id];
  }

  all(): T[] {
    return Object.values(this.read());
  }

  /** Applies a change to one record (undefined removes it), serialised with other updates. */
  update(id: string, change: (current: T | undefined) => T | undefined): Promise<T | undefined> {
    const next = this.queue.then(() => {
      const records = this.read();
      const updated = change(records[id]);
      if (updated) records[id] = updated;
      else delete records[id];
      // Owner-only (writeFileAtomic's mode), and the directory is made if it is not there yet.
      writeFileAtomic(this.file, JSON.stringify({ [this.recordsKey]: records }, null, 2) + '\n');
      return updated;
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  remove(id: string): Promise<T | undefined> {
    return this.update(id, () => undefined);
  }
}
