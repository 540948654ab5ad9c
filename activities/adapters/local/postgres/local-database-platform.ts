import path from 'node:path';
import { sleep } from '../../../../lib/child-process';
import {
  assertInstanceId,
  PlatformRequestError,
  PlatformVerificationError,
  type DatabasePlatform,
  type InstanceConnection,
  type InstanceOrigin,
  type PointInTimeRestoreResult,
  type RecoveryPoint,
} from '../../../ports/database-platform';
import { superuser } from './cluster';
import { CommandAbortedError, CommandFailedError } from './cluster-user-command';
import { dataDirOf, logTail, stopPostmaster } from './cluster-files';
import { planRestore, restorePoints, saveRestorePoint, validateTarget } from './backup-selection';
import { accepting, describeRecord, passwordOf, withClient } from './instance-access';
import { build, building, discard, existingFor, finish, startIfStopped } from './instance-builder';
import { runPgBackRest, stanzaInfo } from './pgbackrest';
import { platformContext, recordOf, stanzaPrimaryOf } from './platform-context';
import { endSession, promote, recoveryState, verifyRecoveryPoint, waitForRecovery, type RecoverySession } from './recovery';
import type { LocalPlatformOptions } from './stanza';

export { enrolPrimaryInstance, pgBackRestSetupOf, prepareStanzaPrimary, stopPlatformInstances, type LocalPlatformOptions } from './stanza';

/** The local DatabasePlatform: PostgreSQL 15 clusters on loopback ports, backups and WAL by pgBackRest. */
export function createLocalDatabasePlatform(options: LocalPlatformOptions): DatabasePlatform {
  const ctx = platformContext(options);
  const { setup, registry, recoveryTimeoutMs } = ctx;
  const record = (instanceId: string) => recordOf(ctx, instanceId);
  const describe = (r: Parameters<typeof describeRecord>[1]) => describeRecord(registry, r);

  return {
    async describeInstance(instanceId) {
      return describe(record(instanceId));
    },

    async listBackups(sourceInstanceId) {
      stanzaPrimaryOf(ctx, sourceInstanceId);
      return (await stanzaInfo(setup)).backups;
    },

    async takeBackup(input, opts = {}) {
      const source = stanzaPrimaryOf(ctx, input.sourceInstanceId);
      if (!(await accepting(source))) throw new PlatformRequestError(`instance "${source.instanceId}" is not accepting connections: a backup needs it running`);
      const before = new Set((await stanzaInfo(setup, opts.signal)).backups.map((b) => b.label));
      opts.onProgress?.({ phase: 'backing-up', message: `pgbackrest backup --type=${input.type}` });
      await runPgBackRest(setup, 'backup', [`--type=${input.type}`, `--process-max=${setup.processMax}`], { signal: opts.signal });
      const made = (await stanzaInfo(setup, opts.signal)).backups.filter((b) => !before.has(b.label)).at(-1);
      if (!made) throw new PlatformVerificationError('pgbackrest backup succeeded but no new backup set is listed by pgbackrest info');
      return made;
    },

    async verifyBackups(sourceInstanceId, opts = {}) {
      stanzaPrimaryOf(ctx, sourceInstanceId);
      opts.onProgress?.({ phase: 'verifying', message: 'pgbackrest verify' });
      const run = await runPgBackRest(setup, 'verify', ['--output=text', '--verbose', `--process-max=${setup.processMax}`], { signal: opts.signal }).then(
        (result) => ({ ok: true, report: result.stdout }),
        (error: unknown) => {
          if (error instanceof CommandFailedError) return { ok: false, report: error.stderr || error.message };
          throw error;
        },
      );
      return { stanza: setup.stanza, ok: run.ok && !/status: error/.test(run.report), report: run.report.trim() };
    },

    async createRestorePoint(input, opts = {}) {
      const source = stanzaPrimaryOf(ctx, input.sourceInstanceId);
      if (!/^[\w.:-]{1,63}$/.test(input.name)) throw new PlatformRequestError(`restore point name "${input.name}" is not valid (1-63 of letters, digits, _ . : -)`);
      const known = restorePoints(ctx)[input.name];
      if (known) return known;
      if (!(await accepting(source))) throw new PlatformRequestError(`instance "${source.instanceId}" is not accepting connections: a restore point is written by the running primary`);
      const point = await withClient(source, async (c) => {
        const row = (await c.query<{ lsn: string; at: Date }>('SELECT pg_create_restore_point($1)::text AS lsn, clock_timestamp() AS at', [input.name])).rows[0]!;
        return { sourceInstanceId: source.instanceId, name: input.name, lsn: row.lsn, createdAt: row.at.toISOString() };
      });
      saveRestorePoint(ctx, point);
      // Archive the segment holding it now, so a restore to it can start at once.
      opts.onProgress?.({ phase: 'checking', message: 'archiving the WAL that holds the restore point' });
      await runPgBackRest(setup, 'check', [], { signal: opts.signal });
      return point;
    },

    async restoreBackupToNewInstance(input, opts = {}) {
      assertInstanceId(input.instanceId);
      const source = stanzaPrimaryOf(ctx, input.sourceInstanceId);
      const { backups } = await stanzaInfo(setup, opts.signal);
      const backup = input.backupLabel ? backups.find((b) => b.label === input.backupLabel) : backups.at(-1);
      if (!backup) throw new PlatformRequestError(input.backupLabel ? `backup set "${input.backupLabel}" is not in stanza "${setup.stanza}" (have: ${backups.map((b) => b.label).join(', ') || 'none'})` : `stanza "${setup.stanza}" has no backup yet`);
      const origin: InstanceOrigin = { kind: 'backup', sourceInstanceId: source.instanceId, backupLabel: backup.label };
      const existing = await existingFor(ctx, input.instanceId, (o) => o.kind === 'backup' && o.sourceInstanceId === source.instanceId && (!input.backupLabel || o.backupLabel === input.backupLabel));
      if (existing) return { instance: await describe(existing), backupLabel: (existing.origin as { backupLabel: string }).backupLabel, reused: true };
      return building(ctx, input.instanceId, opts, async (o) => {
        const { r } = await build(ctx, input.instanceId, source, { kind: 'backup', backup }, origin, o);
        await waitForRecovery(r, (s) => !s.in_recovery, o, 'the end of recovery', recoveryTimeoutMs);
        const done = await finish(ctx, input.instanceId);
        return { instance: await describe(done), backupLabel: backup.label, reused: false };
      });
    },

    async restoreToPointInTime(input, opts = {}): Promise<PointInTimeRestoreResult> {
      assertInstanceId(input.instanceId);
      const target = validateTarget(input.target);
      const source = stanzaPrimaryOf(ctx, input.sourceInstanceId);
      const existing = await existingFor(ctx, input.instanceId, (o) => o.kind === 'pointInTime' && o.sourceInstanceId === source.instanceId && JSON.stringify(o.target) === JSON.stringify(target));
      if (existing) {
        const saved = existing.recovery ?? { recoveredTo: { lsn: '' } };
        return { instance: await describe(existing), backupLabel: (existing.origin as { backupLabel: string }).backupLabel, reused: true, target, ...saved };
      }
      // What can refuse the request without the newest WAL runs before anything is created; the archive
      // is sealed while the backup set's files are copied (archiveReady: before the replay starts).
      const { backup, archiveReady } = await planRestore(ctx, source, target, opts);
      const origin: InstanceOrigin = { kind: 'pointInTime', sourceInstanceId: source.instanceId, backupLabel: backup.label, target };
      return building(ctx, input.instanceId, opts, async (o) => {
        const { r } = await build(ctx, input.instanceId, source, { kind: 'pointInTime', backup, target }, origin, o, archiveReady);
        let recovery: { recoveredTo: RecoveryPoint; dataLossWindowSeconds?: number };
        const session: RecoverySession = {};
        try {
          if (target.kind === 'latest') {
            await waitForRecovery(r, (s) => !s.in_recovery, o, 'the end of the archived WAL', recoveryTimeoutMs, session);
            recovery = await verifyRecoveryPoint(r, target, session);
          } else {
            const paused = await waitForRecovery(r, (s) => !s.in_recovery || s.pause_state === 'paused', o, 'the recovery target', recoveryTimeoutMs, session);
            if (!paused.in_recovery) throw new PlatformVerificationError(`point-in-time restore "${input.instanceId}" ended recovery without pausing at its target ${JSON.stringify(target)} (it went to the end of WAL: pgbackrest#1582); the instance is removed`);
            o.onProgress?.({ phase: 'verifying', replayLsn: paused.replay_lsn ?? undefined });
            recovery = await verifyRecoveryPoint(r, target, session);
            await promote(r, o, 'resume', recoveryTimeoutMs, session);
          }
        } finally {
          await endSession(session);
        }
        const done = await finish(ctx, input.instanceId, { recovery });
        return { instance: await describe(done), backupLabel: backup.label, reused: false, target, ...recovery };
      });
    },

    async createReplica(input, opts = {}) {
      assertInstanceId(input.instanceId);
      const source = stanzaPrimaryOf(ctx, input.sourceInstanceId);
      const existing = await existingFor(ctx, input.instanceId, (o) => o.kind === 'replica' && o.sourceInstanceId === source.instanceId);
      if (existing) return { instance: await describe(existing), backupLabel: (existing.origin as { backupLabel: string }).backupLabel, reused: true };
      const backup = (await stanzaInfo(setup, opts.signal)).backups.at(-1);
      if (!backup) throw new PlatformRequestError(`stanza "${setup.stanza}" has no backup yet: a replica is built from the newest backup; take one first`);
      const origin: InstanceOrigin = { kind: 'replica', sourceInstanceId: source.instanceId, backupLabel: backup.label };
      return building(ctx, input.instanceId, opts, async (o) => {
        const { r } = await build(ctx, input.instanceId, source, { kind: 'replica', backup }, origin, o);
        const deadline = Date.now() + recoveryTimeoutMs;
        while (!(await describe(r)).replication?.streaming) {
          if (o.signal?.aborted) throw new CommandAbortedError('cancelled while waiting for the replica to stream');
          if (Date.now() > deadline) throw new PlatformVerificationError(`replica "${input.instanceId}" did not start streaming from "${source.instanceId}"; its log ends with:\n${logTail(path.join(r.dir, 'postgres.log'))}`);
          o.onProgress?.({ phase: 'replaying', message: 'waiting for streaming replication' });
          await sleep(250);
        }
        const done = await finish(ctx, input.instanceId);
        return { instance: await describe(done), backupLabel: backup.label, reused: false };
      });
    },

    async promoteReplica(instanceId, opts = {}) {
      const r = record(instanceId);
      if (r.status !== 'available') throw new PlatformRequestError(`instance "${instanceId}" is ${r.status}, not available: it cannot be promoted`);
      if (!(await accepting(r))) throw new PlatformRequestError(`instance "${instanceId}" is not accepting connections`);
      const state = await recoveryState(r);
      if (state.in_recovery) await promote(r, opts, state.pause_state === 'paused' ? 'resume' : 'promote', recoveryTimeoutMs);
      return describe((await registry.update(instanceId, (current) => current && { ...current, role: 'primary' }))!);
    },

    async deleteInstance(instanceId, opts = {}) {
      const r = registry.get(instanceId);
      if (!r) return { deleted: false };
      if (r.protected) throw new PlatformRequestError(`instance "${instanceId}" is protected (it is the enrolled ${r.stanza ? `primary of stanza "${r.stanza}"` : 'instance'}): a runbook never deletes it`);
      opts.onProgress?.({ phase: 'stopping' });
      await registry.update(instanceId, (current) => current && { ...current, status: 'deleting' });
      await stopPostmaster(dataDirOf(r.dir), 'fast');
      await discard(ctx, r);
      return { deleted: true };
    },

    async waitUntilAvailable(instanceId, opts = {}) {
      const deadline = Date.now() + (opts.timeoutMs ?? 5 * 60_000);
      await startIfStopped(ctx, record(instanceId));
      for (;;) {
        const description = await describe(record(instanceId));
        if (description.status === 'available' && description.acceptingConnections) return description;
        if (opts.signal?.aborted) throw new CommandAbortedError(`cancelled while waiting for "${instanceId}"`);
        if (Date.now() > deadline) throw new PlatformVerificationError(`instance "${instanceId}" is not available after ${(opts.timeoutMs ?? 300_000) / 1000} s (status ${description.status}, accepting connections: ${description.acceptingConnections})`);
        await sleep(500);
      }
    },

    async connectionFor(instanceId): Promise<InstanceConnection | undefined> {
      const r = registry.get(instanceId);
      if (!r) return undefined;
      return { host: '127.0.0.1', port: r.port, database: r.database, user: superuser, password: passwordOf(r) };
    },
  };
}
