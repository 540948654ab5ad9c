import { watch, type FSWatcher } from 'node:fs';

export interface FileWatch {
  /** Resolves at the next change to the file after this call (never, if the file cannot be watched). */
  changed(): Promise<void>;
  close(): void;
}

/**
 * Wakes a waiter when another process writes to a file (a server's log), so it looks at once instead of
 * sleeping out an interval. A file that cannot be watched only never wakes it: callers also look again
 * after a timeout of their own.
 */
export function watchFile(file: string): FileWatch {
  let wake: (() => void) | undefined;
  let next: Promise<void> | undefined;
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(file, { persistent: false }, () => {
      const w = wake;
      wake = undefined;
      next = undefined;
      w?.();
    });
    watcher.on('error', () => watcher?.close());
  } catch {
    watcher = undefined;
  }
  return {
    changed() {
      if (!watcher) return new Promise<void>(() => undefined);
      next ??= new Promise<void>((resolve) => (wake = resolve));
      return next;
    },
    close() {
      watcher?.close();
      wake?.();
    },
  };
}
