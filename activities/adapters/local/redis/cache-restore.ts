import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BackupIntegrityError } from '../../../ports/backup-integrity-error';
import type { CacheBackup, CacheOperationOptions, CachePlatform, CacheRestoreResult, SessionRestoreResult } from '../../../ports/cache-platform';
import { assertInstanceId, PlatformRequestError, PlatformVerificationError } from '../../../ports/database-platform';
import { backupOf, downloadVerified, writeDataFiles } from './backup-objects';
import { instancesDirOf, objectKey, targetOf, type BackupStore, type CacheContext } from './cache-context';
import { availableRecord, building, describeRecord, existingFor } from './cache-instances';
import { withRedis, type RedisTarget } from './redis-client';
import { passwordFileOf, startRedisServer } from './redis-server';
import { restoreSessions, type SessionExport } from './session-export';

// Restoring a cache backup: an RDB or AOF backup into a new instance of its own, or a session export
// into a running instance. Every object is checked against the backup's metadata before anything is
// created or written.

export async function restoreToNewInstance(ctx: CacheContext, input: Parameters<CachePlatform['restoreBackupToNewInstance']>[0], opts: CacheOperationOptions): Promise<CacheRestoreResult> {
  assertInstanceId(input.instanceId);
  const backup = await backupOf(ctx, input.backupId);
  if (backup.kind === 'sessions') throw new PlatformRequestError(`cache backup "${backup.backupId}" is a session export: restore it into a running instance with restoreSessions`);
  const existing = await existingFor(ctx, input.instanceId, backup.backupId);
  if (existing) return { instance: await describeRecord(existing), backupId: backup.backupId, reused: true };
  // Everything that can refuse the restore runs before anything is created.
  const files = await downloadVerified(ctx, backup, opts);
  return building(ctx, input.instanceId, opts, async (o) => {
    const dir = path.join(instancesDirOf(ctx.stateDir), input.instanceId);
    const appendonly = backup.kind === 'aof';
    await ctx.registry.update(input.instanceId, () => ({
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
      dir, password: readFileSync(passwordFileOf(dir), 'utf8').trim(), appendonly, timeoutMs: ctx.loadTimeoutMs, signal: o.signal,
      onLoading: (message) => o.onProgress?.({ phase: 'loading', message }),
    }).catch((error: Error) => {
      if (o.signal?.aborted) throw error;
      throw new PlatformVerificationError(`restore of cache backup "${backup.backupId}" into "${input.instanceId}" failed: ${error.message}; the half-built instance is removed`);
    });
    const done = await ctx.registry.update(input.instanceId, (current) => current && { ...current, port: started.port, status: 'available' });
    return { instance: await describeRecord(done!), backupId: backup.backupId, reused: false };
  });
}

export async function restoreSessionExport(ctx: CacheContext, input: Parameters<CachePlatform['restoreSessions']>[0], opts: CacheOperationOptions): Promise<SessionRestoreResult> {
  const backup = await sessionExportOf(ctx, input.backupId);
  const existing = existingRule(input.existing);
  const r = await availableRecord(ctx, input.instanceId, 'a session restore');
  const counts = await writeSessionExport(ctx, backup, targetOf(r), existing, opts, r.instanceId);
  return { instanceId: r.instanceId, backupId: backup.backupId, ...counts };
}

/** A backup that is a session export, or a refusal saying what it is instead. */
export async function sessionExportOf(ctx: BackupStore, backupId: string): Promise<CacheBackup> {
  const backup = await backupOf(ctx, backupId);
  if (backup.kind !== 'sessions' || !backup.sessions) throw new PlatformRequestError(`cache backup "${backup.backupId}" is an ${backup.kind.toUpperCase()} backup, not a session export: restore it into a new instance with restoreBackupToNewInstance`);
  return backup;
}

export function existingRule(existing: 'keep' | 'replace' | undefined): 'keep' | 'replace' {
  if (existing !== undefined && existing !== 'keep' && existing !== 'replace') throw new PlatformRequestError(`existing "${String(existing)}" is not valid: use 'keep' or 'replace'`);
  return existing ?? 'keep';
}

/** Writes a session export (checked against its metadata) into a running Redis: remaining TTLs kept, expired sessions skipped. */
export async function writeSessionExport(ctx: BackupStore, backup: CacheBackup, target: RedisTarget, existing: 'keep' | 'replace', opts: CacheOperationOptions, instanceId: string): Promise<Omit<SessionRestoreResult, 'instanceId' | 'backupId'>> {
  const files = await downloadVerified(ctx, backup, opts);
  let sessions: SessionExport;
  try {
    sessions = JSON.parse(files.get('sessions.json')!.toString('utf8')) as SessionExport;
  } catch {
    throw new BackupIntegrityError(`backup "${backup.backupId}": sessions.json is not valid JSON`, objectKey(ctx, backup.backupId, 'sessions.json'));
  }
  opts.onProgress?.({ phase: 'restoring', message: `writing ${Object.keys(sessions).length} sessions into "${instanceId}"` });
  return withRedis(target, (redis) => restoreSessions(redis, sessions, { db: backup.sessions!.db, existing, exportedAtMs: Date.parse(backup.takenAt) }, { signal: opts.signal, onKeys: (n) => opts.onProgress?.({ phase: 'restoring', keysDone: n }) }));
}
