import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { sleep, tailOf } from '../../../../lib/child-process';
import { createBuildTracker } from '../../../../lib/build-tracker';
import { JsonRegistry } from '../../../../lib/json-registry';
import { isListening } from '../../../../lib/ports';
import type { ObjectStore } from '../../../ports/object-store';
import { assertInstanceId, PlatformRequestError, PlatformVerificationError } from '../../../ports/database-platform';
import type {
  CacheBackup,
  CacheBackupKind,
  CacheBackupObject,
  CacheInstanceDescription,
  CacheInstanceId,
  CacheInstanceOrigin,
  CacheOperationOptions,
  CachePlatform,
  CacheVerification,
  KeyspaceCount,
  SampledKey,
} from '../../../ports/cache-platform';
import { BackupIntegrityError } from '../../../ports/backup-integrity-error';
import { assertIdentifier } from '../../../ports/identifiers';
import { copyAofDirectory } from './aof-directory';
import { digestOf, expiryOf, readValue, typeOf } from './key-values';
import { keyspaceOf, redisInfo, serverTimeMs, withRedis, type RedisTarget } from './redis-client';
import { dataDirOf, logFileOf, passwordFileOf, runningRedisPid, startRedisServer, stopRedisServer } from './redis-server';
import { sampleKeyBuffer, sampleKeys } from './sampling';
import { exportSessions, restoreSessions, type SessionExport } from './session-export';

export interface LocalCachePlatformOptions {
  /** The platform's own directory: instances.json, instances/<id>/, scratch/. */
  stateDir: string;
  /** Where backups and their metadata are kept. */
  store: ObjectStore;
  /** Object key prefix; default "cache-backups". */
  keyPrefix?: string;
  /** Longest a server may take to load a backup. Default 10 minutes. */
  loadTimeoutMs?: number;
}

/** What the local platform remembers of an instance, on disk so a restarted worker finds it. */
interface CacheInstanceRecord {
  instanceId: CacheInstanceId;
  port: number;
  /** Where its password is read from; never copied into results. */
  passwordFile: string;
  /** The instance's directory (built instances only: an enrolled one belongs to whoever runs it). */
  dir?: string;
  appendonly?: boolean;
  status: 'creating' | 'available' | 'deleting';
  origin: CacheInstanceOrigin;
  protected: boolean;
  createdAt: string;
}

const registryOf = (stateDir: string) => new JsonRegistry<CacheInstanceRecord>(path.join(stateDir, 'instances.json'));
const instancesDirOf = (stateDir: string) => path.join(stateDir, 'instances');
const scratchDirOf = (stateDir: string) => path.join(stateDir, 'scratch');
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const backupKinds: readonly CacheBackupKind[] = ['rdb', 'aof', 'sessions'];

/**
 * Registers a running Redis (production, started by whoever runs it) as a protected instance: no
 * runbook deletes it. Its files must be on this machine: RDB and AOF backups read them. Idempotent.
 */
export async function enrolCacheInstance(options: Pick<LocalCachePlatformOptions, 'stateDir'>, input: { instanceId: CacheInstanceId; port: number; passwordFile: string }): Promise<void> {
  assertInstanceId(input.instanceId);
  await registryOf(options.stateDir).update(input.instanceId, (current) => ({
    instanceId: input.instanceId,
    port: input.port,
    passwordFile: path.resolve(input.passwordFile),
    status: 'available',
    origin: { kind: 'enrolled' },
    protected: true,
    createdAt: current?.createdAt ?? new Date().toISOString(),
  }));
}

/** Stops every built instance's server (SIGTERM: Redis saves), keeping them registered with their data. */
export async function stopCacheInstances(options: Pick<LocalCachePlatformOptions, 'stateDir'>): Promise<void> {
  for (const r of registryOf(options.stateDir).all()) if (!r.protected && r.dir) await stopRedisServer(r.dir, 'graceful');
}

/**
 * What a crashed worker left: instances that were still being built or deleted, instance directories
 * nothing records, and scratch servers of backups. Call at worker start, before any operation runs.
 * Returns what it removed.
 */
export async function removeCacheLeftovers(options: Pick<LocalCachePlatformOptions, 'stateDir'>): Promise<string[]> {
  const registry = registryOf(options.stateDir);
  const removed: string[] = [];
  for (const r of registry.all()) {
    if (r.protected || r.status === 'available' || !r.dir) continue;
    await stopRedisServer(r.dir, 'kill');
    rmSync(r.dir, { recursive: true, force: true });
    await registry.remove(r.instanceId);
    removed.push(r.dir);
  }
  const known = new Set(registry.all().map((r) => r.dir));
  for (const parent of [instancesDirOf(options.stateDir), scratchDirOf(options.stateDir)]) {
    if (!existsSync(parent)) continue;
    for (const name of readdirSync(parent)) {
      const dir = path.join(parent, name);
      if (known.has(dir)) continue;
      await stopRedisServer(dir, 'kill');
      rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
    }
  }
  return removed;
}

/** The local CachePlatform: redis-server 7 instances on loopback ports, backups in the object store. */
export function createLocalCachePlatform(options: LocalCachePlatformOptions): CachePlatform {
  const registry = registryOf(options.stateDir);
  const prefix = options.keyPrefix ?? 'cache-backups';
  const loadTimeoutMs = options.loadTimeoutMs ?? 10 * 60_000;
  const metadataKey = (backupId: string) => `${prefix}/${backupId}/metadata.json`;
  const objectKey = (backupId: string, name: string) => `${prefix}/${backupId}/${name}`;
  const builds = createBuildTracker();

  const record = (instanceId: CacheInstanceId): CacheInstanceRecord => {
    const found = registry.get(instanceId);
    if (!found) throw new PlatformRequestError(`cache instance "${instanceId}" does not exist (known: ${registry.all().map((r) => r.instanceId).join(', ') || 'none'})`);
    return found;
  };
  const targetOf = (r: CacheInstanceRecord, db = 0): RedisTarget => ({ host: '127.0.0.1', port: r.port, password: readFileSync(r.passwordFile, 'utf8').trim(), db });
  const ping = (r: CacheInstanceRecord) => withRedis(targetOf(r), async (redis) => (await redis.ping()) as string).catch((error: Error) => `error: ${error.message}`);

  async function describe(r: CacheInstanceRecord): Promise<CacheInstanceDescription> {
    const base: CacheInstanceDescription = {
      instanceId: r.instanceId,
      status: r.status,
      acceptingConnections: false,
      endpoint: { host: '127.0.0.1', port: r.port, tls: false },
      origin: r.origin,
      protected: r.protected,
      createdAt: r.createdAt,
    };
    if (r.dir && !runningRedisPid(r.dir)) return base;
    return withRedis(targetOf(r), async (redis) => {
      const [server, persistence, replication, keyspace] = [await redisInfo(redis, 'server'), await redisInfo(redis, 'persistence'), await redisInfo(redis, 'replication'), await keyspaceOf(redis)];
      const appendfsync = ((await redis.config('GET', 'appendfsync')) as string[])[1];
      if (persistence.loading !== '0') return base;
      return {
        ...base,
        acceptingConnections: true,
        engineVersion: server.redis_version,
        role: replication.role === 'slave' ? 'replica' as const : 'primary' as const,
        persistence: { rdb: ((await redis.config('GET', 'save')) as string[])[1] !== '', aof: persistence.aof_enabled === '1', appendfsync },
        keyspace,
      };
    }).catch(() => base);
  }

  const available = async (instanceId: CacheInstanceId, what: string): Promise<CacheInstanceRecord> => {
    const r = record(instanceId);
    if (r.status !== 'available' || !(await describe(r)).acceptingConnections) throw new PlatformRequestError(`cache instance "${instanceId}" is not available (status ${r.status}): ${what} needs it running`);
    return r;
  };

  async function readMetadata(backupId: string): Promise<CacheBackup | undefined> {
    const data = await options.store.get(metadataKey(backupId));
    if (!data) return undefined;
    try {
      return JSON.parse(data.toString('utf8')) as CacheBackup;
    } catch {
      throw new BackupIntegrityError(`backup metadata object "${metadataKey(backupId)}" is not valid JSON; the backup cannot be trusted`, metadataKey(backupId));
    }
  }

  async function backupOf(backupId: string): Promise<CacheBackup> {
    assertIdentifier('backupId', backupId);
    const backup = await readMetadata(backupId);
    if (!backup) throw new PlatformRequestError(`cache backup "${backupId}" does not exist (no ${metadataKey(backupId)} in the object store)`);
    return backup;
  }

  /** Every object of a backup, each checked against its recorded size and sha256 before it is used. */
  async function downloadVerified(backup: CacheBackup, opts: CacheOperationOptions): Promise<Map<string, Buffer>> {
    const out = new Map<string, Buffer>();
    let bytesDone = 0;
    for (const object of backup.objects) {
      opts.signal?.throwIfAborted();
      opts.onProgress?.({ phase: 'downloading', bytesDone, bytesTotal: backup.totalBytes, message: object.key });
      const data = await options.store.get(object.key);
      if (!data) throw new BackupIntegrityError(`backup "${backup.backupId}": object "${object.key}" is missing from the object store; nothing was restored`, object.key);
      const actual = sha256(data);
      if (data.length !== object.sizeBytes || actual !== object.sha256) {
        throw new BackupIntegrityError(`backup "${backup.backupId}": object "${object.key}" is ${data.length} bytes with sha256 ${actual}, its metadata says ${object.sizeBytes} bytes with sha256 ${object.sha256} (altered or truncated); nothing was restored`, object.key);
      }
      out.set(object.name, data);
      bytesDone += data.length;
    }
    return out;
  }

  /** Puts a backup's files where redis-server reads them at start: data/dump.rdb or data/appendonlydir/. */
  function writeDataFiles(dir: string, files: Map<string, Buffer>): void {
    mkdirSync(path.join(dataDirOf(dir), 'appendonlydir'), { recursive: true, mode: 0o700 });
    for (const [name, data] of files) {
      if (!/^(dump\.rdb|appendonlydir\/[\w.-]+)$/.test(name)) throw new BackupIntegrityError(`backup object name "${name}" is not a Redis data file this platform restores`, name);
      writeFileSync(path.join(dataDirOf(dir), ...name.split('/')), data, { mode: 0o600 });
    }
  }

  /**
   * Loads a backup's files into a server of its own that nothing else writes to: the backup's own key
   * counts and sample come from it (exact, whatever the source did meanwhile), and a backup that
   * does not load is found out now rather than during an incident.
   */
  async function loadAlone(backupId: string, kind: 'rdb' | 'aof', files: Map<string, Buffer>, sampleSize: number, opts: CacheOperationOptions): Promise<{ keyspace: KeyspaceCount[]; sample: SampledKey[] }> {
    const dir = path.join(scratchDirOf(options.stateDir), backupId);
    rmSync(dir, { recursive: true, force: true });
    try {
      writeDataFiles(dir, files);
      const password = randomBytes(24).toString('base64url');
      opts.onProgress?.({ phase: 'verifying', message: `loading the ${kind.toUpperCase()} backup into a scratch server to count and sample it` });
      const { port } = await startRedisServer({ dir, password, appendonly: kind === 'aof', save: '', timeoutMs: loadTimeoutMs, signal: opts.signal });
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
  async function bgsave(target: RedisTarget, opts: CacheOperationOptions): Promise<{ takenAtMs: number; file: string }> {
    return withRedis(target, async (redis) => {
      const deadline = Date.now() + loadTimeoutMs;
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
          if (Date.now() > deadline) throw new PlatformVerificationError(`BGSAVE on the source did not finish within ${loadTimeoutMs / 1000} s`);
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

  /** The retry rule: the same request finds its built instance; a half-built one is removed; another request's id is refused. */
  async function existingFor(instanceId: CacheInstanceId, backupId: string): Promise<CacheInstanceRecord | undefined> {
    const found = registry.get(instanceId);
    if (!found) {
      const dir = path.join(instancesDirOf(options.stateDir), instanceId);
      if (existsSync(dir)) { await stopRedisServer(dir, 'kill'); rmSync(dir, { recursive: true, force: true }); }
      return undefined;
    }
    if (found.protected || found.origin.kind !== 'backup' || found.origin.backupId !== backupId) {
      throw new PlatformRequestError(`cache instance "${instanceId}" already exists and was built for another request (${JSON.stringify(found.origin)}); choose another instance id`);
    }
    if (found.status === 'available') return found;
    await discard(found);
    return undefined;
  }

  async function discard(r: CacheInstanceRecord): Promise<void> {
    await builds.stop(r.instanceId);
    await registry.update(r.instanceId, (current) => current && { ...current, status: 'deleting' });
    if (r.dir) {
      await stopRedisServer(r.dir, 'kill');
      rmSync(r.dir, { recursive: true, force: true });
    }
    await registry.remove(r.instanceId);
  }

  /** Runs an operation that builds an instance; on failure or cancellation the half-built instance is removed. */
  function building<T>(instanceId: CacheInstanceId, opts: CacheOperationOptions, fn: (o: CacheOperationOptions) => Promise<T>): Promise<T> {
    return builds.run(instanceId, opts.signal, (signal) => fn({ ...opts, signal }), async () => {
      const half = registry.get(instanceId);
      if (half && half.status !== 'available') await discard(half);
    });
  }

  /** A built instance whose server is down (the stack was stopped, the machine rebooted) is started again. */
  async function startIfStopped(r: CacheInstanceRecord, opts: CacheOperationOptions): Promise<void> {
    if (r.status !== 'available' || r.protected || !r.dir || runningRedisPid(r.dir)) return;
    const port = (await isListening(r.port)) ? undefined : r.port;
    const started = await startRedisServer({ dir: r.dir, password: readFileSync(r.passwordFile, 'utf8').trim(), appendonly: r.appendonly ?? false, port, timeoutMs: loadTimeoutMs, signal: opts.signal });
    await registry.update(r.instanceId, (current) => current && { ...current, port: started.port });
  }

  /** Compares the sampled keys with what the instance holds now. */
  async function checkSample(r: CacheInstanceRecord, sample: readonly SampledKey[], opts: CacheOperationOptions): Promise<CacheVerification['sample']> {
    const result: CacheVerification['sample'] = { checked: 0, matched: 0, expiredSinceBackup: 0, mismatches: [] };
    const byDb = new Map<number, SampledKey[]>();
    for (const s of sample) byDb.set(s.db, [...(byDb.get(s.db) ?? []), s]);
    for (const [db, keys] of byDb) {
      await withRedis(targetOf(r, db), async (redis) => {
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

  return {
    backupKinds,

    async describeInstance(instanceId) {
      return describe(record(instanceId));
    },

    async takeBackup(input, opts = {}) {
      const backupId = assertIdentifier('backupId', input.backupId);
      if (!backupKinds.includes(input.kind)) throw new PlatformRequestError(`kind "${input.kind}" is not valid: use ${backupKinds.join(', ')}`);
      const sampleSize = input.sampleSize ?? 50;
      if (!Number.isInteger(sampleSize) || sampleSize < 0 || sampleSize > 10_000) throw new PlatformRequestError(`sampleSize ${input.sampleSize} is not valid: use a whole number from 0 to 10000`);
      const existing = await readMetadata(backupId);
      if (existing) {
        if (existing.sourceInstanceId !== input.sourceInstanceId || existing.kind !== input.kind) {
          throw new PlatformRequestError(`cache backup "${backupId}" already exists for another request (${existing.kind} of "${existing.sourceInstanceId}"); choose another backupId`);
        }
        return { backup: existing, reused: true };
      }
      const source = await available(input.sourceInstanceId, 'a backup');
      const engineVersion = await withRedis(targetOf(source), async (redis) => (await redisInfo(redis, 'server')).redis_version!);
      let files: Map<string, Buffer>;
      let takenAtMs: number;
      let keyspace: KeyspaceCount[];
      let sample: SampledKey[];
      let sessions: CacheBackup['sessions'];
      if (input.kind === 'sessions') {
        const pattern = input.sessions?.pattern ?? 'session:*';
        const db = input.sessions?.db ?? 0;
        if (typeof pattern !== 'string' || !pattern) throw new PlatformRequestError('sessions.pattern must be a non-empty SCAN MATCH pattern, e.g. "session:*"');
        if (!Number.isInteger(db) || db < 0 || db > 15) throw new PlatformRequestError(`sessions.db ${db} is not valid: use a database number from 0 to 15`);
        const exported = await withRedis(targetOf(source), async (redis) => {
          const at = await serverTimeMs(redis);
          opts.onProgress?.({ phase: 'backing-up', message: `exporting keys matching ${pattern} in db ${db}` });
          return { at, ...(await exportSessions(redis, pattern, db, { signal: opts.signal, onKeys: (n) => opts.onProgress?.({ phase: 'backing-up', keysDone: n }) })) };
        });
        takenAtMs = exported.at;
        files = new Map([['sessions.json', Buffer.from(JSON.stringify(exported.sessions, null, 1) + '\n')]]);
        const count = Object.keys(exported.sessions).length;
        keyspace = count ? [{ db, keys: count, expires: exported.expiring }] : [];
        sample = exported.sample.slice(0, sampleSize);
        sessions = { pattern, db, exported: count, skipped: exported.skipped };
      } else {
        opts.onProgress?.({ phase: 'backing-up', message: input.kind === 'rdb' ? 'BGSAVE' : 'copying the AOF directory' });
        if (input.kind === 'rdb') {
          const saved = await bgsave(targetOf(source), opts);
          takenAtMs = saved.takenAtMs;
          files = new Map([['dump.rdb', await readFile(saved.file)]]);
        } else {
          ({ takenAtMs, files } = await copyAof(source, opts));
        }
        ({ keyspace, sample } = await loadAlone(backupId, input.kind, files, sampleSize, opts));
      }
      const objects: CacheBackupObject[] = [];
      let bytesDone = 0;
      const totalBytes = [...files.values()].reduce((sum, data) => sum + data.length, 0);
      for (const [name, data] of files) {
        opts.signal?.throwIfAborted();
        opts.onProgress?.({ phase: 'uploading', bytesDone, bytesTotal: totalBytes, message: name });
        await options.store.put(objectKey(backupId, name), data, 'application/octet-stream');
        objects.push({ name, key: objectKey(backupId, name), sizeBytes: data.length, sha256: sha256(data) });
        bytesDone += data.length;
      }
      const backup: CacheBackup = { backupId, kind: input.kind, sourceInstanceId: source.instanceId, takenAt: new Date(takenAtMs).toISOString(), engineVersion, keyspace, objects, totalBytes, sample, ...(sessions ? { sessions } : {}) };
      // The metadata goes last: a backup without it never finished, and a retry writes it again.
      await options.store.put(metadataKey(backupId), JSON.stringify(backup, null, 2) + '\n', 'application/json');
      return { backup, reused: false };
    },

    async listBackups(sourceInstanceId) {
      const keys = (await options.store.list(`${prefix}/`)).filter((key) => key.endsWith('/metadata.json'));
      const backups: CacheBackup[] = [];
      for (const key of keys) {
        const backup = await readMetadata(key.slice(prefix.length + 1, -'/metadata.json'.length));
        if (backup && (!sourceInstanceId || backup.sourceInstanceId === sourceInstanceId)) backups.push(backup);
      }
      return backups.sort((a, b) => a.takenAt.localeCompare(b.takenAt));
    },

    describeBackup: backupOf,

    async restoreBackupToNewInstance(input, opts = {}) {
      assertInstanceId(input.instanceId);
      const backup = await backupOf(input.backupId);
      if (backup.kind === 'sessions') throw new PlatformRequestError(`cache backup "${backup.backupId}" is a session export: restore it into a running instance with restoreSessions`);
      const existing = await existingFor(input.instanceId, backup.backupId);
      if (existing) return { instance: await describe(existing), backupId: backup.backupId, reused: true };
      // Everything that can refuse the restore runs before anything is created.
      const files = await downloadVerified(backup, opts);
      return building(input.instanceId, opts, async (o) => {
        const dir = path.join(instancesDirOf(options.stateDir), input.instanceId);
        const appendonly = backup.kind === 'aof';
        await registry.update(input.instanceId, () => ({
          instanceId: input.instanceId, port: 0, passwordFile: passwordFileOf(dir), dir, appendonly, status: 'creating',
          origin: { kind: 'backup', backupId: backup.backupId, backupKind: backup.kind as 'rdb' | 'aof', sourceInstanceId: backup.sourceInstanceId },
          protected: false, createdAt: new Date().toISOString(),
        }));
        writeDataFiles(dir, files);
        // A new password for a new instance: the cutover hands it to the application with the endpoint.
        writeFileSync(passwordFileOf(dir), randomBytes(24).toString('base64url') + '\n', { mode: 0o600 });
        o.onProgress?.({ phase: 'starting', message: `redis-server loading the ${backup.kind.toUpperCase()} backup "${backup.backupId}"` });
        // RDB: appendonly stays off at the first start; with it on, Redis would ignore dump.rdb and start empty.
        const started = await startRedisServer({
          dir, password: readFileSync(passwordFileOf(dir), 'utf8').trim(), appendonly, timeoutMs: loadTimeoutMs, signal: o.signal,
          onLoading: (message) => o.onProgress?.({ phase: 'loading', message }),
        }).catch((error: Error) => {
          if (o.signal?.aborted) throw error;
          throw new PlatformVerificationError(`restore of cache backup "${backup.backupId}" into "${input.instanceId}" failed: ${error.message}; the half-built instance is removed`);
        });
        const done = await registry.update(input.instanceId, (current) => current && { ...current, port: started.port, status: 'available' });
        return { instance: await describe(done!), backupId: backup.backupId, reused: false };
      });
    },

    async verifyInstance(input, opts = {}) {
      const backup = await backupOf(input.backupId);
      const r = record(input.instanceId);
      opts.onProgress?.({ phase: 'verifying', message: `comparing "${input.instanceId}" with backup "${backup.backupId}"` });
      const pong = await ping(r);
      const problems: string[] = [];
      if (pong !== 'PONG') {
        problems.push(`PING answered ${pong}`);
        return { instanceId: r.instanceId, backupId: backup.backupId, ok: false, ping: pong, keyspace: [], sample: { checked: 0, matched: 0, expiredSinceBackup: 0, mismatches: [] }, problems };
      }
      let keyspace: CacheVerification['keyspace'] = [];
      if (backup.kind !== 'sessions') {
        // A session restore writes into an instance that holds other keys too: only its sample is compared.
        const actual = await withRedis(targetOf(r), keyspaceOf);
        const dbs = [...new Set([...backup.keyspace.map((k) => k.db), ...actual.map((k) => k.db)])].sort((a, b) => a - b);
        keyspace = dbs.map((db) => {
          const want = backup.keyspace.find((k) => k.db === db) ?? { db, keys: 0, expires: 0 };
          const have = actual.find((k) => k.db === db) ?? { db, keys: 0, expires: 0 };
          const ok = have.keys - have.expires === want.keys - want.expires && have.expires <= want.expires;
          if (!ok) problems.push(`db${db} holds ${have.keys} keys (${have.expires} with a TTL), the backup ${want.keys} (${want.expires} with a TTL)`);
          return { db, expectedKeys: want.keys, actualKeys: have.keys, expectedExpires: want.expires, actualExpires: have.expires, ok };
        });
      }
      const sample = await checkSample(r, backup.sample, opts);
      for (const m of sample.mismatches.slice(0, 10)) problems.push(`db${m.db} key "${m.key}" ${m.problem}`);
      if (sample.mismatches.length > 10) problems.push(`and ${sample.mismatches.length - 10} more sampled keys differ`);
      return { instanceId: r.instanceId, backupId: backup.backupId, ok: problems.length === 0, ping: pong, keyspace, sample, problems };
    },

    async restoreSessions(input, opts = {}) {
      const backup = await backupOf(input.backupId);
      if (backup.kind !== 'sessions' || !backup.sessions) throw new PlatformRequestError(`cache backup "${backup.backupId}" is an ${backup.kind.toUpperCase()} backup, not a session export: restore it into a new instance with restoreBackupToNewInstance`);
      const existing = input.existing ?? 'keep';
      if (existing !== 'keep' && existing !== 'replace') throw new PlatformRequestError(`existing "${String(existing)}" is not valid: use 'keep' or 'replace'`);
      const r = await available(input.instanceId, 'a session restore');
      const files = await downloadVerified(backup, opts);
      let sessions: SessionExport;
      try {
        sessions = JSON.parse(files.get('sessions.json')!.toString('utf8')) as SessionExport;
      } catch {
        throw new BackupIntegrityError(`backup "${backup.backupId}": sessions.json is not valid JSON`, objectKey(backup.backupId, 'sessions.json'));
      }
      opts.onProgress?.({ phase: 'restoring', message: `writing ${Object.keys(sessions).length} sessions into "${r.instanceId}"` });
      const counts = await withRedis(targetOf(r), (redis) => restoreSessions(redis, sessions, { db: backup.sessions!.db, existing, exportedAtMs: Date.parse(backup.takenAt) }, { signal: opts.signal, onKeys: (n) => opts.onProgress?.({ phase: 'restoring', keysDone: n }) }));
      return { instanceId: r.instanceId, backupId: backup.backupId, ...counts };
    },

    async deleteInstance(instanceId, opts = {}) {
      const r = registry.get(instanceId);
      if (!r) return { deleted: false };
      if (r.protected) throw new PlatformRequestError(`cache instance "${instanceId}" is protected (it is an enrolled instance): a runbook never deletes it`);
      opts.onProgress?.({ phase: 'stopping' });
      await discard(r);
      return { deleted: true };
    },

    async waitUntilAvailable(instanceId, opts = {}) {
      const timeoutMs = opts.timeoutMs ?? 5 * 60_000;
      const deadline = Date.now() + timeoutMs;
      await startIfStopped(record(instanceId), opts);
      for (;;) {
        const r = record(instanceId);
        const description = await describe(r);
        if (description.status === 'available' && description.acceptingConnections) return description;
        opts.signal?.throwIfAborted();
        if (Date.now() > deadline) {
          throw new PlatformVerificationError(`cache instance "${instanceId}" is not available after ${timeoutMs / 1000} s (status ${description.status}, accepting connections: ${description.acceptingConnections})${r.dir ? `; its log ends with:\n${tailOf(logFileOf(r.dir))}` : ''}`);
        }
        await sleep(250);
      }
    },

    connectionFor(instanceId) {
      const r = registry.get(instanceId);
      if (!r) return undefined;
      return { host: '127.0.0.1', port: r.port, tls: false, password: readFileSync(r.passwordFile, 'utf8').trim() };
    },
  };
}
