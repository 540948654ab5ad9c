import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createBuildTracker } from '../../../../lib/build-tracker';
import { JsonRegistry } from '../../../../lib/json-registry';
import type { CacheInstanceId, CacheInstanceOrigin } from '../../../ports/cache-platform';
import { PlatformRequestError } from '../../../ports/database-platform';
import type { ObjectStore } from '../../../ports/object-store';
import type { RedisTarget } from './redis-client';

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
export interface CacheInstanceRecord {
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

export const registryOf = (stateDir: string) => new JsonRegistry<CacheInstanceRecord>(path.join(stateDir, 'instances.json'));
export const instancesDirOf = (stateDir: string) => path.join(stateDir, 'instances');
export const scratchDirOf = (stateDir: string) => path.join(stateDir, 'scratch');

/** What the cache platform's parts share: where things are, and the builds this worker is running. */
export interface CacheContext {
  stateDir: string;
  store: ObjectStore;
  registry: JsonRegistry<CacheInstanceRecord>;
  /** Object key prefix of every backup. */
  prefix: string;
  loadTimeoutMs: number;
  builds: ReturnType<typeof createBuildTracker>;
}

export function cacheContext(options: LocalCachePlatformOptions): CacheContext {
  return {
    stateDir: options.stateDir,
    store: options.store,
    registry: registryOf(options.stateDir),
    prefix: options.keyPrefix ?? 'cache-backups',
    loadTimeoutMs: options.loadTimeoutMs ?? 10 * 60_000,
    builds: createBuildTracker(),
  };
}

/** Where a platform's backups are kept: what the backup objects, the session export and its restore need (any platform's). */
export type BackupStore = Pick<CacheContext, 'store' | 'prefix'>;

export const metadataKey = (ctx: BackupStore, backupId: string) => `${ctx.prefix}/${backupId}/metadata.json`;
export const objectKey = (ctx: BackupStore, backupId: string, name: string) => `${ctx.prefix}/${backupId}/${name}`;

export function recordOf(ctx: CacheContext, instanceId: CacheInstanceId): CacheInstanceRecord {
  const found = ctx.registry.get(instanceId);
  if (!found) throw new PlatformRequestError(`cache instance "${instanceId}" does not exist (known: ${ctx.registry.all().map((r) => r.instanceId).join(', ') || 'none'})`);
  return found;
}

export const passwordOf = (r: CacheInstanceRecord) => readFileSync(r.passwordFile, 'utf8').trim();
export const targetOf = (r: CacheInstanceRecord, db = 0): RedisTarget => ({ host: '127.0.0.1', port: r.port, password: passwordOf(r), db });
