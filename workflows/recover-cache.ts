import { ApplicationFailure } from '@temporalio/workflow';
import { z } from 'zod';
import type { CacheBackupSummary, CacheVerificationSummary } from '../activities';
import { configName, isoInstant, runbookFields } from '../contracts/inputs';
import { FailureType } from '../contracts/failure-types';
import { runRunbook } from './runbook';
import { bytesText, cacheValidationLines, handOverField, platformId, quickRead, secondsBetween, systemSection } from './recovered-systems';
import { describeRestart, longOperation, validationOperation, type ScenarioRunbook } from './scenario-steps';

export const recoverCacheInput = z
  .strictObject({
    ...runbookFields,
    kind: z.enum(['rdb', 'aof', 'sessions'], { error: 'must be "rdb" (the snapshot, into a new instance), "aof" (the append-only file, into a new instance) or "sessions" (the session export, into the running cache)' }).default('rdb'),
    cache: configName.default('production').describe('the cache the application uses, by its platform instance id: the source of the backups, the target of a session restore'),
    backupId: platformId('a cache backup id').optional().describe('the backup to restore (default: the newest of the kind)'),
    asOf: isoInstant.optional().describe('restore the newest backup of the kind taken at or before this time'),
    sessionsBackupId: platformId('a cache backup id').optional().describe('rdb/aof: also write this session export into the new instance (sessions newer than the snapshot win)'),
    existing: z.enum(['keep', 'replace'], { error: 'must be "keep" (a session already on the cache stays) or "replace"' }).default('keep').describe('sessions: what happens to a session the cache already holds'),
    failedAt: isoInstant.optional().describe('when the cache was lost; the RPO is measured against it (default: declaredAt, else the start)'),
    healthTimeoutSeconds: z.number().int().min(10, 'must be at least 10 seconds').max(3600, 'must be at most 3600 seconds').default(120),
    handOver: handOverField,
  })
  .refine((i) => !(i.backupId && i.asOf), { path: ['asOf'], message: 'give backupId or asOf, not both' })
  .refine((i) => i.kind !== 'sessions' || i.sessionsBackupId === undefined, { path: ['sessionsBackupId'], message: 'is for rdb and aof restores: with kind "sessions", name the export as backupId' })
  .refine((i) => i.kind !== 'sessions' || !i.handOver, { path: ['handOver'], message: 'a session restore writes into the running cache: it is not a part of a larger recovery' });
export type RecoverCacheInput = z.input<typeof recoverCacheInput>;
type CacheRunbook = ScenarioRunbook<z.output<typeof recoverCacheInput>>;

function describeBackup(b: CacheBackupSummary): string {
  return `${b.backupId}, taken ${b.takenAt}: ${b.keys} keys${b.sessions ? ` (${b.sessions.exported} sessions matching ${b.sessions.pattern})` : ''}, ${bytesText(b.totalBytes)} in ${b.objects} object(s)`;
}

function describeVerification(v: CacheVerificationSummary): string {
  const keys = v.keyspace.map((k) => `db${k.db} ${k.actualKeys}/${k.expectedKeys} keys`).join(', ');
  return `PING ${v.ping}${keys ? `, ${keys}` : ''}, sampled keys ${v.sample.matched}/${v.sample.checked} match (${v.sample.expiredSinceBackup} expired since)${v.problems.length ? `: ${v.problems.join('; ')}` : ''}`;
}

function verificationFailed(v: CacheVerificationSummary, what: string): ApplicationFailure {
  return ApplicationFailure.create({ type: FailureType.ValidationFailed, nonRetryable: true, message: `${what} does not match backup ${v.backupId}, so the runbook stops before changing production: ${v.problems.join('; ')}`, details: [v] });
}

/**
 * Redis lost or corrupted (seed 002's Redis recovery): an RDB or AOF backup restored into a NEW instance
 * (AOF: appendonly yes, appendfsync everysec), verified (PING, keys per database against the backup's
 * metadata, sampled keys and their expiry) → approve `cutover` → the application pointed at the new
 * instance through its cache connection secret, restarted, and seen using it. Or the session export
 * written into the running cache with each session's remaining TTL (expired ones dropped), after the
 * gate. RPO: the failure time minus when the backup was cut. A drill restores and verifies the same way
 * and removes what it built; its session restore goes into a copy, never into production.
 */
export async function recoverCache(input: RecoverCacheInput) {
  return runRunbook({ scenario: 'cache', input: recoverCacheInput, gates: ['cutover'] }, input, async (rb: CacheRunbook) => {
    const { kind, cache } = rb.input;
    const drill = rb.mode === 'drill';
    const failedAt = rb.input.failedAt ?? rb.status().rto.declaredAt;
    const backup = await rb.step({
      name: `find the ${kind === 'sessions' ? 'session export' : `${kind.toUpperCase()} backup`} of ${cache}${rb.input.backupId ? ` (${rb.input.backupId})` : rb.input.asOf ? ` taken at or before ${rb.input.asOf}` : ''}`,
      activity: 'findCacheBackup',
      args: [{ cache, kind, ...(rb.input.backupId ? { backupId: rb.input.backupId } : {}), ...(rb.input.asOf ? { asOf: rb.input.asOf } : {}) }],
      affectsProduction: false,
      options: quickRead,
      describe: describeBackup,
    });
    rb.recordRecoveryPoint(backup.takenAt, failedAt);
    const objectives = rb.systemObjectives()?.cache;

    if (kind === 'sessions') {
      const sessions = await restoreSessionsIntoCache(rb, backup);
      const section = systemSection('cache', objectives, {
        recovered: `session export ${backup.backupId} into ${sessions.target}`,
        rtoSeconds: rb.status().rto.elapsedSeconds,
        rpoSeconds: rb.status().rpo.achievedSeconds,
        lines: [`${sessions.result.restored} of ${sessions.result.total} sessions restored with their remaining TTL, ${sessions.result.skippedExpired} expired since the export (not restored), ${sessions.result.skippedExisting} already there (kept)`],
      });
      return { kind, backup, target: sessions.target, sessions: sessions.result, verification: sessions.verification, systems: [section], validation: cacheValidationLines(sessions.verification, sessions.result.skippedExisting), instances: { cache: sessions.target } };
    }

    const restored = await rb.step({
      name: `restore ${kind.toUpperCase()} backup ${backup.backupId} into a new cache instance`,
      activity: 'restoreCacheBackup',
      args: [{ backupId: backup.backupId, step: `restore-${kind}` }],
      affectsProduction: false,
      options: longOperation,
      describe: (r) => `${r.instance.instanceId} on ${r.instance.endpoint.host}:${r.instance.endpoint.port} (${r.instance.engineVersion ?? 'redis'}, AOF ${r.instance.persistence?.aof ? `on, appendfsync ${r.instance.persistence.appendfsync}` : 'off'})`,
      compensate: (r) => ({ name: `delete the restored cache instance ${r.instance.instanceId}`, activity: 'deleteCacheInstance', args: [{ instanceId: r.instance.instanceId }] }),
    });
    const instanceId = restored.instance.instanceId;
    const verification = await rb.step({
      name: `verify ${instanceId} against backup ${backup.backupId} (PING, keys per database, sampled keys)`,
      activity: 'verifyCacheInstance',
      args: [{ instanceId, backupId: backup.backupId }],
      affectsProduction: false,
      options: validationOperation,
      describe: describeVerification,
    });
    if (!verification.ok) throw verificationFailed(verification, `the restored instance ${instanceId}`);
    let sessions;
    if (rb.input.sessionsBackupId) {
      // The export was cut after the snapshot: its sessions are the newer ones.
      sessions = await rb.step({
        name: `write session export ${rb.input.sessionsBackupId} into ${instanceId}`,
        activity: 'restoreCacheSessions',
        args: [{ instanceId, backupId: rb.input.sessionsBackupId, existing: 'replace' }],
        affectsProduction: false,
        options: longOperation,
        describe: (s) => `${s.restored} of ${s.total} sessions with their remaining TTL (${s.replaced} replacing the snapshot's copy), ${s.skippedExpired} expired since the export`,
      });
    }
    const readyAt = new Date().toISOString();
    const validation = cacheValidationLines(verification);
    const part = { kind, backup, instanceId, verification, ...(sessions ? { sessions } : {}), readyAt, validation };
    if (rb.input.handOver) return { ...part, handedOver: rb.handOver() };

    await rb.gate('cutover');
    const section = (rtoSeconds: number, line: string) => systemSection('cache', objectives, {
      recovered: `${kind.toUpperCase()} backup ${backup.backupId} into ${instanceId}`,
      rtoSeconds,
      rpoSeconds: rb.status().rpo.achievedSeconds,
      lines: [`ready (restored and verified) ${secondsBetween(rb.status().rto.declaredAt, readyAt)} s after the incident was declared`, line, ...validation.map((v) => `${v.passed ? '✅' : '❌'} ${v.check}: ${v.detail ?? ''}`)],
    });
    if (drill) {
      rb.cutoverVerified();
      return { ...part, systems: [section(rb.status().rto.elapsedSeconds, 'drill: the application is not moved; the instance is removed')], instances: { restored: instanceId } };
    }
    const pointed = await rb.step({
      name: `point the application's cache at ${instanceId}`,
      activity: 'pointAppAtCache',
      args: [{ instanceId }],
      affectsProduction: true,
      describe: (r) => (r.changed ? `now ${r.current.endpoint}, was ${r.previous?.endpoint ?? 'unset'}` : `already ${r.current.endpoint}`),
    });
    await rb.step({ name: 'restart the application', activity: 'restartApp', args: [], affectsProduction: true, describe: describeRestart });
    const using = await rb.step({
      name: `wait until the application uses the cache ${instanceId}`,
      activity: 'waitUntilAppUsesCache',
      args: [{ instanceId, timeoutSeconds: rb.input.healthTimeoutSeconds }],
      affectsProduction: false,
      options: { startToCloseTimeout: `${rb.input.healthTimeoutSeconds + 30} seconds`, heartbeatTimeout: '10 seconds', retry: { maximumAttempts: 2 } },
      describe: (u) => u.detail,
    });
    rb.cutoverVerified();
    return { ...part, application: { cache: using.address, was: pointed.previous?.endpoint ?? null }, systems: [section(rb.status().rto.elapsedSeconds, `the application uses it: ${using.detail}`)], instances: { restored: instanceId } };
  });
}

/**
 * The session export into the running cache (a drill: into a copy of it restored from its newest RDB
 * backup, removed afterwards), after the gate; then its sampled sessions checked. A session the cache
 * already holds is kept unless `existing` is replace, so those may differ from the export.
 */
async function restoreSessionsIntoCache(rb: CacheRunbook, backup: CacheBackupSummary) {
  const { cache, existing } = rb.input;
  let target: string;
  if (rb.mode === 'drill') {
    const copy = await rb.step({ name: `drill: find the newest RDB backup of ${cache} for a copy to restore the sessions into`, activity: 'findCacheBackup', args: [{ cache, kind: 'rdb' }], affectsProduction: false, options: quickRead, describe: describeBackup });
    const built = await rb.step({
      name: `drill: restore ${copy.backupId} into a new instance (the session restore never writes into production)`,
      activity: 'restoreCacheBackup',
      args: [{ backupId: copy.backupId, step: 'drill-sessions-target' }],
      affectsProduction: false,
      options: longOperation,
      describe: (r) => `${r.instance.instanceId} on ${r.instance.endpoint.host}:${r.instance.endpoint.port}`,
      compensate: (r) => ({ name: `delete the drill copy ${r.instance.instanceId}`, activity: 'deleteCacheInstance', args: [{ instanceId: r.instance.instanceId }] }),
    });
    target = built.instance.instanceId;
  } else {
    const running = await rb.step({ name: `check that ${cache} is running`, activity: 'describeCacheInstance', args: [{ instanceId: cache }], affectsProduction: false, options: quickRead, describe: (d) => `${d.status}, ${d.acceptingConnections ? 'accepting connections' : 'NOT accepting connections'}` });
    if (!running.acceptingConnections) {
      throw ApplicationFailure.create({ type: FailureType.InvalidInput, nonRetryable: true, message: `cache: ${cache} is not accepting connections, so its sessions cannot be written back: recover it from an RDB or AOF backup first (kind "rdb"), then restore the sessions into the new instance; nothing was changed` });
    }
    target = cache;
  }
  await rb.gate('cutover');
  const args = [{ instanceId: target, backupId: backup.backupId, existing }] as [{ instanceId: string; backupId: string; existing: 'keep' | 'replace' }];
  const name = `write session export ${backup.backupId} into ${target} (remaining TTLs kept, expired sessions dropped, existing ones ${existing === 'keep' ? 'kept' : 'replaced'})`;
  const describe = (s: { restored: number; total: number; skippedExpired: number; skippedExisting: number }) => `${s.restored} of ${s.total} restored, ${s.skippedExpired} expired since the export, ${s.skippedExisting} already there`;
  const result = rb.mode === 'drill'
    ? await rb.step({ name, activity: 'restoreCacheSessions', args, affectsProduction: false, options: longOperation, describe })
    : await rb.step({ name, activity: 'restoreCacheSessions', args, affectsProduction: true, options: longOperation, describe });
  const verification = await rb.step({
    name: `verify the sampled sessions on ${target}`,
    activity: 'verifyCacheInstance',
    args: [{ instanceId: target, backupId: backup.backupId }],
    affectsProduction: false,
    options: validationOperation,
    describe: describeVerification,
  });
  // A session the cache already held was kept (or a newer one replaced it meanwhile): those may differ, nothing else.
  if (verification.ping !== 'PONG' || verification.sample.mismatched > result.skippedExisting) throw verificationFailed(verification, `the sessions on ${target}`);
  rb.cutoverVerified();
  return { target, result, verification };
}
