import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../contracts/failure-types';
import { buildKey, portOperation } from './port-operation';
import { instanceIdFor } from './platform-activities';
import type {
  CacheBackup,
  CacheBackupKind,
  CacheInstanceDescription,
  CacheInstanceId,
  CacheOperationProgress,
  CachePlatform,
  SessionRestoreResult,
} from './ports/cache-platform';

/** What a workflow learns of a cache backup: no sampled keys (a session key is a credential). */
export interface CacheBackupSummary extends Pick<CacheBackup, 'backupId' | 'kind' | 'sourceInstanceId' | 'takenAt' | 'engineVersion' | 'keyspace' | 'totalBytes'> {
  /** Keys in the backup, every database. */
  keys: number;
  objects: number;
  sampled: number;
  sessions?: { pattern: string; db: number; exported: number; skipped: number };
}

/** A verification as the timeline and the report may show it: session keys masked. */
export interface CacheVerificationSummary {
  instanceId: CacheInstanceId;
  backupId: string;
  ok: boolean;
  ping: string;
  keyspace: Array<{ db: number; expectedKeys: number; actualKeys: number; expectedExpires: number; actualExpires: number; ok: boolean }>;
  sample: { checked: number; matched: number; expiredSinceBackup: number; mismatched: number };
  problems: string[];
}

export interface CacheActivitiesWiring {
  cache: CachePlatform;
  /** The application's session keys (config cache.sessions): they are masked in everything a workflow sees. */
  sessions: { pattern: string; db: number };
}

/**
 * The id of the cache instance a workflow step builds: the same on every retry, different for every
 * workflow and step, and within ElastiCache's 40 characters (no two dashes in a row, as instanceIdFor makes them).
 */
export function cacheInstanceIdFor(workflowId: string, step: string): CacheInstanceId {
  const id = instanceIdFor(workflowId, step);
  return id.length <= 40 ? id : `${id.slice(0, 31).replace(/-+$/, '')}${id.slice(-9)}`;
}

/** A Redis glob (SCAN MATCH) as a regular expression: * ? and [...] as Redis reads them. */
export function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '\\' && i + 1 < glob.length) out += `\\${glob[++i]}`;
    else if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) out += '\\[';
      else {
        out += `[${glob.slice(i + 1, end)}]`;
        i = end;
      }
    } else out += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp(`^${out}$`, 's');
}

/** "session:…3fa2c1d0": a session key is a credential, so only its literal prefix and a digest are shown. */
export function maskKeys(text: string, sessions: { pattern: string }): string {
  const pattern = globToRegExp(sessions.pattern);
  const prefix = /^[^*?[\\]*/.exec(sessions.pattern)![0];
  return text.replace(/key "((?:[^"\\]|\\.)*)"/g, (whole, key: string) => (pattern.test(key) ? `key "${prefix}…${createHash('sha256').update(key).digest('hex').slice(0, 8)}"` : whole));
}

export function summariseCacheBackup(backup: CacheBackup): CacheBackupSummary {
  return {
    backupId: backup.backupId,
    kind: backup.kind,
    sourceInstanceId: backup.sourceInstanceId,
    takenAt: backup.takenAt,
    engineVersion: backup.engineVersion,
    keyspace: backup.keyspace,
    keys: backup.keyspace.reduce((sum, k) => sum + k.keys, 0),
    totalBytes: backup.totalBytes,
    objects: backup.objects.length,
    sampled: backup.sample.length,
    ...(backup.sessions ? { sessions: { pattern: backup.sessions.pattern, db: backup.sessions.db, exported: backup.sessions.exported, skipped: backup.sessions.skipped.length } } : {}),
  };
}

const checking: CacheOperationProgress = { phase: 'checking' };

/** The newest backup of a kind taken at or before a time (default: any), oldest-first lists as the port gives them. */
export function newestCacheBackup(backups: readonly CacheBackup[], kind: CacheBackupKind, asOf?: string): CacheBackup | undefined {
  const limit = asOf ? Date.parse(asOf) : Infinity;
  return backups.filter((b) => b.kind === kind && Date.parse(b.takenAt) <= limit).at(-1);
}

/** Activities over the CachePlatform port; results carry ids, counts and endpoints, never a password or a session key. */
export function createCacheActivities({ cache, sessions }: CacheActivitiesWiring) {
  const refuse = (type: string, message: string) => ApplicationFailure.create({ type, message, nonRetryable: true });

  function assertKind(kind: CacheBackupKind): void {
    if (!cache.backupKinds.includes(kind)) throw refuse(FailureType.InvalidInput, `kind: this cache platform takes ${cache.backupKinds.join(', ')} backups, not ${kind}`);
  }

  return {
    /** The backup a recovery restores: the one named, or the newest of its kind of that instance (at or before `asOf`). */
    async findCacheBackup(input: { cache: CacheInstanceId; kind: CacheBackupKind; backupId?: string; asOf?: string }): Promise<CacheBackupSummary> {
      return portOperation(checking, async () => {
        assertKind(input.kind);
        if (input.backupId) {
          const backup = await cache.describeBackup(input.backupId);
          if (backup.kind !== input.kind || backup.sourceInstanceId !== input.cache) {
            throw refuse(FailureType.InvalidInput, `backupId: cache backup "${input.backupId}" is an ${backup.kind} backup of "${backup.sourceInstanceId}", not an ${input.kind} backup of "${input.cache}"`);
          }
          return summariseCacheBackup(backup);
        }
        const newest = newestCacheBackup(await cache.listBackups(input.cache), input.kind, input.asOf);
        if (!newest) throw refuse(FailureType.NoBackup, `cache "${input.cache}" has no ${input.kind} backup${input.asOf ? ` taken at or before ${input.asOf}` : ''}: take one, or recover from another kind; nothing was built`);
        return summariseCacheBackup(newest);
      });
    },

    /** Takes a backup (RDB: BGSAVE; AOF: the append-only directory; sessions: the export) and stores it with its metadata. */
    async takeCacheBackup(input: { cache: CacheInstanceId; kind: CacheBackupKind; backupId: string }): Promise<CacheBackupSummary> {
      return portOperation(checking, async (o) => {
        assertKind(input.kind);
        const result = await cache.takeBackup({ backupId: input.backupId, sourceInstanceId: input.cache, kind: input.kind, ...(input.kind === 'sessions' ? { sessions } : {}) }, o);
        return summariseCacheBackup(result.backup);
      });
    },

    /** Restores an RDB or AOF backup into a NEW instance, keyed by the workflow and step. */
    async restoreCacheBackup(input: { backupId: string; step?: string }): Promise<{ instance: CacheInstanceDescription; backupId: string; reused: boolean }> {
      const key = buildKey(input.step);
      const instanceId = cacheInstanceIdFor(key.workflowId, key.step);
      return portOperation(checking, (o) => cache.restoreBackupToNewInstance({ instanceId, backupId: input.backupId }, o));
    },

    async waitUntilCacheAvailable(input: { instanceId: CacheInstanceId; timeoutSeconds?: number }): Promise<CacheInstanceDescription> {
      return portOperation(checking, (o) => cache.waitUntilAvailable(input.instanceId, { ...o, timeoutMs: (input.timeoutSeconds ?? 300) * 1000 }));
    },

    async describeCacheInstance(input: { instanceId: CacheInstanceId }): Promise<CacheInstanceDescription> {
      return portOperation(checking, () => cache.describeInstance(input.instanceId));
    },

    /** PING, keys per database against the backup's metadata, the sampled keys' types, values and expiry. */
    async verifyCacheInstance(input: { instanceId: CacheInstanceId; backupId: string }): Promise<CacheVerificationSummary> {
      return portOperation(checking, async (o) => {
        const v = await cache.verifyInstance(input, o);
        return {
          instanceId: v.instanceId,
          backupId: v.backupId,
          ok: v.ok,
          ping: v.ping,
          keyspace: v.keyspace.map((k) => ({ db: k.db, expectedKeys: k.expectedKeys, actualKeys: k.actualKeys, expectedExpires: k.expectedExpires, actualExpires: k.actualExpires, ok: k.ok })),
          sample: { checked: v.sample.checked, matched: v.sample.matched, expiredSinceBackup: v.sample.expiredSinceBackup, mismatched: v.sample.mismatches.length },
          problems: v.problems.map((p) => maskKeys(p, sessions)),
        };
      });
    },

    /** Writes a session export into a running instance; expired sessions are skipped, the others keep their expiry time. */
    async restoreCacheSessions(input: { instanceId: CacheInstanceId; backupId: string; existing?: 'keep' | 'replace' }): Promise<SessionRestoreResult> {
      return portOperation(checking, (o) => cache.restoreSessions(input, o));
    },

    async deleteCacheInstance(input: { instanceId: CacheInstanceId }): Promise<{ deleted: boolean }> {
      return portOperation(checking, (o) => cache.deleteInstance(input.instanceId, o));
    },
  };
}

export type CacheActivities = ReturnType<typeof createCacheActivities>;
