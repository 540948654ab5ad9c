import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { sleep } from '../../../../lib/child-process';
import type { CacheBackup, CacheBackupKind, CacheBackupResult, CacheOperationOptions, CachePlatform, KeyspaceCount, SampledKey } from '../../../ports/cache-platform';
import { PlatformRequestError, PlatformVerificationError } from '../../../ports/database-platform';
import { assertIdentifier } from '../../../ports/identifiers';
import { copyAofDirectory } from './aof-directory';
import { readMetadata, uploadObjects, writeDataFiles, writeMetadata } from './backup-objects';
import { scratchDirOf, targetOf, type CacheContext, type CacheInstanceRecord } from './cache-context';
import { availableRecord } from './cache-instances';
import { keyspaceOf, redisInfo, serverTimeMs, withRedis, type RedisTarget } from './redis-client';
import { startRedisServer, stopRedisServer } from './redis-server';
import { sampleKeys } from './sampling';
import { exportSessions } from './session-export';

// Taking a cache backup: an RDB snapshot (BGSAVE), a copy of the AOF directory, or a session export;
// the RDB and AOF files are loaded into a scratch server of their own to count and sample them.

export const backupKinds: readonly CacheBackupKind[] = ['rdb', 'aof', 'sessions'];

/** What a backup holds, before its files are uploaded. */
export interface Taken {
  files: Map<string, Buffer>;
  takenAtMs: number;
  keyspace: KeyspaceCount[];
  sample: SampledKey[];
  sessions?: CacheBackup['sessions'];
}

export async function takeBackup(ctx: CacheContext, input: Parameters<CachePlatform['takeBackup']>[0], opts: CacheOperationOptions): Promise<CacheBackupResult> {
  const backupId = assertIdentifier('backupId', input.backupId);
  if (!backupKinds.includes(input.kind)) throw new PlatformRequestError(`kind "${input.kind}" is not valid: use ${backupKinds.join(', ')}`);
  const sampleSize = input.sampleSize ?? 50;
  if (!Number.isInteger(sampleSize) || sampleSize < 0 || sampleSize > 10_000) throw new PlatformRequestError(`sampleSize ${input.sampleSize} is not valid: use a whole number from 0 to 10000`);
  const existing = await readMetadata(ctx, backupId);
  if (existing) {
    if (existing.sourceInstanceId !== input.sourceInstanceId || existing.kind !== input.kind) {
      throw new PlatformRequestError(`cache backup "${backupId}" already exists for another request (${existing.kind} of "${existing.sourceInstanceId}"); choose another backupId`);
    }
    return { backup: existing, reused: true };
  }
  const source = await availableRecord(ctx, input.sourceInstanceId, 'a backup');
  const engineVersion = await withRedis(targetOf(source), async (redis) => (await redisInfo(redis, 'server')).redis_version!);
  let taken: Taken;
  if (input.kind === 'sessions') {
    taken = await takeSessionExport(targetOf(source), input.sessions, sampleSize, opts);
  } else {
    opts.onProgress?.({ phase: 'backing-up', message: input.kind === 'rdb' ? 'BGSAVE' : 'copying the AOF directory' });
    let files: Map<string, Buffer>;
    let takenAtMs: number;
    if (input.kind === 'rdb') {
      const saved = await bgsave(ctx, targetOf(source), opts);
      takenAtMs = saved.takenAtMs;
      files = new Map([['dump.rdb', await readFile(saved.file)]]);
    } else {
      ({ takenAtMs, files } = await copyAof(source, opts));
    }
    taken = { files, takenAtMs, ...(await loadAlone(ctx, backupId, input.kind, files, sampleSize, opts)) };
  }
  const { files, takenAtMs, keyspace, sample, sessions } = taken;
  const { objects, totalBytes } = await uploadObjects(ctx, backupId, files, opts);
  const backup: CacheBackup = { backupId, kind: input.kind, sourceInstanceId: source.instanceId, takenAt: new Date(takenAtMs).toISOString(), engineVersion, keyspace, objects, totalBytes, sample, ...(sessions ? { sessions } : {}) };
  await writeMetadata(ctx, backup);
  return { backup, reused: false };
}

/** The seed's session backup: the keys matching a pattern in one database, as one JSON object (any Redis endpoint). */
export async function takeSessionExport(source: RedisTarget, request: { pattern?: string; db?: number } | undefined, sampleSize: number, opts: CacheOperationOptions): Promise<Taken> {
  const pattern = request?.pattern ?? 'session:*';
  const db = request?.db ?? 0;
  if (typeof pattern !== 'string' || !pattern) throw new PlatformRequestError('sessions.pattern must be a non-empty SCAN MATCH pattern, e.g. "session:*"');
  if (!Number.isInteger(db) || db < 0 || db > 15) throw new PlatformRequestError(`sessions.db ${db} is not valid: use a database number from 0 to 15`);
  const exported = await withRedis(source, async (redis) => {
    const at = await serverTimeMs(redis);
    opts.onProgress?.({ phase: 'backing-up', message: `exporting keys matching ${pattern} in db ${db}` });
    return { at, ...(await exportSessions(redis, pattern, db, { signal: opts.signal, onKeys: (n) => opts.onProgress?.({ phase: 'backing-up', keysDone: n }) })) };
  });
  const count = Object.keys(exported.sessions).length;
  return {
    takenAtMs: exported.at,
    files: new Map([['sessions.json', Buffer.from(JSON.stringify(exported.sessions, null, 1) + '\n')]]),
    keyspace: count ? [{ db, keys: count, expires: exported.expiring }] : [],
    sample: exported.sample.slice(0, sampleSize),
    sessions: { pattern, db, exported: count, skipped: exported.skipped },
  };
}

/**
 * Loads a backup's files into a server of its own that nothing else writes to: the backup's own key
 * counts and sample come from it (exact, whatever the source did meanwhile), and a backup that
 * does not load is found out now rather than during an incident.
 */
async function loadAlone(ctx: CacheContext, backupId: string, kind: 'rdb' | 'aof', files: Map<string, Buffer>, sampleSize: number, opts: CacheOperationOptions): Promise<{ keyspace: KeyspaceCount[]; sample: SampledKey[] }> {
  const dir = path.join(scratchDirOf(ctx.stateDir), backupId);
  rmSync(dir, { recursive: true, force: true });
  try {
    writeDataFiles(dir, files);
    const password = randomBytes(24).toString('base64url');
    opts.onProgress?.({ phase: 'verifying', message: `loading the ${kind.toUpperCase()} backup into a scratch server to count and sample it` });
    const { port } = await startRedisServer({ dir, password, appendonly: kind === 'aof', save: '', timeoutMs: ctx.loadTimeoutMs, signal: opts.signal });
    return await withRedis({ host: '127.0.0.1', port, password }, async (redis) => {
      const keyspace = await keyspaceOf(redis);
      return { keyspace, sample: await sampleKeys(redis, keyspace, sampleSize) };
    });
  } catch (error) {
    if (opts.signal?.aborted) throw error;
    throw new PlatformVerificationError(`the ${kind.toUpperCase()} backup "${backupId}" does not load into redis-server: ${(error as Error).message}`);
  } finally {
    await stopRedisServer(dir, 'kill');
    rmSync(dir, { recursive: true, force: true });
  }
}

/** BGSAVE, then waits until INFO persistence shows a save that started after the request and succeeded. */
async function bgsave(ctx: CacheContext, target: RedisTarget, opts: CacheOperationOptions): Promise<{ takenAtMs: number; file: string }> {
  return withRedis(target, async (redis) => {
    const deadline = Date.now() + ctx.loadTimeoutMs;
    for (;;) {
      opts.signal?.throwIfAborted();
      const before = await redisInfo(redis, 'persistence');
      if (before.rdb_bgsave_in_progress === '1') { await sleep(100); continue; }
      const takenAtMs = await serverTimeMs(redis);
      try {
        // SCHEDULE: if an AOF rewrite is running, the save starts as soon as it ends.
        await redis.call('BGSAVE', 'SCHEDULE');
      } catch (error) {
        if (/already in progress/i.test((error as Error).message)) continue;
        throw error;
      }
      for (;;) {
        opts.signal?.throwIfAborted();
        opts.onProgress?.({ phase: 'backing-up', message: 'waiting for BGSAVE' });
        const now = await redisInfo(redis, 'persistence');
        if (now.rdb_bgsave_in_progress === '0' && Number(now.rdb_saves) > Number(before.rdb_saves)) {
          if (now.rdb_last_bgsave_status !== 'ok') throw new PlatformVerificationError(`BGSAVE on the source failed (rdb_last_bgsave_status:${now.rdb_last_bgsave_status}); see the server's log`);
          const [, dir] = (await redis.config('GET', 'dir')) as string[];
          const [, dbfilename] = (await redis.config('GET', 'dbfilename')) as string[];
          return { takenAtMs, file: path.join(dir!, dbfilename!) };
        }
        if (now.rdb_bgsave_in_progress === '0' && now.rdb_last_bgsave_status === 'err' && Number(now.rdb_last_save_time) * 1000 < takenAtMs && now.aof_rewrite_in_progress === '0') {
          throw new PlatformVerificationError('BGSAVE on the source failed (rdb_last_bgsave_status:err); see the server\'s log');
        }
        if (Date.now() > deadline) throw new PlatformVerificationError(`BGSAVE on the source did not finish within ${ctx.loadTimeoutMs / 1000} s`);
        await sleep(100);
      }
    }
  });
}

/** Copies the source's AOF directory once no rewrite is running. */
async function copyAof(r: CacheInstanceRecord, opts: CacheOperationOptions): Promise<{ takenAtMs: number; files: Map<string, Buffer> }> {
  return withRedis(targetOf(r), async (redis) => {
    const persistence = await redisInfo(redis, 'persistence');
    if (persistence.aof_enabled !== '1') throw new PlatformRequestError(`cache instance "${r.instanceId}" has appendonly no: an AOF backup needs AOF persistence (CONFIG SET appendonly yes); take an RDB backup instead`);
    for (let state = persistence; state.aof_rewrite_in_progress === '1' || state.aof_rewrite_scheduled === '1'; state = await redisInfo(redis, 'persistence')) {
      opts.signal?.throwIfAborted();
      opts.onProgress?.({ phase: 'backing-up', message: 'waiting for an AOF rewrite to finish' });
      await sleep(100);
    }
    const [, dir] = (await redis.config('GET', 'dir')) as string[];
    const [, dirname] = (await redis.config('GET', 'appenddirname')) as string[];
    const [, filename] = (await redis.config('GET', 'appendfilename')) as string[];
    if (filename !== 'appendonly.aof') throw new PlatformRequestError(`cache instance "${r.instanceId}" uses appendfilename "${filename}": only the default "appendonly.aof" is restored by this platform`);
    const takenAtMs = await serverTimeMs(redis);
    const copy = await copyAofDirectory(path.join(dir!, dirname!), `${filename}.manifest`, opts.signal);
    // Restored instances read it as "appendonly.aof.manifest" in "appendonlydir": names follow the manifest.
    const files = new Map<string, Buffer>([[`appendonlydir/${copy.manifestName}`, copy.manifest]]);
    for (const file of copy.files) files.set(`appendonlydir/${file.name}`, file.data);
    return { takenAtMs, files };
  });
}
