import type { CacheBackup, CacheOperationOptions, CachePlatform, CacheVerification, SampledKey } from '../../../ports/cache-platform';
import { backupOf } from './backup-objects';
import { recordOf, targetOf, type CacheContext } from './cache-context';
import { digestOf, expiryOf, readValue, typeOf } from './key-values';
import { keyspaceOf, serverTimeMs, withRedis, type RedisTarget } from './redis-client';
import { sampleKeyBuffer } from './sampling';

// Whether an instance holds what a backup held: PING, the key counts per database (less whatever has
// expired since), and every sampled key's type, value digest and expiry.

export async function verifyInstance(ctx: CacheContext, input: Parameters<CachePlatform['verifyInstance']>[0], opts: CacheOperationOptions): Promise<CacheVerification> {
  const backup = await backupOf(ctx, input.backupId);
  const r = recordOf(ctx, input.instanceId);
  return compareWithBackup(r.instanceId, backup, (db) => targetOf(r, db), opts);
}

/** Compares what a Redis endpoint holds (any platform's) with a backup's metadata. */
export async function compareWithBackup(instanceId: string, backup: CacheBackup, targetFor: (db: number) => RedisTarget, opts: CacheOperationOptions): Promise<CacheVerification> {
  opts.onProgress?.({ phase: 'verifying', message: `comparing "${instanceId}" with backup "${backup.backupId}"` });
  const pong = await withRedis(targetFor(0), async (redis) => (await redis.ping()) as string).catch((error: Error) => `error: ${error.message}`);
  const problems: string[] = [];
  if (pong !== 'PONG') {
    problems.push(`PING answered ${pong}`);
    return { instanceId, backupId: backup.backupId, ok: false, ping: pong, keyspace: [], sample: { checked: 0, matched: 0, expiredSinceBackup: 0, mismatches: [] }, problems };
  }
  let keyspace: CacheVerification['keyspace'] = [];
  if (backup.kind !== 'sessions') {
    // A session restore writes into an instance that holds other keys too: only its sample is compared.
    const actual = await withRedis(targetFor(0), keyspaceOf);
    const dbs = [...new Set([...backup.keyspace.map((k) => k.db), ...actual.map((k) => k.db)])].sort((a, b) => a - b);
    keyspace = dbs.map((db) => {
      const want = backup.keyspace.find((k) => k.db === db) ?? { db, keys: 0, expires: 0 };
      const have = actual.find((k) => k.db === db) ?? { db, keys: 0, expires: 0 };
      const ok = have.keys - have.expires === want.keys - want.expires && have.expires <= want.expires;
      if (!ok) problems.push(`db${db} holds ${have.keys} keys (${have.expires} with a TTL), the backup ${want.keys} (${want.expires} with a TTL)`);
      return { db, expectedKeys: want.keys, actualKeys: have.keys, expectedExpires: want.expires, actualExpires: have.expires, ok };
    });
  }
  const sample = await checkSample(targetFor, backup.sample, opts);
  for (const m of sample.mismatches.slice(0, 10)) problems.push(`db${m.db} key "${m.key}" ${m.problem}`);
  if (sample.mismatches.length > 10) problems.push(`and ${sample.mismatches.length - 10} more sampled keys differ`);
  return { instanceId, backupId: backup.backupId, ok: problems.length === 0, ping: pong, keyspace, sample, problems };
}

/** Compares the sampled keys with what the instance holds now. */
async function checkSample(targetFor: (db: number) => RedisTarget, sample: readonly SampledKey[], opts: CacheOperationOptions): Promise<CacheVerification['sample']> {
  const result: CacheVerification['sample'] = { checked: 0, matched: 0, expiredSinceBackup: 0, mismatches: [] };
  const byDb = new Map<number, SampledKey[]>();
  for (const s of sample) byDb.set(s.db, [...(byDb.get(s.db) ?? []), s]);
  for (const [db, keys] of byDb) {
    await withRedis(targetFor(db), async (redis) => {
      for (const s of keys) {
        opts.signal?.throwIfAborted();
        result.checked++;
        if (s.expiresAt && Date.parse(s.expiresAt) <= (await serverTimeMs(redis))) { result.expiredSinceBackup++; continue; }
        const key = sampleKeyBuffer(s);
        const mismatch = (problem: string) => result.mismatches.push({ db, key: s.key, problem });
        const type = await typeOf(redis, key);
        if (type !== s.type) { mismatch(type === 'none' ? 'is missing' : `is a ${type}, the backup had a ${s.type}`); continue; }
        const value = await readValue(redis, key, s.type);
        if (!value || digestOf(value) !== s.digest) { mismatch('has a different value than in the backup'); continue; }
        const expiresAt = await expiryOf(redis, key);
        const expected = s.expiresAt ? Date.parse(s.expiresAt) : undefined;
        if (expiresAt !== expected) { mismatch(`expires at ${expiresAt === undefined ? 'never' : new Date(expiresAt).toISOString()}, the backup says ${s.expiresAt ?? 'never'}`); continue; }
        result.matched++;
      }
    });
  }
  return result;
}
