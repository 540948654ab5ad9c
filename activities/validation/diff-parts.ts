import { createHash } from 'node:crypto';
import type { ObjectStore } from '../ports/object-store';
import { diffLists, type DiffList, type DiffSink, type DiffTotals, type TableDiff } from './key-range-diff';

/**
 * A diff in the object store: each list as NDJSON parts of at most `partKeys` keys (one JSON string a
 * line, ascending), and a manifest written last. Without its manifest a diff was never finished and
 * is not read; the manifest names every part with its key count and SHA-256, so a part rewritten
 * by a later attempt is refused rather than mixed in. Part names come from the prefix and their
 * number alone, so a retry under the same prefix rewrites the same objects.
 */
export interface DiffPart {
  key: string;
  keys: number;
  sha256: string;
}

export interface DiffManifest extends DiffTotals {
  formatVersion: 2;
  parts: Record<DiffList, DiffPart[]>;
  /** The first keys of each list, for reports. */
  first: Record<DiffList, string[]>;
}

export const manifestKeyOf = (prefix: string) => `${prefix}/manifest.json`;

const sha256 = (body: string | Buffer) => createHash('sha256').update(body).digest('hex');
const emptyLists = <T>(make: () => T): Record<DiffList, T> => ({ missingInTarget: make(), extraInTarget: make(), changed: make() });

/** A DiffSink that writes the parts as they fill; `finish` writes the manifest. */
export class DiffPartWriter implements DiffSink {
  private readonly buffers = emptyLists<string[]>(() => []);
  private readonly parts = emptyLists<DiffPart[]>(() => []);
  private readonly first = emptyLists<string[]>(() => []);

  constructor(private readonly store: ObjectStore, private readonly prefix: string, private readonly partKeys: number, private readonly firstKeys: number) {
    if (!Number.isInteger(partKeys) || partKeys < 1) throw new Error('partKeys: must be a whole number of at least 1');
  }

  /** A promise only when the key fills a part (which is then written): none per key. */
  add(list: DiffList, key: string): Promise<void> | undefined {
    if (this.first[list].length < this.firstKeys) this.first[list].push(key);
    const buffer = this.buffers[list];
    buffer.push(key);
    return buffer.length >= this.partKeys ? this.flush(list) : undefined;
  }

  private async flush(list: DiffList): Promise<void> {
    const keys = this.buffers[list].splice(0);
    if (!keys.length) return;
    const body = keys.map((k) => JSON.stringify(k)).join('\n') + '\n';
    const key = `${this.prefix}/${list}-${String(this.parts[list].length + 1).padStart(6, '0')}.ndjson`;
    await this.store.put(key, body, 'application/x-ndjson');
    this.parts[list].push({ key, keys: keys.length, sha256: sha256(body) });
  }

  async finish(totals: DiffTotals): Promise<{ manifestKey: string; manifest: DiffManifest }> {
    for (const list of diffLists) await this.flush(list);
    const manifest: DiffManifest = { formatVersion: 2, ...totals, parts: this.parts, first: this.first };
    const manifestKey = manifestKeyOf(this.prefix);
    await this.store.put(manifestKey, JSON.stringify(manifest) + '\n', 'application/json');
    return { manifestKey, manifest };
  }
}

/** A stored diff as the repair reads it: counts, the first keys, and each list in batches. */
export interface StoredDiff {
  table: string;
  key: string;
  counts: Record<DiffList, number>;
  first: Record<DiffList, string[]>;
  /** The list's keys in ascending order, `size` at a time, reading one part at a time. */
  batches(list: DiffList, size: number): AsyncIterable<string[]>;
}

async function* sliced(keys: readonly string[], size: number): AsyncIterable<string[]> {
  for (let i = 0; i < keys.length; i += size) yield keys.slice(i, i + size);
}

/**
 * The diff under `key`: a manifest, or a whole diff in one JSON object (as diffs were stored before
 * they streamed, which runs already recorded may still name). Throws a line that says what is wrong;
 * undefined when nothing is stored there.
 */
export async function openStoredDiff(store: ObjectStore, key: string): Promise<StoredDiff | undefined> {
  const body = await store.get(key);
  if (!body) {
    const prefix = key.endsWith('/manifest.json') ? key.slice(0, -'manifest.json'.length) : undefined;
    if (prefix && (await store.list(prefix)).length) throw new Error(`the diff under "${prefix}" was never finished (its parts are there, its manifest is not): run the comparison again`);
    return undefined;
  }
  const stored = JSON.parse(body.toString('utf8')) as DiffManifest | TableDiff;
  if (!('formatVersion' in stored)) {
    const lists = { missingInTarget: stored.missingInTarget, extraInTarget: stored.extraInTarget, changed: stored.changed };
    return {
      table: stored.table,
      key: stored.key,
      counts: { missingInTarget: lists.missingInTarget.length, extraInTarget: lists.extraInTarget.length, changed: lists.changed.length },
      first: { missingInTarget: lists.missingInTarget.slice(0, 20), extraInTarget: lists.extraInTarget.slice(0, 20), changed: lists.changed.slice(0, 20) },
      batches: (list, size) => sliced(lists[list], size),
    };
  }
  if (stored.formatVersion !== 2) throw new Error(`"${key}" holds a diff of format ${String(stored.formatVersion)}, which this worker does not read`);
  const manifest = stored;
  return {
    table: manifest.table,
    key: manifest.key,
    counts: manifest.counts,
    first: manifest.first,
    async *batches(list, size) {
      let carry: string[] = [];
      for (const part of manifest.parts[list]) {
        const partBody = await store.get(part.key);
        if (!partBody) throw new Error(`the diff under "${key}" lacks its part "${part.key}": run the comparison again`);
        const keys = partBody.toString('utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as string);
        if (keys.length !== part.keys || sha256(partBody) !== part.sha256) {
          throw new Error(`part "${part.key}" of the diff under "${key}" is not the one its manifest names (rewritten by a later comparison?): run the comparison again`);
        }
        carry = carry.length ? carry.concat(keys) : keys;
        while (carry.length >= size) yield carry.splice(0, size);
      }
      if (carry.length) yield carry;
    },
  };
}
