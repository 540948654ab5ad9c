import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { isAtomicWriteTemp, writeFileAtomic } from '../../../lib/atomic-file';
import { assertObjectKey, type ObjectStore } from '../../ports/object-store';

/**
 * The ObjectStore over a directory (the embedded default): one file per key, replaced atomically
 * (lib/atomic-file), so a reader never sees half an object.
 */
export function createDirectoryObjectStore(root: string): ObjectStore {
  const base = path.resolve(root);
  const fileOf = (key: string) => {
    const file = path.resolve(base, assertObjectKey(key));
    if (!file.startsWith(base + path.sep)) throw new Error(`object key "${key}" escapes the store's root`);
    return file;
  };
  return {
    async put(key, body) {
      writeFileAtomic(fileOf(key), body, 0o644);
    },
    async get(key) {
      try {
        return await readFile(fileOf(key));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'EISDIR') return undefined;
        throw error;
      }
    },
    async list(prefix) {
      const keys: string[] = [];
      const walk = async (dir: string, rel: string): Promise<void> => {
        let entries;
        try {
          entries = await readdir(dir, { withFileTypes: true });
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
          throw error;
        }
        for (const entry of entries) {
          if (isAtomicWriteTemp(entry.name) || (entry.name.startsWith('.') && entry.name.endsWith('.tmp'))) continue; // a write in progress (or an older version's)
          const key = rel ? `${rel}/${entry.name}` : entry.name;
          if (entry.isDirectory()) await walk(path.join(dir, entry.name), key);
          else if (key.startsWith(prefix)) keys.push(key);
        }
      };
      await walk(base, '');
      return keys.sort();
    },
  };
}
