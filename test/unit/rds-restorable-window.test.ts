import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DBInstance } from '@aws-sdk/client-rds';
import { FailureType } from '../../contracts/failure-types';
import { PlatformFailure } from '../../activities/ports/database-platform';
import { checkRecoveryTarget, restorableWindowOf } from '../../activities/adapters/aws/rds/restorable-window';

// The restorable window as pure code over what DescribeDBInstances, DescribeDBInstanceAutomatedBackups and
// DescribeDBSnapshots answer (moto's LatestRestorableTime is always now, so the edges are tested here).
const instance = (over: Partial<DBInstance> = {}): DBInstance => ({
  DBInstanceIdentifier: 'mita-production-primary',
  BackupRetentionPeriod: 7,
  InstanceCreateTime: new Date('2026-10-01T00:00:00Z'),
  LatestRestorableTime: new Date('2026-11-23T03:10:00Z'),
  ...over,
});
const restoreWindow = { EarliestTime: new Date('2026-11-16T03:00:00Z'), LatestTime: new Date('2026-11-23T03:09:00Z') };
const outside = (pattern: RegExp) => (error: unknown) => error instanceof PlatformFailure && error.type === FailureType.RecoveryTargetOutsideWindow && !error.retryable && pattern.test(error.message);

test('the window runs from the automated backups\' RestoreWindow.EarliestTime to the instance\'s LatestRestorableTime', () => {
  const window = restorableWindowOf({ instance: instance(), automatedBackups: [{ RestoreWindow: restoreWindow }] });
  assert.deepEqual(window, { earliest: restoreWindow.EarliestTime, latest: new Date('2026-11-23T03:10:00Z'), earliestFrom: 'restore window' });
});

test('without a RestoreWindow the oldest automated snapshot starts it, and failing that the instance\'s creation', () => {
  const snapshots = [{ SnapshotCreateTime: new Date('2026-11-20T05:00:00Z') }, { SnapshotCreateTime: new Date('2026-11-18T05:00:00Z') }];
  assert.deepEqual(restorableWindowOf({ instance: instance(), automatedBackups: [{ Status: 'active' }], automatedSnapshots: snapshots }), { earliest: new Date('2026-11-18T05:00:00Z'), latest: new Date('2026-11-23T03:10:00Z'), earliestFrom: 'oldest automated snapshot' });
  assert.equal((restorableWindowOf({ instance: instance() }) as { earliestFrom: string }).earliestFrom, 'instance creation');
});

test('no window: automated backups off, or no LatestRestorableTime yet, each said in a sentence', () => {
  assert.match((restorableWindowOf({ instance: instance({ BackupRetentionPeriod: 0 }) }) as { none: string }).none, /BackupRetentionPeriod 0.*restore a snapshot instead/);
  assert.match((restorableWindowOf({ instance: instance({ LatestRestorableTime: undefined }) }) as { none: string }).none, /no LatestRestorableTime yet/);
  assert.throws(() => checkRecoveryTarget({ kind: 'latest' }, restorableWindowOf({ instance: instance({ BackupRetentionPeriod: 0 }) }), 'production'), outside(/cannot restore production to a point in time: .*BackupRetentionPeriod 0/));
});

test('a time inside the window (its edges included) is the RestoreTime; latest asks for UseLatestRestorableTime', () => {
  const window = restorableWindowOf({ instance: instance(), automatedBackups: [{ RestoreWindow: restoreWindow }] });
  assert.deepEqual(checkRecoveryTarget({ kind: 'time', time: '2026-11-20T12:00:00Z' }, window, 'production'), { restoreTime: new Date('2026-11-20T12:00:00Z') });
  assert.deepEqual(checkRecoveryTarget({ kind: 'time', time: '2026-11-16T03:00:00.000Z' }, window, 'production'), { restoreTime: restoreWindow.EarliestTime });
  assert.deepEqual(checkRecoveryTarget({ kind: 'time', time: '2026-11-23T03:10:00.000Z' }, window, 'production'), { restoreTime: new Date('2026-11-23T03:10:00Z') });
  assert.deepEqual(checkRecoveryTarget({ kind: 'latest' }, window, 'production'), { useLatest: true });
});

test('a time before the earliest or after the latest restorable time is refused, non-retryable, with the window in the message', () => {
  const window = restorableWindowOf({ instance: instance(), automatedBackups: [{ RestoreWindow: restoreWindow }] });
  assert.throws(() => checkRecoveryTarget({ kind: 'time', time: '2026-11-16T02:59:59.999Z' }, window, 'production (mita-production-primary)'),
    outside(/2026-11-16T02:59:59.999Z is outside the restorable window of production \(mita-production-primary\): 2026-11-16T03:00:00.000Z to 2026-11-23T03:10:00.000Z; it is before the earliest restorable time/));
  assert.throws(() => checkRecoveryTarget({ kind: 'time', time: '2026-11-23T03:10:00.001Z' }, window, 'production'),
    outside(/outside the restorable window of production: 2026-11-16T03:00:00.000Z to 2026-11-23T03:10:00.000Z; it is after the latest restorable time \(RDS has not shipped the transaction log that far yet/));
});
