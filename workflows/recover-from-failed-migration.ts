import { ApplicationFailure, isCancellation, ParentClosePolicy, workflowInfo } from '@temporalio/workflow';
import { z } from 'zod';
import type { RollbackPlan } from '../activities/ports/migration-tool';
import { runbookFields, configName, isoInstant } from '../contracts/inputs';
import { runRunbook } from './runbook';
import { recoverFromAccidentalDeletion } from './recover-from-accidental-deletion';
import { assessDatabase, longOperation, validateRecoveredDatabase, validationOperation, type ScenarioRunbook } from './scenario-steps';
import { FailureType, failureTypeOf } from '../contracts/failure-types';
import { errorText } from '../contracts/error-text';
import { describeFailedChecks } from '../contracts/validation';

export const recoverFromFailedMigrationInput = z.strictObject({
  ...runbookFields,
  database: configName.default('production').describe('the production database, by its name in the worker config'),
  toVersion: z.string({ error: (issue) => (issue.input === undefined ? 'is required (the previous stable migration version, e.g. "0001")' : 'must be text') })
    .regex(/^\d{1,20}$/, 'must be the previous stable migration version: digits only, e.g. "0001"')
    .describe('the previous stable schema version to roll back to'),
  migrationStartedAt: isoInstant.describe('when the failed migration started: the fallback restores production to just before it'),
});
export type RecoverFromFailedMigrationInput = z.input<typeof recoverFromFailedMigrationInput>;
type FailedMigrationRunbook = ScenarioRunbook<z.output<typeof recoverFromFailedMigrationInput>>;

/** Why the in-place rollback was given up for a point-in-time restore; undefined while it still holds. */
type FallbackReason = string | undefined;


/**
 * Failed migration (seed 000, scenario 1, "Option A: Quick Migration Rollback"): assess production
 * (connectivity, integrity checks) → safety backup and restore point → approve `rollback` → run the down
 * migrations to the previous stable version (all or nothing) → critical checks. If the rollback is
 * impossible (a migration without a down script) or the checks fail, fall back to a point-in-time restore
 * to just before the migration started, cut over, as a child `recoverFromAccidentalDeletion` runbook
 * (id `<this id>-pitr`, its own `cutover` gate) → verify the schema version the application now runs on.
 * A drill rolls back a fresh copy of production instead, and removes it.
 */
export async function recoverFromFailedMigration(input: RecoverFromFailedMigrationInput) {
  const targets = (i: z.output<typeof recoverFromFailedMigrationInput>) => ({ databases: [{ field: 'database', name: i.database }], migrationVersion: { field: 'toVersion', database: i.database, version: i.toVersion } });
  return runRunbook({ scenario: 'failed-migration', input: recoverFromFailedMigrationInput, gates: ['rollback'], targets }, input, async (rb: FailedMigrationRunbook) => {
    const { database, toVersion, migrationStartedAt } = rb.input;
    await assessDatabase(rb, database, `assess production (${database}): connectivity`);
    await rb.step({
      name: `integrity checks on ${database}`,
      activity: 'runValidationChecks',
      args: [{ database }],
      affectsProduction: false,
      options: validationOperation,
      describe: (r) => (r.passed ? `${r.checks.length} checks passed` : `corruption indicators: ${describeFailedChecks(r)}`),
    });
    const status = await rb.step({
      name: `read the schema version of ${database}`,
      activity: 'readMigrationStatus',
      args: [{ database }],
      affectsProduction: false,
      describe: (s) => `at ${s.current ?? 'no version'} (${s.applied.map((m) => m.version).join(', ') || 'none applied'})`,
    });
    const plan = await rb.step({
      name: `plan the rollback of ${database} to ${toVersion}`,
      activity: 'planMigrationRollback',
      args: [{ database, toVersion }],
      affectsProduction: false,
      describe: describePlan,
    });

    // The safety net before anything changes: a backup of the state as it is, and a named WAL point at it.
    const backup = await rb.step({ name: `safety backup of ${database}`, activity: 'takeDatabaseBackup', args: [{ database, type: 'incr', incidentId: rb.input.incidentId }], affectsProduction: false, options: longOperation, describe: (b) => `backup set ${b.label}` });
    // Unique per run (a name already taken would return the older point), the same on every replay.
    const pointName = `before-rollback-${workflowInfo().runId}`;
    await rb.step({ name: `restore point ${pointName}`, activity: 'createRestorePoint', args: [{ database, name: pointName }], affectsProduction: false, options: longOperation, describe: (p) => `at ${p.lsn} (${p.createdAt})` });

    let fallback: FallbackReason = plan.blockers.length ? `the rollback is impossible: ${plan.blockers.join('; ')}` : undefined;
    if (!fallback) {
      // A drill rehearses the rollback on a fresh copy of production, never on production itself.
      const target = rb.mode === 'drill' ? await buildDrillCopy(rb, database, backup.label) : database;
      await rb.gate('rollback');
      try {
        await rb.step({
          name: `roll back ${target} to ${toVersion} (down migrations, one transaction)`,
          activity: 'rollBackMigrations',
          args: [{ database: target, toVersion }],
          ...(rb.mode === 'real' ? { affectsProduction: true as const } : { affectsProduction: false as const }),
          options: { startToCloseTimeout: '30 minutes', heartbeatTimeout: '5 minutes', retry: { initialInterval: '2 seconds', maximumAttempts: 3 } },
          describe: describePlan,
        });
        // Rows stay where they are, so "recent data" is measured at the migration, not now: an application
        // down since the migration wrote nothing, and that is no reason to restore.
        await validateRecoveredDatabase(rb, target, { incidentTime: migrationStartedAt });
      } catch (error) {
        if (isCancellation(error)) throw error;
        const type = failureTypeOf(error);
        if (type !== FailureType.RollbackImpossible && type !== FailureType.ValidationFailed) throw error;
        fallback = `${type === FailureType.RollbackImpossible ? 'the rollback failed and was undone' : 'the critical checks failed after the rollback'}: ${errorText(error, { innermost: true })}`;
      }
      if (!fallback) {
        const after = await rb.step({ name: `verify the schema version of ${target}`, activity: 'readMigrationStatus', args: [{ database: target }], affectsProduction: false, describe: (s) => `at ${s.current ?? 'no version'}` });
        if (after.current !== toVersion) throw ApplicationFailure.create({ type: FailureType.RollbackNotVerified, nonRetryable: true, message: `after the rollback ${target} is at schema version ${after.current ?? 'none'}, not ${toVersion}` });
        rb.cutoverVerified();
        // Rolled back in place: every committed row is still there.
        const now = new Date().toISOString();
        rb.recordRecoveryPoint(now, now);
        return { resolution: rb.mode === 'drill' ? 'rollback (drill: on a copy, production untouched)' : 'rollback', database: target, from: status.current, to: after.current, undone: plan.steps.map((s) => s.version) };
      }
    }

    // Fallback: the accidental-deletion path, restoring to just before the migration and cutting over.
    const child = await rb.child(`fall back to point-in-time restore before ${migrationStartedAt} (${fallback})`, recoverFromAccidentalDeletion, {
      workflowId: `${rb.workflowId}-pitr`,
      // Even a terminated parent asks the child to cancel, so the child still removes what it built.
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      args: [{
        incidentId: rb.input.incidentId,
        environment: rb.input.environment,
        mode: rb.mode,
        startedBy: rb.input.startedBy,
        declaredAt: rb.input.declaredAt ?? workflowInfo().startTime.toISOString(),
        database,
        targetTime: migrationStartedAt,
        resolution: 'cutover',
      }],
    });
    if (child.verdict !== 'completed' || !child.output) {
      throw ApplicationFailure.create({ type: FailureType.FallbackNotCompleted, nonRetryable: true, message: `the point-in-time restore ${rb.workflowId}-pitr ended ${child.verdict}${child.verdictDetail ? `: ${child.verdictDetail}` : ''}; production is still on the failed migration` });
    }
    if (child.rpo.newestCommittedAt && child.rpo.targetTime) rb.recordRecoveryPoint(child.rpo.newestCommittedAt, child.rpo.targetTime);
    const recovered = child.output.recoveredInstance;
    if (rb.mode === 'drill') {
      rb.cutoverVerified();
      return { resolution: 'point-in-time restore (drill: production untouched)', fallbackReason: fallback, recoveredInstance: recovered };
    }
    const after = await rb.step({ name: `verify the schema version of ${recovered}`, activity: 'readMigrationStatus', args: [{ database: recovered }], affectsProduction: false, describe: (s) => `at ${s.current ?? 'no version'}` });
    if (after.current === null || BigInt(after.current) > BigInt(toVersion)) {
      throw ApplicationFailure.create({ type: FailureType.RestoreNotVerified, nonRetryable: true, message: `the application now runs on ${recovered}, at schema version ${after.current ?? 'none'}, not ${toVersion} or earlier: check migrationStartedAt` });
    }
    rb.cutoverVerified();
    return { resolution: 'point-in-time restore and cutover', fallbackReason: fallback, recoveredInstance: recovered, application: 'application' in child.output ? child.output.application : undefined, to: after.current };
  });
}

function describePlan(p: RollbackPlan): string {
  if (p.blockers.length) return `impossible: ${p.blockers.join('; ')}`;
  return p.steps.length ? `${p.from} → ${p.to}: undo ${p.steps.map((s) => `${s.version} ${s.name}`).join(', ')}` : `already at ${p.to} or earlier`;
}

/** The drill's stand-in for production: the safety backup restored into a new instance (which proves it restores). */
async function buildDrillCopy(rb: FailedMigrationRunbook, database: string, backupLabel: string): Promise<string> {
  const copy = await rb.step({
    name: `restore the safety backup ${backupLabel} into a new instance for the drill`,
    activity: 'restoreBackupToNewInstance',
    args: [{ database, step: 'drill-copy', incidentId: rb.input.incidentId, backupLabel }],
    affectsProduction: false,
    options: longOperation,
    builds: { name: 'delete the drill copy the restore builds', activity: 'deleteDatabaseInstance', args: [{ step: 'drill-copy' }] },
    describe: (r) => `${r.instance.instanceId} on port ${r.instance.endpoint.port}`,
    compensate: (r) => ({ name: `delete the drill copy ${r.instance.instanceId}`, activity: 'deleteDatabaseInstance', args: [{ instanceId: r.instance.instanceId }] }),
  });
  return copy.instance.instanceId;
}
