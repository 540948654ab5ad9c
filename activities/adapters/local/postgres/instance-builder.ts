import { chmodSync, copyFileSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sleep } from '../../../../lib/child-process';
import { freePort, isListening } from '../../../../lib/ports';
import { PlatformRequestError, PlatformVerificationError, type BackupSet, type InstanceId, type InstanceOrigin, type OperationOptions, type RecoveryTarget } from '../../../ports/database-platform';
import { giveToClusterUser, ownedByClusterUser, startPostgresCluster, superuser, type PostgresCluster } from './cluster';
import { CommandAbortedError, killProcessGroup, processGroupRuns } from './cluster-user-command';
import { dataDirOf, recoverySettingsFrom, runningPostmaster, stopPostmaster } from './cluster-files';
import { passwordOf } from './instance-access';
import type { InstanceRecord } from './instance-registry';
import { restorePercent, spawnPgBackRest } from './pgbackrest';
import type { PlatformContext } from './platform-context';
import { recoveryFailure } from './recovery';

// Building an instance from a backup set (restore, start), adopting or removing what an earlier attempt
// left, and starting a built instance again after the machine stopped. Instance ids come from the caller,
// derived from the workflow and step: the same id on every retry, so a retry finds what came before.

export type BuildKind =
  | { kind: 'backup'; backup: BackupSet }
  | { kind: 'pointInTime'; backup: BackupSet; target: RecoveryTarget }
  | { kind: 'replica'; backup: BackupSet };

/**
 * A built instance whose server is down (the stack was stopped, the machine rebooted) is started
 * again with the settings it was built with, on its port or, if that is taken, a free one.
 */
export async function startIfStopped(ctx: PlatformContext, r: InstanceRecord): Promise<void> {
  if (r.status !== 'available' || r.protected || !r.settings || runningPostmaster(dataDirOf(r.dir))) return;
  const port = (await isListening(r.port)) ? await freePort() : r.port;
  await startPostgresCluster({ dir: r.dir, port, settings: r.settings, startTimeoutSeconds: Math.ceil(ctx.recoveryTimeoutMs / 1000) });
  await ctx.registry.update(r.instanceId, (current) => current && { ...current, port });
}

/** Stops whatever an earlier attempt left building this instance, and removes it. */
export async function discard(ctx: PlatformContext, r: InstanceRecord): Promise<void> {
  await ctx.builds.stop(r.instanceId);
  await ctx.registry.update(r.instanceId, (current) => (current ? { ...current, status: 'deleting' } : current));
  if (r.operationPgid && processGroupRuns(r.operationPgid, r.dir)) {
    killProcessGroup(r.operationPgid);
    // Removing files a dying pgbackrest still writes would race it: wait until the group is gone.
    for (let i = 0; i < 100 && processGroupRuns(r.operationPgid, r.dir); i++) await sleep(50);
  }
  await stopPostmaster(dataDirOf(r.dir), 'immediate');
  rmSync(r.dir, { recursive: true, force: true });
  await ctx.registry.remove(r.instanceId);
}

/**
 * The retry rule: an instance already built for the same request is returned; a half-built one
 * (a worker died, or an attempt was abandoned) is removed so it can be built again; an id taken
 * by something else is refused.
 */
export async function existingFor(ctx: PlatformContext, instanceId: InstanceId, matches: (origin: InstanceOrigin) => boolean): Promise<InstanceRecord | undefined> {
  const found = ctx.registry.get(instanceId);
  if (!found) {
    const dir = path.join(ctx.instancesDir, instanceId);
    if (existsSync(dir)) { await stopPostmaster(dataDirOf(dir), 'immediate'); rmSync(dir, { recursive: true, force: true }); }
    return undefined;
  }
  if (found.protected || !matches(found.origin)) {
    throw new PlatformRequestError(`instance "${instanceId}" already exists and was built for another request (${JSON.stringify(found.origin)}); choose another instance id`);
  }
  if (found.status === 'available') return found;
  await discard(ctx, found);
  return undefined;
}

/**
 * Runs pgbackrest restore into a new instance directory and starts PostgreSQL on it. `beforeStart`: what
 * the replay needs that the copy did not (the WAL up to the target archived), awaited between the two.
 */
export async function build(ctx: PlatformContext, instanceId: InstanceId, source: InstanceRecord, kind: BuildKind, origin: InstanceOrigin, opts: OperationOptions, beforeStart?: () => Promise<void>): Promise<{ r: InstanceRecord; cluster: PostgresCluster }> {
  const { registry, setup } = ctx;
  const dir = path.join(ctx.instancesDir, instanceId);
  const dataDir = dataDirOf(dir);
  const port = await freePort();
  let r: InstanceRecord = {
    instanceId, dir, port, role: kind.kind === 'replica' ? 'replica' : 'primary', status: 'creating', origin, protected: false,
    database: source.database, createdAt: new Date().toISOString(),
  };
  await registry.put(r);
  await ownedByClusterUser(dir);
  await ownedByClusterUser(dataDir);
  chmodSync(dataDir, 0o700);
  // The restored cluster holds the source's roles, so its superuser password is the source's.
  copyFileSync(path.join(source.dir, 'superuser.password'), path.join(dir, 'superuser.password'));

  const restoreOptions = [`--pg1-path=${dataDir}`, `--set=${kind.backup.label}`, `--process-max=${setup.processMax}`, '--log-level-console=detail', '--archive-mode=off'];
  if (kind.kind === 'backup') restoreOptions.push('--type=immediate', '--target-action=promote');
  if (kind.kind === 'replica') restoreOptions.push('--type=standby', '--target-timeline=latest');
  if (kind.kind === 'pointInTime') {
    const t = kind.target;
    // PostgreSQL's recovery_target_time wants "2026-11-23 13:55:43.680+00", not ISO's T and Z.
    if (t.kind === 'time') restoreOptions.push('--type=time', `--target=${t.time.replace('T', ' ').replace('Z', '+00')}`, '--target-action=pause', '--target-timeline=current');
    if (t.kind === 'name') restoreOptions.push('--type=name', `--target=${t.name}`, '--target-action=pause', '--target-timeline=current');
    // No target: replay to the end of the archive, then PostgreSQL promotes itself (pgBackRest refuses --target-action here).
    if (t.kind === 'latest') restoreOptions.push('--type=default', '--target-timeline=current');
  }
  opts.onProgress?.({ phase: 'restoring', bytesDone: 0, bytesTotal: kind.backup.sizeBytes, message: `pgbackrest restore of backup set ${kind.backup.label}` });
  const restore = spawnPgBackRest(setup, 'restore', restoreOptions, {
    signal: opts.signal,
    onLine: (line) => {
      const percent = restorePercent(line);
      if (percent !== undefined) opts.onProgress?.({ phase: 'restoring', bytesDone: Math.round((kind.backup.sizeBytes * percent) / 100), bytesTotal: kind.backup.sizeBytes });
    },
  });
  r = (await registry.update(instanceId, (current) => current && { ...current, operationPgid: restore.pgid }))!;
  await restore.done;
  r = (await registry.update(instanceId, (current) => current && { ...current, operationPgid: undefined }))!;
  await beforeStart?.();

  const settings: Record<string, string | number> = { ...recoverySettingsFrom(path.join(dataDir, 'postgresql.auto.conf')), archive_mode: 'off' };
  if (kind.kind === 'replica') {
    const passfile = path.join(dir, 'replication.pgpass');
    writeFileSync(passfile, `127.0.0.1:${source.port}:*:${superuser}:${passwordOf(source).replace(/([:\\])/g, '\\$1')}\n`, { mode: 0o600 });
    await giveToClusterUser(passfile);
    settings.primary_conninfo = `'host=127.0.0.1 port=${source.port} user=${superuser} passfile=${passfile} application_name=${instanceId}'`;
    // Its WAL since the newest baseline's backup stays readable after its restartpoints and the checkpoint
    // after a promotion: the validation of a promoted standby reads what changed since then (pg_walinspect).
    settings.wal_keep_size = "'1GB'";
  }
  r = (await registry.update(instanceId, (current) => current && { ...current, settings }))!;
  opts.onProgress?.({ phase: 'starting', bytesDone: kind.backup.sizeBytes, bytesTotal: kind.backup.sizeBytes, message: 'starting PostgreSQL, replaying WAL to a consistent state' });
  const stopOnAbort = () => void stopPostmaster(dataDir, 'immediate').catch(() => undefined);
  opts.signal?.addEventListener('abort', stopOnAbort, { once: true });
  try {
    const cluster = await startPostgresCluster({ dir, port, settings, startTimeoutSeconds: Math.ceil(ctx.recoveryTimeoutMs / 1000) });
    return { r, cluster };
  } catch (error) {
    if (opts.signal?.aborted) throw new CommandAbortedError('restore cancelled while PostgreSQL was starting');
    throw new PlatformVerificationError(`${recoveryFailure(r, 'PostgreSQL did not start')}\n(${(error as Error).message.split('\n')[0]})`);
  } finally {
    opts.signal?.removeEventListener('abort', stopOnAbort);
  }
}

/** Runs an operation that builds an instance; on failure or cancellation the half-built instance is removed. */
export function building<T>(ctx: PlatformContext, instanceId: InstanceId, opts: OperationOptions, fn: (o: OperationOptions) => Promise<T>): Promise<T> {
  return ctx.builds.run(instanceId, opts.signal, (signal) => fn({ ...opts, signal }), async () => {
    const half = ctx.registry.get(instanceId);
    if (half && half.status !== 'available') await discard(ctx, half);
  });
}

/** Marks a built instance available (with what a point-in-time restore reached, for a retry to report). */
export async function finish(ctx: PlatformContext, instanceId: InstanceId, extra: Partial<InstanceRecord> = {}): Promise<InstanceRecord> {
  return (await ctx.registry.update(instanceId, (current) => current && { ...current, ...extra, status: 'available', operationPgid: undefined }))!;
}
