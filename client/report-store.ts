import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ObjectStore } from '../activities/ports/object-store';

/**
 * The ObjectStore the CLI reads published reports from: the worker's local store directory, from
 * `--store-dir` or DR_OBJECT_STORE_DIR (one file per key, as the directory adapter writes them).
 * Read-only: the CLI never writes reports. Undefined when no store is named.
 */
export function reportStoreFromDirectory(dir: string | undefined): Pick<ObjectStore, 'get'> | undefined {
  if (!dir) return undefined;
  const root = path.resolve(dir);
  return {
    async get(key: string) {
      const file = path.resolve(root, key);
      if (!file.startsWith(root + path.sep)) throw new Error(`object key "${key}" escapes the store's root`);
      try {
        return await readFile(file);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'EISDIR') return undefined;
        throw error;
      }
    },
  };
}
