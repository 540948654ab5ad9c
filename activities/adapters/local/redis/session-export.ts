import type Redis from 'ioredis';
import type { CacheValueType, SampledKey } from '../../../ports/cache-platform';
import { digestOf, expiryOf, fromSessionEntry, isTextual, readValue, toSessionEntry, typeOf, valueTypes, writeValue, type SessionEntry } from './key-values';
import { sampledKeyOf } from './sampling';

/** The seed's session backup: key -> {type, value, ttl}, one object, what its restore script reads. */
export type SessionExport = Record<string, SessionEntry>;

export interface SessionExportResult {
  sessions: SessionExport;
  skipped: Array<{ key: string; type: string }>;
  /** Every exported key with its digest, for the backup's sample. */
  sample: SampledKey[];
  expiring: number;
}

/**
 * Exports the keys matching `pattern` in `db` with SCAN (never KEYS, which blocks the server), each
 * read with its type's own command and its absolute expiry. A key that expires or changes type while
 * the export runs is left out, as it would be from a snapshot taken a moment later.
 */
export async function exportSessions(redis: Redis, pattern: string, db: number, options: { signal?: AbortSignal; onKeys?: (done: number) => void } = {}): Promise<SessionExportResult> {
  await redis.select(db);
  const sessions: SessionExport = {};
  const skipped: SessionExportResult['skipped'] = [];
  const sample: SampledKey[] = [];
  let expiring = 0;
  let cursor = '0';
  const seen = new Set<string>();
  do {
    options.signal?.throwIfAborted();
    const [next, keys] = (await redis.scanBuffer(cursor, 'MATCH', pattern, 'COUNT', 1000)) as [Buffer, Buffer[]];
    cursor = next.toString();
    for (const key of keys) {
      const id = key.toString('base64');
      if (seen.has(id)) continue; // SCAN may return a key twice
      seen.add(id);
      const type = await typeOf(redis, key);
      if (type === 'none') continue;
      if (!valueTypes.includes(type as CacheValueType)) { skipped.push({ key: key.toString('utf8'), type }); continue; }
      const value = await readValue(redis, key, type as CacheValueType);
      if (!value) continue;
      const expiresAt = await expiryOf(redis, key);
      const ttlMs = expiresAt === undefined ? undefined : Number(await redis.pttl(key));
      if (ttlMs !== undefined && ttlMs <= 0) continue;
      const textual = isTextual(key, value);
      sessions[key.toString(textual ? 'utf8' : 'base64')] = toSessionEntry(value, ttlMs, expiresAt, !textual);
      sample.push(sampledKeyOf(db, key, value.type, digestOf(value), expiresAt));
      if (expiresAt !== undefined) expiring++;
    }
    options.onKeys?.(seen.size);
  } while (cursor !== '0');
  await redis.select(0);
  return { sessions, skipped, sample, expiring };
}

export interface SessionWriteCounts {
  total: number;
  restored: number;
  skippedExpired: number;
  skippedExisting: number;
  replaced: number;
}

/**
 * Writes an export into a running server. Each key keeps its absolute expiry, so it lives exactly as
 * long as it had left; one whose expiry has passed by the server's clock is not written.
 */
export async function restoreSessions(redis: Redis, sessions: SessionExport, input: { db: number; existing: 'keep' | 'replace'; exportedAtMs: number }, options: { signal?: AbortSignal; onKeys?: (done: number) => void } = {}): Promise<SessionWriteCounts> {
  const { db, existing } = input;
  await redis.select(db);
  const counts: SessionWriteCounts = { total: 0, restored: 0, skippedExpired: 0, skippedExisting: 0, replaced: 0 };
  for (const [name, entry] of Object.entries(sessions)) {
    options.signal?.throwIfAborted();
    counts.total++;
    const key = Buffer.from(name, entry.encoding === 'base64' ? 'base64' : 'utf8');
    // An export in the seed's own format has only `ttl`: seconds left at the export.
    const expiresAtMs = entry.expiresAt ? Date.parse(entry.expiresAt) : entry.ttl > 0 ? input.exportedAtMs + entry.ttl * 1000 : undefined;
    const outcome = await writeValue(redis, key, fromSessionEntry(entry), expiresAtMs, existing);
    if (outcome === 'expired') counts.skippedExpired++;
    else if (outcome === 'kept-existing') counts.skippedExisting++;
    else if (outcome === 'replaced') { counts.replaced++; counts.restored++; }
    else counts.restored++;
    if (counts.total % 500 === 0) options.onKeys?.(counts.total);
  }
  await redis.select(0);
  return counts;
}
