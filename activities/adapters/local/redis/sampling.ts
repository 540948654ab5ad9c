import type Redis from 'ioredis';
import type { CacheValueType, KeyspaceCount, SampledKey } from '../../../ports/cache-platform';
import { digestOf, expiryOf, isUtf8, readValue, sizeOf, typeOf, valueTypes } from './key-values';

/** Keys bigger than this are left out of samples: a sample is a check, not a second backup. */
const maxSampledElements = 10_000;
const maxSampledStringBytes = 1 << 20;

export const sampleKeyBuffer = (sample: Pick<SampledKey, 'key' | 'keyEncoding'>) => Buffer.from(sample.key, sample.keyEncoding === 'base64' ? 'base64' : 'utf8');

export function sampledKeyOf(db: number, key: Buffer, type: CacheValueType, digest: string, expiresAtMs: number | undefined): SampledKey {
  const utf8 = isUtf8(key);
  return {
    db,
    key: key.toString(utf8 ? 'utf8' : 'base64'),
    ...(utf8 ? {} : { keyEncoding: 'base64' as const }),
    type,
    digest,
    ...(expiresAtMs === undefined ? {} : { expiresAt: new Date(expiresAtMs).toISOString() }),
  };
}

/** Reads one key as a sample entry; undefined if it is gone, of another type, or too big. */
export async function sampleKey(redis: Redis, db: number, key: Buffer): Promise<SampledKey | undefined> {
  const type = await typeOf(redis, key);
  if (!valueTypes.includes(type as CacheValueType)) return undefined;
  const size = await sizeOf(redis, key, type as CacheValueType);
  if (size > (type === 'string' ? maxSampledStringBytes : maxSampledElements)) return undefined;
  const value = await readValue(redis, key, type as CacheValueType);
  if (!value) return undefined;
  return sampledKeyOf(db, key, value.type, digestOf(value), await expiryOf(redis, key));
}

/**
 * Up to `size` random keys spread over the databases in proportion to their key counts (at least one
 * from each), read from a server nothing else writes to (the backup loaded on its own).
 */
export async function sampleKeys(redis: Redis, keyspace: readonly KeyspaceCount[], size: number): Promise<SampledKey[]> {
  const total = keyspace.reduce((sum, db) => sum + db.keys, 0);
  const sample: SampledKey[] = [];
  for (const { db, keys } of keyspace) {
    if (keys === 0 || size <= 0) continue;
    const quota = Math.min(keys, Math.max(1, Math.round((size * keys) / total)));
    await redis.select(db);
    const seen = new Set<string>();
    for (let attempt = 0; attempt < quota * 4 && seen.size < quota; attempt++) {
      const key = await redis.randomkeyBuffer();
      if (!key || seen.has(key.toString('base64'))) continue;
      seen.add(key.toString('base64'));
      const entry = await sampleKey(redis, db, key);
      if (entry) sample.push(entry);
    }
  }
  await redis.select(0);
  return sample;
}
