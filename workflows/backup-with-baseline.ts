import { ActivityCancellationType, ApplicationFailure, CancellationScope, isCancellation, patched, proxyActivities, setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { z } from 'zod';
import type { Activities, BackupSet, BaselineSummary, RestoreTestResult } from '../activities';
import { errorText } from '../contracts/error-text';
import { FailureType } from '../contracts/failure-types';
import type { BackupTestFailed } from '../contracts/notifications';
import { configName, describeIssues } from '../contracts/inputs';
import { checkLine } from '../contracts/validation';
import { longOperation, validationOperation } from './scenario-steps';
import { DrEnvironment } from './search-attributes';

export const backupWithBaselineInput = z.strictObject({
  database: configName.default('production').describe('the database to back up, by its name in the worker config'),
  type: z.enum(['full', 'diff', 'incr'], { error: 'must be "full", "diff" or "incr" (pgBackRest\'s backup types)' }).default('incr').describe('the backup type (an RDS snapshot is always whole)'),
  startedBy: z.string().trim().min(1, 'must name who (or which schedule) starts the backup').max(128).default('schedule'),
  environment: configName.default('local').describe('the environment, by its name in the worker config (named in the page when the test fails)'),
});
export type BackupWithBaselineInput = z.input<typeof backupWithBaselineInput>;

export interface BackupWithBaselineResult {
  database: string;
  backup: BackupSet;
  verified: boolean;
  baseline?: BaselineSummary;
  /** The restored copy's own checks that failed (a corrupt backup is no baseline). */
  failedChecks: string[];
  verdict: { verdictKey: string; good: boolean; reason?: string };
  /** The restore test: the backup restored into a copy (how long that took), measured, checked against its own baseline. */
  restoreTest: RestoreTestResult;
}

const quick = { startToCloseTimeout: '1 minute', retry: { initialInterval: '1 second', maximumAttempts: 3 } } as const;
// A backup is not idempotent: a retry takes another one. Twice is enough to ride out a blip.
const backupStep = { ...longOperation, retry: { ...longOperation.retry, maximumAttempts: 2 } } as const;

const platform = proxyActivities<Activities>({ ...longOperation, summary: 'verify the backup sets and the WAL archive (pgbackrest verify)' });
const { takeDatabaseBackup } = proxyActivities<Activities>({ ...backupStep, summary: 'take the backup' });
// The copy is built by an activity that removes what it half-built when cancelled: wait for that.
const { restoreBackupToNewInstance } = proxyActivities<Activities>({ ...longOperation, cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED, summary: 'restore the backup into a new instance, consistent at its end' });
const { captureBaseline, runValidationChecks } = proxyActivities<Activities>({ ...validationOperation, summary: 'measure the restored backup' });
const { recordBaselineVerdict } = proxyActivities<Activities>({ ...quick, summary: 'store the verdict on the backup and its baseline' });
const { deleteDatabaseInstance } = proxyActivities<Activities>({ ...longOperation, summary: 'remove the restored copy' });
const { notify } = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', retry: { initialInterval: '1 second', maximumAttempts: 3 }, summary: 'page: the backup failed its restore test' });

/**
 * A backup and its baseline, read where it is true: take the backup (a pgBackRest backup set, or an RDS
 * snapshot, through the DatabasePlatform port) → verify the stanza → restore the backup into a new
 * instance, consistent at the backup's end (its stop LSN) → measure that copy: rows and money per table,
 * the history of append-only tables in key ranges with content hashes, the schema fingerprint → run the
 * gate's own checks on it (a backup of inconsistent data is no known good state) → store the baseline and
 * the verdict in the object store → remove the copy. Runs on a schedule (`dr backups schedule`); the
 * runbooks compare a recovered database with the last good baseline at or before their recovery target.
 *
 * Why a restored copy and not a snapshot of production taken "at the same time": the backup's consistent
 * point is where recovery of it ends, which no SQL session on production can share (pgBackRest's stop LSN
 * is reached after its own pg_backup_stop; an RDS snapshot has no session at all). The copy holds exactly
 * what a restore of this backup will hold, on every platform, and restoring it also proves it restores.
 */
export async function backupWithBaseline(rawInput: BackupWithBaselineInput): Promise<BackupWithBaselineResult> {
  const parsed = backupWithBaselineInput.safeParse(rawInput ?? {});
  if (!parsed.success) throw ApplicationFailure.create({ type: FailureType.InvalidInput, nonRetryable: true, message: describeIssues(parsed.error) });
  const { database, type, startedBy, environment } = parsed.data;
  // The KPIs filtered by environment count this run's backup under its own environment, not under every one.
  if (patched('backup-environment-attribute')) upsertSearchAttributes([{ key: DrEnvironment, value: environment }]);
  const details = (step: string) => setCurrentDetails(`**Backup with baseline** · ${database} · ${type} · started by ${startedBy}\n\nNow: ${step}`);
  /**
   * A failed restore test pages through the notifiers, whoever started the run (the schedule, mostly:
   * nobody is watching). A page that does not go out never hides the failure: the message says so.
   */
  const page = async (failure: Omit<BackupTestFailed, 'kind' | 'environment' | 'database' | 'workflowId'>): Promise<string> => {
    try {
      await CancellationScope.nonCancellable(() => notify({ kind: 'backup-test-failed', environment, database, workflowId: workflowInfo().workflowId, ...failure, reason: failure.reason.slice(0, 1000) }));
      return '';
    } catch (error) {
      return ` (the page did not go out: ${errorText(error)})`;
    }
  };

  details('taking the backup');
  let backup: BackupSet;
  try {
    backup = await takeDatabaseBackup({ database, type });
  } catch (error) {
    if (!isCancellation(error)) await page({ stage: 'backup', reason: `the backup was not taken: ${errorText(error)}`, failedChecks: [] });
    throw error;
  }
  const facts = { label: backup.label, type: backup.type, startedAt: backup.startedAt, stoppedAt: backup.stoppedAt, lsnStart: backup.lsnStart, lsnStop: backup.lsnStop };
  const about = { backupLabel: backup.label, backupStoppedAt: backup.stoppedAt };
  details(`verifying backup set ${backup.label}`);
  const verification = await platform.verifyDatabaseBackups({ database });
  const verificationFacts = { ok: verification.ok, report: verification.report };
  if (!verification.ok) {
    const verdict = await recordBaselineVerdict({ database, backup: facts, verification: verificationFacts, reason: 'pgbackrest verify found errors in the stanza', failedAt: 'verify' });
    const report = verification.report.split('\n').slice(0, 5).join(' | ');
    const paged = await page({ ...about, stage: 'verify', reason: `pgbackrest verify found errors: ${report}`, failedChecks: [], verdictKey: verdict.verdictKey });
    throw ApplicationFailure.create({ type: FailureType.BackupNotVerified, nonRetryable: true, message: `backup set ${backup.label} of ${database} did not verify, so it has no baseline (${verdict.verdictKey}): ${report}${paged}`, details: [verdict.restoreTest] });
  }

  let copy: string | undefined;
  try {
    details(`restoring backup set ${backup.label} into a new instance`);
    // The restore test's restore time: from asking for the copy to having it (workflow time, so it replays).
    const restoreStartedMs = Date.now();
    const restoreSeconds = () => Math.round((Date.now() - restoreStartedMs) / 100) / 10;
    try {
      copy = (await restoreBackupToNewInstance({ database, step: 'baseline-copy', backupLabel: backup.label })).instance.instanceId;
    } catch (error) {
      const verdict = await CancellationScope.nonCancellable(() => recordBaselineVerdict({ database, backup: facts, verification: verificationFacts, reason: `the backup did not restore: ${errorText(error)}`, failedAt: 'restore', restoreSeconds: restoreSeconds() }));
      if (!isCancellation(error)) await page({ ...about, stage: 'restore', reason: `the backup did not restore: ${errorText(error)}`, failedChecks: [], restoreSeconds: verdict.restoreTest.restoreSeconds, verdictKey: verdict.verdictKey });
      throw error;
    }
    const restoredIn = restoreSeconds();
    details(`measuring the restored backup ${copy} (restored in ${restoredIn} s)`);
    const restored = copy;
    const { baseline, checks } = await (async () => {
      try {
        return {
          baseline: await captureBaseline({ database: restored, source: database, backup: facts }),
          checks: await runValidationChecks({ database: restored, incidentTime: backup.stoppedAt, recency: false }),
        };
      } catch (error) {
        const verdict = await CancellationScope.nonCancellable(() => recordBaselineVerdict({ database, backup: facts, verification: verificationFacts, reason: `its restored copy could not be measured: ${errorText(error)}`, failedAt: 'measure', restoreSeconds: restoredIn }));
        if (!isCancellation(error)) await page({ ...about, stage: 'measure', reason: `its restored copy could not be measured: ${errorText(error)}`, failedChecks: [], restoreSeconds: restoredIn, verdictKey: verdict.verdictKey });
        throw error;
      }
    })();
    const failedChecks = checks.checks.filter((c) => c.verdict === 'fail' || c.verdict === 'error').map(checkLine);
    const verdict = await recordBaselineVerdict({ database, backup: facts, baselineKey: baseline.baselineKey, verification: verificationFacts, checks: { passed: checks.passed, failed: failedChecks }, restoreSeconds: restoredIn });
    details(verdict.good ? `done: baseline ${baseline.baselineKey}, restored in ${restoredIn} s` : `backup set ${backup.label} is NOT a known good state: ${verdict.reason}`);
    if (!verdict.good) {
      const paged = await page({ ...about, stage: 'checks', reason: verdict.reason ?? 'its restored copy failed the gate\'s checks', failedChecks, restoreSeconds: restoredIn, verdictKey: verdict.verdictKey });
      throw ApplicationFailure.create({ type: FailureType.BaselineNotGood, nonRetryable: true, message: `backup set ${backup.label} of ${database} is not a known good state (${verdict.verdictKey}): ${verdict.reason}${paged}`, details: [verdict.restoreTest] });
    }
    const { restoreTest, ...stored } = verdict;
    return { database, backup, verified: true, baseline, failedChecks, verdict: stored, restoreTest };
  } finally {
    const instanceId = copy;
    if (instanceId) await CancellationScope.nonCancellable(() => deleteDatabaseInstance({ instanceId }));
  }
}
