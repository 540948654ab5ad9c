import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../../../lib/atomic-file';
import { PlatformRequestError, type BackupSet, type OperationOptions, type RecoveryTarget, type RestorePoint } from '../../../ports/database-platform';
import { newestFileTime } from './cluster-files';
import { accepting, withClient } from './instance-access';
import type { InstanceRecord } from './instance-registry';
import { runPgBackRest, stanzaInfo } from './pgbackrest';
import type { PlatformContext } from './platform-context';

// Which backup set a restore starts from, and whether the archived WAL reaches its target: everything
// here runs before anything is built, so a target out of reach is refused with nothing to clean up.

/** Restore points this platform created, by name (placed in time, so a restore picks the backup before it). */
export function restorePoints(ctx: PlatformContext): Record<string, RestorePoint> {
  return existsSync(ctx.restorePointsFile) ? JSON.parse(readFileSync(ctx.restorePointsFile, 'utf8')) : {};
}

export function saveRestorePoint(ctx: PlatformContext, point: RestorePoint): void {
  writeFileAtomic(ctx.restorePointsFile, JSON.stringify({ ...restorePoints(ctx), [point.name]: point }, null, 2) + '\n', 0o644);
}

const backupReady = (b: BackupSet) => Date.parse(b.stoppedAt) + 1000; // timestamps are whole seconds

/**
 * Makes sure the archive holds every commit up to now and a commit after any target before now
 * (PostgreSQL stops a time target only at a commit record), and returns the time up to which WAL
 * is archived. With the source down, the newest archived segment's time is the best we know.
 */
export async function sealArchive(ctx: PlatformContext, source: InstanceRecord, opts: OperationOptions): Promise<{ archivedUntil: Date; how: string }> {
  opts.onProgress?.({ phase: 'checking', message: 'switching WAL and waiting for it to be archived' });
  if (await accepting(source)) {
    const sealedAt = await withClient(source, async (c) => {
      // An empty transaction: one commit record stamped after every commit made so far.
      const row = (await c.query<{ t: Date }>('SELECT clock_timestamp() AS t, pg_catalog.txid_current()')).rows[0]!;
      return row.t;
    });
    await runPgBackRest(ctx.setup, 'check', [], { signal: opts.signal });
    return { archivedUntil: sealedAt, how: `WAL switched and archived by pgbackrest check at ${sealedAt.toISOString()}` };
  }
  const newest = newestFileTime(path.join(ctx.setup.repoPath, 'archive', ctx.setup.stanza));
  if (!newest) throw new PlatformRequestError(`the WAL archive of stanza "${ctx.setup.stanza}" is empty`);
  return { archivedUntil: newest, how: `source is down; newest archived WAL segment written at ${newest.toISOString()}` };
}

/**
 * Plans a restore to the target: the backup set it starts from (the newest one finished before it) and
 * `archiveReady`, which the restore awaits just before PostgreSQL starts replaying. The archive is sealed
 * (sealArchive) while the backup set is listed and its files are copied: the copy does not need the WAL,
 * only the replay does. A target no backup or WAL can reach is refused before anything is built; one past
 * the WAL just archived is refused by `archiveReady` (and the restore removes what it copied).
 */
export async function planRestore(ctx: PlatformContext, source: InstanceRecord, target: RecoveryTarget, opts: OperationOptions): Promise<{ backup: BackupSet; archiveReady: () => Promise<void> }> {
  const sealing = sealArchive(ctx, source, opts);
  sealing.catch(() => undefined); // awaited by archiveReady, or below when the request is refused
  let backup: BackupSet;
  try {
    backup = chooseBackup(ctx, source, target, (await stanzaInfo(ctx.setup, opts.signal)).backups);
  } catch (error) {
    await sealing.catch(() => undefined);
    throw error;
  }
  const archiveReady = async () => {
    // A name or the latest point: archiving the newest WAL helps, but the replay says whether it got there.
    if (target.kind !== 'time') return void (await sealing.catch(() => undefined));
    const { archivedUntil, how } = await sealing;
    if (Date.parse(target.time) >= archivedUntil.getTime()) throw pastArchivedWal(target.time, how, 'the files restored for it are removed');
  };
  return { backup, archiveReady };
}

const pastArchivedWal = (time: string, how: string, outcome: string) =>
  new PlatformRequestError(`recovery target ${time} is after the newest archived WAL (${how}): no archived WAL reaches it yet; choose an earlier time or wait; ${outcome}`);

/** The backup set a restore to the target starts from: the newest one finished before it. */
function chooseBackup(ctx: PlatformContext, source: InstanceRecord, target: RecoveryTarget, backups: BackupSet[]): BackupSet {
  if (backups.length === 0) throw new PlatformRequestError(`stanza "${ctx.setup.stanza}" has no backup yet: take a backup of "${source.instanceId}" first`);
  if (target.kind === 'latest') return backups.at(-1)!;
  if (target.kind === 'name') {
    // A point we created is placed in time: the newest backup before it. Any other name: the oldest backup.
    const point = restorePoints(ctx)[target.name];
    if (!point) return backups[0]!;
    const before = [...backups].reverse().find((b) => backupReady(b) <= Date.parse(point.createdAt));
    if (!before) throw new PlatformRequestError(`restore point "${target.name}" (${point.createdAt}) is before the oldest backup set ${backups[0]!.label} (finished ${backups[0]!.stoppedAt}); nothing was created`);
    return before;
  }
  const t = Date.parse(target.time);
  const oldest = backups[0]!;
  if (t < backupReady(oldest)) {
    throw new PlatformRequestError(`recovery target ${target.time} is before the oldest backup: backup set ${oldest.label} finished at ${oldest.stoppedAt}, so the earliest time a restore can reach is ${new Date(backupReady(oldest)).toISOString()}; nothing was created`);
  }
  // No WAL holds a commit from the future (this platform runs beside its servers, on one clock).
  const now = new Date();
  if (t >= now.getTime()) throw pastArchivedWal(target.time, `it is later than now, ${now.toISOString()}`, 'nothing was created');
  return [...backups].reverse().find((b) => backupReady(b) <= t)!;
}

/** A recovery target in the form the platform stores and compares (times in UTC ISO 8601). */
export function validateTarget(target: RecoveryTarget): RecoveryTarget {
  if (target.kind === 'time') {
    if (!/^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d(:?\d\d)?)$/.test(target.time) || Number.isNaN(Date.parse(target.time))) {
      throw new PlatformRequestError(`target.time "${target.time}" is not an ISO 8601 time with a zone (e.g. 2026-11-23T13:55:00Z)`);
    }
    return { kind: 'time', time: new Date(Date.parse(target.time)).toISOString() };
  }
  if (target.kind === 'name' && !/^[\w.:-]{1,63}$/.test(target.name)) throw new PlatformRequestError(`target.name "${target.name}" is not a restore point name (1-63 of letters, digits, _ . : -)`);
  return target;
}
