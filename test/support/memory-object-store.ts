import type { ObjectStore } from '../../activities/ports/object-store';

/** The ObjectStore port in memory, for tests. */
export function createMemoryObjectStore(): ObjectStore & { keys(): string[] } {
  const objects = new Map<string, Buffer>();
  return {
    async put(key, body) {
      objects.set(key, Buffer.from(body));
    },
    async get(key) {
      const body = objects.get(key);
      return body ? Buffer.from(body) : undefined;
    },
    async list(prefix) {
      return [...objects.keys()].filter((k) => k.startsWith(prefix)).sort();
    },
    keys: () => [...objects.keys()].sort(),
  };
}
