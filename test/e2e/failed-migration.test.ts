import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Pool } from 'pg';
import { WorkflowFailedError } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { startSteadyWriter } from '../../demo/steady-writer';
import { createSqlDirectoryMigrationTool } from '../../activities/adapters/local/sql-directory-migrations';
import { startRunbook } from '../../client/runbooks';
import { demoMigrationsDirectory } from '../../stack/local-stack';
import { createRunbookWorker } from '../../worker/worker';
import { abortUpdate, approveUpdate } from '../../workflows/messages';
import { recoverFromFailedMigrationInput } from '../../workflows/recover-from-failed-migration';
import { gateIsOpen, runbookOutcome, startScenarioStack, waitForRunbookStatus, type ScenarioStack } from '../support/scenario-stack';

// Failed migration, whole runbook on the real stack: down migrations after an approval when they exist;
// a point-in-time restore to before the migration, cut over by a child runbook, when they do not.
let s: ScenarioStack;
let pool: Pool;
let humanDrills: { taskQueue: string; stop(): Promise<void> } | undefined;

before(async () => {
  s = await startScenarioStack({ users: 40, transactionsPerUser: 8 });
  pool = new Pool({ connectionString: s.productionUrl, max: 2 });
  await writeForAWhile();
  // A second worker whose drills wait for a person at their gates (drill policy off), to abort one there.
  const connection = await NativeConnection.connect({ address: s.stack.temporal.address });
  const taskQueue = `drill-human-${randomUUID()}`;
  const config = { ...s.config, approvals: { ...s.config.approvals, drill: { autoApprove: false } } };
  const { worker, run } = await createRunbookWorker({ connection, namespace: s.stack.temporal.namespace, taskQueue, config });
  const running = run();
  humanDrills = { taskQueue, async stop() { worker.shutdown(); await running.catch(() => undefined); await connection.close(); } };
});
after(async () => {
  await humanDrills?.stop();
  await pool?.end();
  await s?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The application is live: recent transactions exist, as the "recent data integrity" check expects. */
const writeForAWhile = async () => {
  const writer = startSteadyWriter({ connectionString: s.productionUrl, ratePerSecond: 10 });
  await sleep(1500);
  await writer.stop();
};
const migrate = (toVersion: string) => createSqlDirectoryMigrationTool(pool, demoMigrationsDirectory).migrate(toVersion);
const schemaVersion = async (p: Pool = pool) => (await p.query<{ v: string }>('SELECT max(version) v FROM schema_migrations')).rows[0]!.v;
const hasCategory = async () => (await pool.query(`SELECT 1 FROM information_schema.columns WHERE table_name = 'transactions' AND column_name = 'category'`)).rowCount === 1;
const totals = async (p: Pool = pool) => (await p.query<{ n: number; sum: string }>('SELECT count(*)::int n, sum(amount)::text sum FROM transactions')).rows[0]!;
const input = (fields: Record<string, unknown>) => recoverFromFailedMigrationInput.parse({ startedBy: 'alice', toVersion: '0001', migrationStartedAt: new Date(Date.now() - 60_000).toISOString(), ...fields });

test('bad input from the Web UI form fails with InvalidInput naming the field and creates nothing', async () => {
  const handle = await s.client.workflow.start('recoverFromFailedMigration', {
    taskQueue: s.taskQueue,
    workflowId: `failed-migration-bad-${randomUUID()}`,
    args: [JSON.parse('{"incidentId":"INC-MIG-0","startedBy":"alice","toVersion":"previous","migrationStartedAt":"2026-11-23T03:12:00Z"}')],
  });
  const error = await handle.result().then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof WorkflowFailedError, `failed: ${String(error)}`);
  const cause = error.cause as { type?: string; message: string };
  assert.equal(cause.type, 'InvalidInput');
  assert.match(cause.message, /^toVersion: must be the previous stable migration version/);
  assert.deepEqual(s.instanceIds(), ['production']);
});

test('a drill aborted at its rollback gate removes its copy and leaves production untouched', async () => {
  await migrate('0002');
  const handle = await startRunbook(s.client, { workflowType: 'recoverFromFailedMigration', scenario: 'failed-migration', input: input({ incidentId: 'DRILL-MIG-1', mode: 'drill' }), taskQueue: humanDrills!.taskQueue });
  await waitForRunbookStatus(s.client, handle.workflowId, gateIsOpen('rollback'));
  assert.equal(s.instanceIds().length, 2, 'the drill copy exists while the gate waits');
  await handle.executeUpdate(abortUpdate, { args: [{ by: 'carol', reason: 'drill window over' }] });
  const result = await runbookOutcome(s.client, handle.workflowId);
  assert.equal(result.verdict, 'aborted', result.verdictDetail);
  assert.ok(result.compensations.every((c) => c.outcome === 'succeeded') && result.compensations.length === 1, JSON.stringify(result.compensations));
  assert.deepEqual(s.instanceIds(), ['production']);
  assert.equal(await schemaVersion(), '0002');
  assert.ok(await hasCategory());
});

test('a drill rolls back a copy of production, never production, and removes the copy', async () => {
  const before = await totals();
  const handle = await startRunbook(s.client, { workflowType: 'recoverFromFailedMigration', scenario: 'failed-migration', input: input({ incidentId: 'DRILL-MIG-2', mode: 'drill' }), taskQueue: s.taskQueue });
  const result = await runbookOutcome<{ resolution: string; to: string }>(s.client, handle.workflowId);
  assert.equal(result.verdict, 'completed', result.verdictDetail);
  assert.match(result.output!.resolution, /drill/);
  assert.equal(result.output!.to, '0001', 'the copy was rolled back');
  assert.ok(result.timeline.some((t) => t.step === 'gate rollback' && t.detail?.includes('drill policy')));
  assert.ok(result.rto.cutoverVerifiedAt);
  assert.deepEqual(s.instanceIds(), ['production']);
  assert.equal(await schemaVersion(), '0002', 'production untouched');
  assert.ok(await hasCategory());
  assert.deepEqual(await totals(), before);
});

test('rollback: after bob approves, the down migrations take production back to 0001 and the checks pass', async () => {
  const before = await totals();
  const handle = await startRunbook(s.client, { workflowType: 'recoverFromFailedMigration', scenario: 'failed-migration', input: input({ incidentId: 'INC-MIG-3' }), taskQueue: s.taskQueue });
  const waiting = await waitForRunbookStatus(s.client, handle.workflowId, gateIsOpen('rollback'));
  assert.match(waiting.timeline.find((t) => t.step.startsWith('plan the rollback'))?.detail ?? '', /0002 → 0001: undo 0002 add_transaction_category/);
  assert.ok(waiting.timeline.some((t) => t.step.startsWith('safety backup') && t.outcome === 'succeeded'));
  assert.equal(await schemaVersion(), '0002', 'nothing rolled back before the approval');

  await handle.executeUpdate(approveUpdate, { args: [{ gate: 'rollback', approver: 'bob', comment: 'migration 0002 broke the reports' }] });
  const result = await runbookOutcome<{ resolution: string }>(s.client, handle.workflowId);
  assert.equal(result.verdict, 'completed', result.verdictDetail);
  assert.equal(result.output!.resolution, 'rollback');
  assert.equal(await schemaVersion(), '0001');
  assert.equal(await hasCategory(), false, 'the column of 0002 is gone');
  assert.deepEqual(await totals(), before, 'no row lost');
  assert.ok(result.timeline.some((t) => t.step === 'validate production' && t.outcome === 'succeeded'));
  assert.deepEqual(s.instanceIds(), ['production']);
});

test('irreversible migration: the child runbook restores to before it and cuts the application over', async () => {
  await writeForAWhile();
  const before = await totals();
  await sleep(1100);
  const migrationStartedAt = new Date().toISOString();
  await sleep(1100);
  await migrate('0003');
  assert.notDeepEqual(await totals(), before, 'the migration corrupted the amounts');

  const handle = await startRunbook(s.client, { workflowType: 'recoverFromFailedMigration', scenario: 'failed-migration', input: input({ incidentId: 'INC-MIG-4', migrationStartedAt }), taskQueue: s.taskQueue });
  const childId = `${handle.workflowId}-pitr`;
  const child = await waitForRunbookStatus(s.client, childId, gateIsOpen('cutover'));
  assert.equal(child.startedBy, 'alice');
  const parent = await waitForRunbookStatus(s.client, handle.workflowId, () => true);
  assert.match(parent.timeline.find((t) => t.step.startsWith('integrity checks'))?.detail ?? '', /corruption indicators: .*Financial calculations/, 'the assessment saw the corruption');
  assert.match(parent.timeline.find((t) => t.step.startsWith('plan the rollback'))?.detail ?? '', /impossible: migration 0003 .* has no down script/);
  assert.ok(parent.timeline.some((t) => t.step.startsWith('fall back to point-in-time restore') && t.detail?.includes(childId)));
  await s.client.workflow.getHandle(childId).executeUpdate(approveUpdate, { args: [{ gate: 'cutover', approver: 'bob' }] });

  const result = await runbookOutcome<{ resolution: string; recoveredInstance: string; to: string }>(s.client, handle.workflowId);
  assert.equal(result.verdict, 'completed', result.verdictDetail);
  assert.equal(result.output!.resolution, 'point-in-time restore and cutover');
  assert.equal(result.output!.to, '0001');
  const recovered = result.output!.recoveredInstance;
  assert.deepEqual(s.instanceIds(), ['production', recovered].sort());
  const connection = (await s.platform.connectionFor(recovered))!;
  const health = (await (await fetch(`${s.stack.app!.url}/health/database`)).json()) as { database: { port: number }; totalAmount: string };
  assert.equal(health.database.port, connection.port, 'the application answers from the recovered instance');
  assert.equal(health.totalAmount, before.sum, 'with the amounts from before the migration');
  const recoveredPool = new Pool({ ...connection, max: 1 });
  try {
    assert.deepEqual(await totals(recoveredPool), before);
    assert.equal(await schemaVersion(recoveredPool), '0001');
  } finally {
    await recoveredPool.end();
  }
  assert.ok(result.rpo.achievedSeconds !== undefined, `RPO measured: ${JSON.stringify(result.rpo)}`);
});

test('a drill of the fallback restores to before the migration in isolation and removes the instance', async () => {
  // Production is still on the irreversible migration 0003 (the application now runs on the restored instance).
  const instancesBefore = s.instanceIds();
  const before = await totals();
  const migrationStartedAt = (await pool.query<{ at: Date }>(`SELECT applied_at at FROM schema_migrations WHERE version = '0003'`)).rows[0]!.at;
  const handle = await startRunbook(s.client, { workflowType: 'recoverFromFailedMigration', scenario: 'failed-migration', input: input({ incidentId: 'DRILL-MIG-5', mode: 'drill', migrationStartedAt: new Date(migrationStartedAt.getTime() - 2000).toISOString() }), taskQueue: s.taskQueue });
  const result = await runbookOutcome<{ resolution: string }>(s.client, handle.workflowId);
  assert.equal(result.verdict, 'completed', result.verdictDetail);
  assert.equal(result.output!.resolution, 'point-in-time restore (drill: production untouched)');
  const child = await runbookOutcome(s.client, `${handle.workflowId}-pitr`);
  assert.equal(child.mode, 'drill');
  assert.ok(child.compensations.length === 1 && child.compensations[0]!.outcome === 'succeeded', JSON.stringify(child.compensations));
  assert.deepEqual(s.instanceIds(), instancesBefore);
  assert.deepEqual(await totals(), before);
  assert.equal(await schemaVersion(), '0003');
});
