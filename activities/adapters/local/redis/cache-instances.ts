import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { isListening } from '../../../../lib/ports';
import type { CacheInstanceDescription, CacheInstanceId, CacheOperationOptions } from '../../../ports/cache-platform';
import { assertInstanceId, PlatformRequestError } from '../../../ports/database-platform';
import { instancesDirOf, passwordOf, recordOf, registryOf, scratchDirOf, targetOf, type CacheContext, type CacheInstanceRecord, type LocalCachePlatformOptions } from './cache-context';
import { keyspaceOf, redisInfo, withRedis } from './redis-client';
import { runningRedisPid, startRedisServer, stopRedisServer } from './redis-server';

// The instances the cache platform knows: enrolled ones (production, run by someone else) and the ones
// it builds from backups, their state as the server reports it, and the retry rule of a build. Instance
// ids come from the caller, derived from the workflow and step: a retry finds what came before.

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

/** The instance as the platform records it, and what its server says while it answers. */
export async function describeRecord(r: CacheInstanceRecord): Promise<CacheInstanceDescription> {
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

/** The instance, refused unless it is available and answering: `what` says what needs it. */
export async function availableRecord(ctx: CacheContext, instanceId: CacheInstanceId, what: string): Promise<CacheInstanceRecord> {
  const r = recordOf(ctx, instanceId);
  if (r.status !== 'available' || !(await describeRecord(r)).acceptingConnections) throw new PlatformRequestError(`cache instance "${instanceId}" is not available (status ${r.status}): ${what} needs it running`);
  return r;
}

/** The retry rule: the same request finds its built instance; a half-built one is removed; another request's id is refused. */
export async function existingFor(ctx: CacheContext, instanceId: CacheInstanceId, backupId: string): Promise<CacheInstanceRecord | undefined> {
  const found = ctx.registry.get(instanceId);
  if (!found) {
    const dir = path.join(instancesDirOf(ctx.stateDir), instanceId);
    if (existsSync(dir)) { await stopRedisServer(dir, 'kill'); rmSync(dir, { recursive: true, force: true }); }
    return undefined;
  }
  if (found.protected || found.origin.kind !== 'backup' || found.origin.backupId !== backupId) {
    throw new PlatformRequestError(`cache instance "${instanceId}" already exists and was built for another request (${JSON.stringify(found.origin)}); choose another instance id`);
  }
  if (found.status === 'available') return found;
  await discard(ctx, found);
  return undefined;
}

/** Stops whatever an earlier attempt left building this instance, and removes it. */
export async function discard(ctx: CacheContext, r: CacheInstanceRecord): Promise<void> {
  await ctx.builds.stop(r.instanceId);
  await ctx.registry.update(r.instanceId, (current) => current && { ...current, status: 'deleting' });
  if (r.dir) {
    await stopRedisServer(r.dir, 'kill');
    rmSync(r.dir, { recursive: true, force: true });
  }
  await ctx.registry.remove(r.instanceId);
}

/** Runs an operation that builds an instance; on failure or cancellation the half-built instance is removed. */
export function building<T>(ctx: CacheContext, instanceId: CacheInstanceId, opts: CacheOperationOptions, fn: (o: CacheOperationOptions) => Promise<T>): Promise<T> {
  return ctx.builds.run(instanceId, opts.signal, (signal) => fn({ ...opts, signal }), async () => {
    const half = ctx.registry.get(instanceId);
    if (half && half.status !== 'available') await discard(ctx, half);
  });
}

/** A built instance whose server is down (the stack was stopped, the machine rebooted) is started again. */
export async function startIfStopped(ctx: CacheContext, r: CacheInstanceRecord, opts: CacheOperationOptions): Promise<void> {
  if (r.status !== 'available' || r.protected || !r.dir || runningRedisPid(r.dir)) return;
  const port = (await isListening(r.port)) ? undefined : r.port;
  const started = await startRedisServer({ dir: r.dir, password: passwordOf(r), appendonly: r.appendonly ?? false, port, timeoutMs: ctx.loadTimeoutMs, signal: opts.signal });
  await ctx.registry.update(r.instanceId, (current) => current && { ...current, port: started.port });
}
