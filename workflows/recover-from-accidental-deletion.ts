import { patched } from '@temporalio/workflow';
import { z } from 'zod';
import { runbookFields, configName, isoInstant } from '../contracts/inputs';
import { besideEachOther } from './concurrent-steps';
import { runRunbook } from './runbook';
import { reconciliationReport } from '../contracts/validation';
import { assessDatabase, cutOverApplication, longOperation, reviewOf, validateRecoveredDatabase, validationOperation, type ScenarioRunbook } from './scenario-steps';

/** The application's tables in foreign-key order, parents first: what a repair may copy back. */
export const applicationTables = ['users', 'accounts', 'transactions', 'savings_goals', 'subscriptions', 'audit_logs'] as const;
const tableName = z.string().regex(/^[a-z_][a-z0-9_]*$/, 'must be a table name (lowercase letters, digits and _)');

export const recoverFromAccidentalDeletionInput = z.strictObject({
  ...runbookFields,
  database: configName.default('production').describe('the production database, by its name in the worker config'),
  targetTime: isoInstant.describe('a time just before the deletion: the new instance holds every commit up to it and none after'),
  resolution: z.enum(['repair', 'cutover'], { error: 'must be "repair" (copy the lost rows back into production, keeping later writes) or "cutover" (move the application to the recovered instance)' }).default('repair'),
  tables: z.array(tableName).min(1, 'must name at least one table').default([...applicationTables]).describe('tables to compare and repair'),
  overwriteChanged: z.boolean().default(false).describe('also overwrite rows that differ (default: report them only)'),
});
export type RecoverFromAccidentalDeletionInput = z.input<typeof recoverFromAccidentalDeletionInput>;

/** The history shape of runs that restore while production is assessed (see the runbook below). */
export const RESTORE_BESIDE_ASSESSMENT_PATCH = 'restore-beside-assessment';

/** Rows a diff found missing. Results recorded before diffs streamed have no count, only their inline keys ('+' when cut). */
const missingOf = (d: { missingCount?: number; missingInTarget: string[]; keysTruncated: boolean }) => d.missingCount ?? `${d.missingInTarget.length}${d.keysTruncated ? '+' : ''}`;
type AccidentalDeletionRunbook = ScenarioRunbook<z.output<typeof recoverFromAccidentalDeletionInput>>;

/**
 * Accidental deletion (seed 000, scenario 4): point-in-time restore to a NEW instance just before the
 * deletion → validate → approve → either repair (copy the lost rows back into production in one
 * transaction per table, later writes kept; a dry run first shows the counts) or cut the application
 * over to the recovered instance → verify.
 */
export async function recoverFromAccidentalDeletion(input: RecoverFromAccidentalDeletionInput) {
  const targets = (i: z.output<typeof recoverFromAccidentalDeletionInput>) => ({ databases: [{ field: 'database', name: i.database }], tables: { field: 'tables', database: i.database, names: i.tables } });
  return runRunbook({ scenario: 'accidental-deletion', input: recoverFromAccidentalDeletionInput, gates: ['repair', 'cutover'], targets }, input, async (rb: AccidentalDeletionRunbook) => {
    const { database, targetTime } = rb.input;
    const assess = () => assessDatabase(rb, database, `assess production (${database})`);
    // Runs since this patch restore while production is assessed (the restore builds a new instance and
    // reads only the backups and the archive); recorded runs assessed first.
    const besideAssessment = patched(RESTORE_BESIDE_ASSESSMENT_PATCH);
    if (!besideAssessment) await assess();

    const restore = () => rb.step({
      name: `restore ${database} to ${targetTime} into a new instance`,
      activity: 'restoreToPointInTime',
      args: [{ database, step: 'pitr', incidentId: rb.input.incidentId, target: { kind: 'time', time: targetTime } }],
      affectsProduction: false,
      options: longOperation,
      builds: { name: 'delete the instance the restore builds', activity: 'deleteDatabaseInstance', args: [{ step: 'pitr' }] },
      describe: (r) => `${r.instance.instanceId} on port ${r.instance.endpoint.port}, recovered to ${r.recoveredTo.lastCommitAt ?? 'no commit'} (${r.recoveredTo.stopReason ?? 'stopped at target'})`,
      compensate: (r) => ({ name: `delete the recovered instance ${r.instance.instanceId}`, activity: 'deleteDatabaseInstance', args: [{ instanceId: r.instance.instanceId }] }),
    });
    const restored = besideAssessment ? (await besideEachOther(restore, assess))[0] : await restore();
    const recovered = restored.instance.instanceId;
    if (restored.recoveredTo.lastCommitAt) rb.recordRecoveryPoint(restored.recoveredTo.lastCommitAt, targetTime);
    const validation = await validateRecoveredDatabase(rb, recovered, { incidentTime: targetTime, baselineOf: { database, at: targetTime } });
    const reconciliation = reconciliationReport(validation);

    if (rb.input.resolution === 'cutover') {
      await rb.gate('cutover', { review: reviewOf(validation) });
      if (rb.mode === 'drill') {
        rb.cutoverVerified();
        return { recoveredInstance: recovered, recoveredTo: restored.recoveredTo, validation: validation.summary, reconciliation, resolution: 'cutover (drill: production untouched)' };
      }
      const cutover = await cutOverApplication(rb, recovered);
      return { recoveredInstance: recovered, recoveredTo: restored.recoveredTo, validation: validation.summary, reconciliation, resolution: 'cutover', application: cutover.health.database.address };
    }

    // Repair: find exactly what is missing in production, show it, and copy back only that.
    const diffs = [];
    for (const table of rb.input.tables) {
      diffs.push(await rb.step({
        name: `compare ${table}: recovered vs production`,
        activity: 'diffTable',
        args: [{ source: recovered, target: database, table }],
        affectsProduction: false,
        options: validationOperation,
        describe: (d) => `${missingOf(d)} missing in production, ${d.extraCount ?? d.extraInTarget.length} written since, ${d.changedCount ?? d.changed.length} changed`,
      }));
    }
    const diffKeys = diffs.map((d) => d.diffKey);
    const plan = await rb.step({
      name: 'repair dry run (counts per table, writes nothing)',
      activity: 'repairMissingRows',
      args: [{ source: recovered, target: database, diffKeys, dryRun: true, overwriteChanged: rb.input.overwriteChanged }],
      affectsProduction: false,
      options: validationOperation,
      describe: (r) => r.summary.join('; '),
    });
    await rb.gate('repair', { review: reviewOf(validation) });
    if (rb.mode === 'drill') {
      rb.cutoverVerified();
      return { recoveredInstance: recovered, recoveredTo: restored.recoveredTo, validation: validation.summary, reconciliation, resolution: 'repair (drill: dry run only, production untouched)', repairPlan: plan.summary };
    }
    const repaired = await rb.step({
      name: 'copy the lost rows back into production',
      activity: 'repairMissingRows',
      args: [{ source: recovered, target: database, diffKeys, dryRun: false, overwriteChanged: rb.input.overwriteChanged }],
      affectsProduction: true,
      options: validationOperation,
      describe: (r) => r.summary.join('; '),
    });
    // Verify: the same comparison again must find nothing missing any more.
    for (const table of rb.input.tables) {
      const after = await rb.step({
        name: `verify ${table}: nothing missing in production`,
        activity: 'diffTable',
        args: [{ source: recovered, target: database, table }],
        affectsProduction: false,
        options: validationOperation,
        describe: (d) => `${d.missingCount ?? d.missingInTarget.length} missing, ${d.extraCount ?? d.extraInTarget.length} written since`,
      });
      if (after.missingInTarget.length > 0) {
        throw new Error(`after the repair ${after.missingCount ?? after.missingInTarget.length} row(s) of ${table} are still missing in production (first keys: ${after.missingInTarget.slice(0, 5).join(', ')})`);
      }
    }
    rb.cutoverVerified();
    // Production's history must now be the baseline's again (its later writes are growth).
    await validateRecoveredDatabase(rb, database, { sameBaselineAs: validation });
    // Its rows are back in production: the recovered instance has done its job.
    await rb.step({ name: `remove the recovered instance ${recovered}`, activity: 'deleteDatabaseInstance', args: [{ instanceId: recovered }], affectsProduction: false, describe: (r) => (r.deleted ? 'removed' : 'already gone') });
    return { recoveredInstance: recovered, recoveredTo: restored.recoveredTo, validation: validation.summary, reconciliation, resolution: 'repair', repaired: repaired.summary, inserted: repaired.totalInserted };
  });
}
