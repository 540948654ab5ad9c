import type { DBInstance, DBInstanceAutomatedBackup, DBSnapshot } from '@aws-sdk/client-rds';
import { FailureType } from '../../../../contracts/failure-types';
import { PlatformFailure, PlatformRequestError, type RecoveryTarget } from '../../../ports/database-platform';

/**
 * The restorable window of an RDS instance: the times a point-in-time restore can reach, from its
 * automated backups (the oldest one kept) to its LatestRestorableTime (RDS ships the transaction log about
 * every five minutes, so "latest" trails now). Pure: computed from describe results, checked before any
 * call that creates something.
 */
export interface RestorableWindow {
  earliest: Date;
  latest: Date;
  /** Where the earliest time came from, for the message. */
  earliestFrom: 'restore window' | 'oldest automated snapshot' | 'instance creation';
}

export interface WindowFacts {
  instance: DBInstance;
  /** DescribeDBInstanceAutomatedBackups for the instance (its RestoreWindow, when RDS gives one). */
  automatedBackups?: DBInstanceAutomatedBackup[];
  /** DescribeDBSnapshots of type automated. */
  automatedSnapshots?: DBSnapshot[];
}

/** The window, or why there is none (automated backups off, nothing restorable yet). */
export function restorableWindowOf(facts: WindowFacts): RestorableWindow | { none: string } {
  const { instance } = facts;
  const id = instance.DBInstanceIdentifier ?? '?';
  if ((instance.BackupRetentionPeriod ?? 0) === 0) return { none: `${id} keeps no automated backups (BackupRetentionPeriod 0), so it has no restorable window: point-in-time restore is impossible; restore a snapshot instead` };
  const window = facts.automatedBackups?.map((b) => b.RestoreWindow).find((w) => w?.EarliestTime);
  const latest = instance.LatestRestorableTime ?? window?.LatestTime;
  if (!latest) return { none: `${id} reports no LatestRestorableTime yet (its first automated backup has not finished)` };
  const snapshots = (facts.automatedSnapshots ?? []).map((s) => s.SnapshotCreateTime).filter((t): t is Date => t instanceof Date).sort((a, b) => a.getTime() - b.getTime());
  if (window?.EarliestTime) return { earliest: window.EarliestTime, latest, earliestFrom: 'restore window' };
  if (snapshots[0]) return { earliest: snapshots[0], latest, earliestFrom: 'oldest automated snapshot' };
  if (instance.InstanceCreateTime) return { earliest: instance.InstanceCreateTime, latest, earliestFrom: 'instance creation' };
  return { none: `${id} reports neither a restore window nor an automated snapshot` };
}

export const formatWindow = (w: RestorableWindow) => `${w.earliest.toISOString()} to ${w.latest.toISOString()}`;

/**
 * The restore time to ask RDS for: a time inside the window, or "latest" (UseLatestRestorableTime). A
 * time outside it is refused with the window in the message (RecoveryTargetOutsideWindow,
 * non-retryable); a named target must be resolved to a time by the caller first.
 */
export function checkRecoveryTarget(target: RecoveryTarget, window: RestorableWindow | { none: string }, source: string): { restoreTime: Date } | { useLatest: true } {
  if ('none' in window) throw new PlatformFailure(FailureType.RecoveryTargetOutsideWindow, `cannot restore ${source} to a point in time: ${window.none}`, false);
  if (target.kind === 'latest') return { useLatest: true };
  if (target.kind === 'name') throw new PlatformRequestError(`recovery target "${target.name}" is a name: resolve it to the time it was recorded at before checking the window`);
  const time = new Date(target.time);
  if (Number.isNaN(time.getTime())) throw new PlatformRequestError(`recovery target time "${target.time}" is not an ISO 8601 time`);
  if (time < window.earliest || time > window.latest) {
    const side = time < window.earliest ? `before the earliest restorable time (${window.earliestFrom})` : 'after the latest restorable time (RDS has not shipped the transaction log that far yet; wait a few minutes or choose an earlier time)';
    throw new PlatformFailure(
      FailureType.RecoveryTargetOutsideWindow,
      `recovery target ${time.toISOString()} is outside the restorable window of ${source}: ${formatWindow(window)}; it is ${side}. Choose a time inside the window`,
      false,
    );
  }
  return { restoreTime: time };
}
