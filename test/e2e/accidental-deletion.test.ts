import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startSteadyWriter } from '../../demo/steady-writer';
import { WorkflowFailedError } from '@temporalio/client';
import { startRunbook } from '../../client/runbooks';
import { abortUpdate, approveUpdate } from '../../workflows/messages';
import { recoverFromAccidentalDeletionInput } from '../../workflows/recover-from-accidental-deletion';
import type { DrillResult } from '../../workflows/run-drill';
import { gateIsOpen, runbookOutcome, startScenarioStack, waitForRunbookStatus, type ScenarioStack } from '../support/scenario-stack';

// Accidental deletion, whole runbook on the real stack: PITR to a new instance just before the DELETE,
// validation, an approval, and the repair that copies back exactly the lost rows while later writes stay.
let s: ScenarioStack;
before(async () => { s = await startScenarioStack(); });
after(async () => { await s?.stop(); });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('repair: the deleted rows come back, rows written after the deletion survive, the recovered instance is removed', async () => {
  const writer = startSteadyWriter({ connectionString: s.productionUrl, ratePerSecond: 10 });
  await sleep(1500);
  const doomed = await s.production(async (db) => (await db.query<{ id: string }>('SELECT id FROM transactions WHERE id % 7 = 0 AND id <= 600 ORDER BY id')).rows.map((r) => r.id));
  const beforeDeletion = new Date(Date.now() - 0).toISOString();
  await sleep(1100);
  const deletedAt = new Date();
  await s.production((db) => db.query('DELETE FROM transactions WHERE id % 7 = 0 AND id <= 600'));
  await sleep(1500);
  const writtenAfter = await writer.stop();
  assert.ok(doomed.length > 50);
  const laterIds = await s.production(async (db) => (await db.query<{ id: string }>('SELECT id FROM transactions WHERE created_at > $1 ORDER BY id', [deletedAt])).rows.map((r) => r.id));
  assert.ok(laterIds.length > 3, 'rows were written after the deletion');

  const input = recoverFromAccidentalDeletionInput.parse({ incidentId: 'INC-DEL-1', startedBy: 'alice', targetTime: beforeDeletion });
  const handle = await startRunbook(s.client, { workflowType: 'recoverFromAccidentalDeletion', scenario: 'accidental-deletion', input, taskQueue: s.taskQueue });
  const waiting = await waitForRunbookStatus(s.client, handle.workflowId, gateIsOpen('repair'));
  const dryRun = waiting.timeline.find((t) => t.step.startsWith('repair dry run'));
  assert.match(dryRun?.detail ?? '', new RegExp(`transactions: would insert ${doomed.length} of ${doomed.length} missing rows`), `the dry run counts the lost rows: ${dryRun?.detail}`);
  assert.equal(await s.production(async (db) => (await db.query('SELECT count(*)::int n FROM transactions WHERE id = ANY($1)', [doomed])).rows[0].n), 0, 'the dry run wrote nothing');

  await handle.executeUpdate(approveUpdate, { args: [{ gate: 'repair', approver: 'bob', comment: 'counts match the incident ticket' }] });
  const result = await runbookOutcome<{ inserted: number; recoveredInstance: string }>(s.client, handle.workflowId);
  assert.equal(result.verdict, 'completed', result.verdictDetail);
  assert.equal(result.output?.inserted, doomed.length);
  assert.equal(await s.production(async (db) => (await db.query('SELECT count(*)::int n FROM transactions WHERE id = ANY($1)', [doomed])).rows[0].n), doomed.length, 'every deleted row is back');
  assert.equal(await s.production(async (db) => (await db.query('SELECT count(*)::int n FROM transactions WHERE id = ANY($1)', [laterIds])).rows[0].n), laterIds.length, 'later writes survive');
  assert.ok(result.rpo.achievedSeconds !== undefined && result.rpo.withinObjective, `RPO measured: ${JSON.stringify(result.rpo)}`);
  assert.ok(result.rto.cutoverVerifiedAt, 'RTO stopped at the verified repair');
  assert.deepEqual(s.instanceIds(), ['production'], 'the recovered instance was removed');
  assert.ok(writtenAfter.inserted > 0);

  // The same repair again: everything is already back, so it copies nothing and changes nothing.
  const before = await s.production(async (db) => (await db.query('SELECT count(*)::int n, sum(amount)::text s FROM transactions')).rows[0]);
  const again = await startRunbook(s.client, { workflowType: 'recoverFromAccidentalDeletion', scenario: 'accidental-deletion', input: { ...input, incidentId: 'INC-DEL-1B' }, taskQueue: s.taskQueue });
  await waitForRunbookStatus(s.client, again.workflowId, gateIsOpen('repair'));
  await again.executeUpdate(approveUpdate, { args: [{ gate: 'repair', approver: 'bob' }] });
  const second = await runbookOutcome<{ inserted: number }>(s.client, again.workflowId);
  assert.equal(second.verdict, 'completed', second.verdictDetail);
  assert.equal(second.output?.inserted, 0, 'a second repair inserts nothing');
  assert.deepEqual(await s.production(async (db) => (await db.query('SELECT count(*)::int n, sum(amount)::text s FROM transactions')).rows[0]), before);
});

test('a drill approved by the drill policy rehearses up to the repair, then removes what it built', async () => {
  const before = await s.production(async (db) => (await db.query('SELECT count(*)::int n, sum(amount)::text s FROM transactions')).rows[0]);
  const input = recoverFromAccidentalDeletionInput.parse({ incidentId: 'DRILL-DEL-2', startedBy: 'alice', mode: 'drill', targetTime: new Date(Date.now() - 1000).toISOString() });
  const handle = await startRunbook(s.client, { workflowType: 'recoverFromAccidentalDeletion', scenario: 'accidental-deletion', input, taskQueue: s.taskQueue });
  const status = await waitForRunbookStatus(s.client, handle.workflowId, (st) => st.timeline.some((t) => t.step.startsWith('repair dry run') && t.endedAt !== undefined) || st.verdict !== undefined);
  assert.equal(status.mode, 'drill');
  const result = await runbookOutcome(s.client, handle.workflowId);
  // The drill policy approved the gate itself; the repair was not run; cleanup removed the instance.
  assert.equal(result.verdict, 'completed', result.verdictDetail);
  assert.ok(result.timeline.some((t) => t.step === 'gate repair' && t.detail?.includes('drill policy')));
  assert.ok(!result.timeline.some((t) => t.step === 'copy the lost rows back into production'));
  assert.deepEqual(s.instanceIds(), ['production']);
  assert.deepEqual(await s.production(async (db) => (await db.query('SELECT count(*)::int n, sum(amount)::text s FROM transactions')).rows[0]), before);
});

test('a drill aborted at its gate leaves no instance behind', async () => {
  // With the drill policy off, the drill waits for a person at its gate, where it is aborted.
  const taskQueue = await s.startWorker((c) => ({ ...c, approvals: { ...c.approvals, drill: { autoApprove: false } } }));
  const input = recoverFromAccidentalDeletionInput.parse({ incidentId: 'DRILL-DEL-3', startedBy: 'alice', mode: 'drill', targetTime: new Date(Date.now() - 1000).toISOString() });
  const handle = await startRunbook(s.client, { workflowType: 'recoverFromAccidentalDeletion', scenario: 'accidental-deletion', input, taskQueue });
  await waitForRunbookStatus(s.client, handle.workflowId, gateIsOpen('repair'));
  assert.equal(s.instanceIds().length, 2, 'the drill built its recovered instance');
  await handle.executeUpdate(abortUpdate, { args: [{ by: 'carol', reason: 'drill window over' }] });
  const result = await runbookOutcome(s.client, handle.workflowId);
  assert.equal(result.verdict, 'aborted');
  assert.ok(result.compensations.every((c) => c.outcome === 'succeeded'), JSON.stringify(result.compensations));
  assert.deepEqual(s.instanceIds(), ['production']);
});

test('cutover: the application moves to the recovered instance and answers from it', async () => {
  const input = recoverFromAccidentalDeletionInput.parse({ incidentId: 'INC-DEL-4', startedBy: 'alice', resolution: 'cutover', targetTime: new Date(Date.now() - 1000).toISOString() });
  const handle = await startRunbook(s.client, { workflowType: 'recoverFromAccidentalDeletion', scenario: 'accidental-deletion', input, taskQueue: s.taskQueue });
  await waitForRunbookStatus(s.client, handle.workflowId, gateIsOpen('cutover'));
  const refused = await handle.executeUpdate(approveUpdate, { args: [{ gate: 'cutover', approver: 'alice' }] }).then(() => undefined, (e: Error & { cause?: Error }) => e);
  assert.match(String(refused?.cause?.message ?? refused?.message), /two-person rule|started/i, 'the starter may not approve the cutover');
  await handle.executeUpdate(approveUpdate, { args: [{ gate: 'cutover', approver: 'bob' }] });
  const result = await runbookOutcome<{ recoveredInstance: string; application: string }>(s.client, handle.workflowId);
  assert.equal(result.verdict, 'completed', result.verdictDetail);
  const recovered = await s.platform.describeInstance(result.output!.recoveredInstance);
  const health = (await (await fetch(`${s.stack.app!.url}/health/database`)).json()) as { database: { port: number } };
  assert.equal(health.database.port, recovered.endpoint.port, 'the app answers from the recovered instance');
  assert.notEqual(recovered.endpoint.port, s.stack.production.port);
});

test('bad input from the Web UI form fails with InvalidInput naming the field, and nothing is created', async () => {
  const before = s.instanceIds();
  const error = await s.client.workflow
    .execute('recoverFromAccidentalDeletion', { taskQueue: s.taskQueue, workflowId: `bad-${Date.now()}`, args: [{ incidentId: 'INC-BAD', startedBy: 'alice', targetTime: 'yesterday', database: 'postgres://u:p@h/db' }] })
    .then(() => undefined, (e: unknown) => e as WorkflowFailedError);
  assert.ok(error instanceof WorkflowFailedError);
  const cause = error.cause as { type?: string; message: string };
  assert.equal(cause.type, 'InvalidInput');
  assert.match(cause.message, /database: must be a config name/);
  assert.match(cause.message, /targetTime: must be an ISO 8601 time/);
  assert.deepEqual(s.instanceIds(), before);
});

test('runDrill runs the scenario in drill mode, measures RTO and RPO against the objectives, and cleans up', async () => {
  const result = await s.client.workflow.execute('runDrill', {
    taskQueue: s.taskQueue,
    workflowId: `drill-accidental-deletion-${Date.now()}`,
    args: [{ scenario: 'accidental-deletion', startedBy: 'schedule:test' }],
  }) as DrillResult;
  assert.equal(result.passed, true, JSON.stringify(result.objectives));
  assert.equal(result.verdict, 'completed');
  assert.equal(result.runbook.mode, 'drill');
  assert.equal(result.objectives.rto.passed, true);
  assert.ok(result.objectives.rto.achievedSeconds! > 0);
  assert.equal(result.objectives.rpo.passed, true);
  assert.ok(!s.instanceIds().some((id) => id.includes('drill')), `no drill instance left: ${s.instanceIds().join(', ')}`);
});

test('runDrill refuses an unknown scenario, naming the field', async () => {
  const error = await s.client.workflow
    .execute('runDrill', { taskQueue: s.taskQueue, workflowId: `drill-bad-${Date.now()}`, args: [{ scenario: 'meteor', startedBy: 'x' }] })
    .then(() => undefined, (e: unknown) => e as WorkflowFailedError);
  assert.ok(error instanceof WorkflowFailedError);
  assert.match((error.cause as Error).message, /^scenario: must be one of: accidental-deletion/);
});
