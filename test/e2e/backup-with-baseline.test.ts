import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { createValidationActivities } from '../../activities/validation';
import { loadBaseline } from '../../activities/validation/baseline';
import { startRunbook } from '../../client/runbooks';
import { startSteadyWriter } from '../../demo/steady-writer';
import { createAdapters } from '../../worker/adapters';
import { createDatabaseConnections } from '../../worker/database-connections';
import type { BackupWithBaselineResult } from '../../workflows/backup-with-baseline';
import { approveUpdate } from '../../workflows/messages';
import { recoverFromAccidentalDeletionInput } from '../../workflows/recover-from-accidental-deletion';
import { createMemoryObjectStore } from '../support/memory-object-store';
import { gateIsOpen, runbookOutcome, startScenarioStack, waitForRunbookStatus, type ScenarioStack } from '../support/scenario-stack';

// backupWithBaseline on the real stack (pgBackRest, a restored copy, the object store), with the
// application writing all the while, and the proof that its baseline is the backup's: an independent
// restore of the same backup set measures exactly the same, production measured "about then" does not.
// Then the runbooks compare with it: the drill's report reconciles against it, and a REVIEW line is shown
// at a real cutover gate and recorded with the approval.
let s: ScenarioStack;
let backedUp: BackupWithBaselineResult;
/** A worker whose gate allows 50 % growth in rows: this ledger is 600 rows and the test's writers add dozens a second. */
let taskQueue: string;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  s = await startScenarioStack();
  taskQueue = await s.startWorker((c) => ({ ...c, application: { ...c.application!, tolerance: { rows: 0.5, money: 0.05 } } }));
});
after(async () => {
  await s?.stop();
});

const runBackup = (id: string) => s.client.workflow.execute('backupWithBaseline', { taskQueue, workflowId: id, args: [{ database: 'production', type: 'incr', startedBy: 'test' }] }) as Promise<BackupWithBaselineResult>;

test('the baseline is read at the backup\'s consistent point: an independent restore of the backup set measures the same, production "about then" does not', async () => {
  const writer = startSteadyWriter({ connectionString: s.productionUrl, ratePerSecond: 25, label: 'during-backup' });
  await sleep(500);
  backedUp = await runBackup(`backup-proof-${Date.now()}`);
  // Production as a naive baseline would read it: right after the backup, writes still going on.
  const aboutThen = await s.production(async (db) => (await db.query<{ n: string }>('SELECT count(*)::text n FROM transactions')).rows[0]!.n);
  await sleep(500);
  await writer.stop();

  assert.equal(backedUp.verified, true);
  assert.equal(backedUp.verdict.good, true, backedUp.verdict.reason);
  assert.deepEqual(backedUp.failedChecks, []);
  const baseline = backedUp.baseline!;
  assert.equal(baseline.baselineKey, `baselines/production/${backedUp.backup.label}.json`);
  // Writes were replayed into the copy up to the backup's end: its consistent point is a commit inside the backup.
  assert.ok(Date.parse(baseline.consistentAt) > Date.parse(backedUp.backup.startedAt) && Date.parse(baseline.consistentAt) <= Date.parse(backedUp.backup.stoppedAt) + 1000, `${backedUp.backup.startedAt} < ${baseline.consistentAt} ≤ ${backedUp.backup.stoppedAt}`);
  assert.ok(BigInt(aboutThen) > BigInt(baseline.tables.transactions!.rows), `production about then (${aboutThen}) holds more than the backup (${baseline.tables.transactions!.rows})`);
  assert.ok(!s.instanceIds().some((id) => id.includes('baseline-copy')), 'the restored copy was removed');

  // The proof: the same backup set restored again, by hand, and measured the same way, range by range.
  const adapters = createAdapters(s.config);
  const databases = createDatabaseConnections(s.config, adapters.secrets, s.platform);
  const proofStore = createMemoryObjectStore();
  const proof = createValidationActivities(databases, proofStore, { application: s.config.application });
  const stored = (await loadBaseline(adapters.objectStore, baseline.baselineKey))!;
  try {
    await s.platform.restoreBackupToNewInstance({ instanceId: 'baseline-proof', sourceInstanceId: 'production', backupLabel: backedUp.backup.label });
    const again = await proof.captureBaseline({ database: 'baseline-proof', source: 'production', backup: stored.backup });
    const remeasured = (await loadBaseline(proofStore, again.baselineKey))!;
    assert.equal(remeasured.consistentAt, stored.consistentAt);
    assert.deepEqual(remeasured.schema, stored.schema);
    assert.deepEqual(remeasured.tables, stored.tables, 'every table, every money sum, every history range and its hash');
    // And the gate, compared with the stored baseline, finds nothing to say.
    const gate = createValidationActivities(databases, adapters.objectStore, { application: s.config.application });
    const reconciled = await gate.reconcileWithBaseline({ database: 'baseline-proof', baselineKey: baseline.baselineKey });
    assert.deepEqual(reconciled.checks.map((c) => [c.id, c.verdict]).sort(), [['history:audit_logs', 'pass'], ['history:transactions', 'pass'], ['reconciliation', 'pass'], ['schema', 'pass']]);
    assert.ok(reconciled.lines.every((l) => l.verdict === 'match' && l.current === l.baseline), reconciled.report);
  } finally {
    await s.platform.deleteInstance('baseline-proof');
    await databases.close();
  }
});

test("the runbooks reconcile with it: a drill's report shows the seed's lines against the baseline taken with the backup", async () => {
  const writer = startSteadyWriter({ connectionString: s.productionUrl, ratePerSecond: 10, label: 'after-backup' });
  await sleep(1500);
  const targetTime = new Date().toISOString();
  await sleep(500);
  await writer.stop();
  const input = recoverFromAccidentalDeletionInput.parse({ incidentId: 'DRILL-BASELINE-1', startedBy: 'alice', mode: 'drill', targetTime });
  const handle = await startRunbook(s.client, { workflowType: 'recoverFromAccidentalDeletion', scenario: 'accidental-deletion', input, taskQueue });
  const result = await runbookOutcome<{ reconciliation: string[] }>(s.client, handle.workflowId);
  assert.equal(result.verdict, 'completed', result.verdictDetail);
  assert.ok(result.timeline.some((t) => t.step.startsWith('find the last known good baseline of production') && t.detail?.startsWith(`backup ${backedUp.backup.label}`)));
  const lines = result.output!.reconciliation;
  assert.equal(lines[0], `Against baseline of backup ${backedUp.backup.label} (consistent at ${backedUp.baseline!.consistentAt}; history up to ${backedUp.baseline!.historyUpTo}):`);
  assert.match(lines[1]!, /^User Accounts: 60 \(baseline: 60\) ✅$/);
  assert.match(lines[2]!, /^Total Transactions: [\d,]+ \(baseline: [\d,]+\) ✅ — \+\d+ rows since the baseline \([\d.]+ %; tolerance 50 %\); history up to .* unchanged/);
  assert.match(lines.find((l) => l.startsWith('Account Balances'))!, /exactly as the ledger transactions\.amount moved/);
  const report = (await createAdapters(s.config).objectStore.get(result.report && 'markdownKey' in result.report ? result.report.markdownKey : ''))!.toString('utf8');
  assert.match(report, /## Reconciliation\n\n- Against baseline of backup .*\n- User Accounts: 60 \(baseline: 60\) ✅\n- Total Transactions: /);
});

test('a REVIEW line blocks a real cutover until someone approves it knowingly: the gate shows it, the approval records it was shown', async () => {
  // A goal saved into far beyond the tolerance, after the backup: nothing is known to be wrong, a person must look.
  await s.production((db) => db.query('UPDATE savings_goals SET current_amount = current_amount + 90000 WHERE id = 3'));
  const writer = startSteadyWriter({ connectionString: s.productionUrl, ratePerSecond: 10, label: 'before-review' });
  await sleep(1200);
  const targetTime = new Date().toISOString();
  await sleep(300);
  await writer.stop();
  const input = recoverFromAccidentalDeletionInput.parse({ incidentId: 'INC-REVIEW-1', startedBy: 'alice', resolution: 'cutover', targetTime });
  const handle = await startRunbook(s.client, { workflowType: 'recoverFromAccidentalDeletion', scenario: 'accidental-deletion', input, taskQueue });
  const waiting = await waitForRunbookStatus(s.client, handle.workflowId, gateIsOpen('cutover'));
  const gate = waiting.openGates.find((g) => g.gate === 'cutover')!;
  assert.equal(gate.review?.length, 1, JSON.stringify(gate.review));
  assert.match(gate.review![0]!, /^Goals Total: \$[\d,]+\.\d\d \(baseline: \$[\d,]+\.\d\d\) ⚠️ REVIEW — \+\$90,000\.00 since the baseline .*: more than the tolerance$/);
  assert.match(waiting.timeline.find((t) => t.step === 'gate cutover')!.detail!, /REVIEW before deciding: Goals Total: /);
  assert.equal(waiting.timeline.find((t) => t.step.startsWith('validate '))!.outcome, 'succeeded', 'REVIEW does not fail the gate');
  await handle.executeUpdate(approveUpdate, { args: [{ gate: 'cutover', approver: 'bob', comment: 'goal 3 was a bulk transfer, checked with finance' }] });
  const result = await runbookOutcome(s.client, handle.workflowId);
  assert.equal(result.verdict, 'completed', result.verdictDetail);
  assert.equal(result.timeline.find((t) => t.step === 'gate cutover: approve from bob')!.detail, 'goal 3 was a bulk transfer, checked with finance (with 1 REVIEW line shown)');
  assert.equal(result.gates.find((g) => g.gate === 'cutover')!.review?.length, 1);
});

test('a backup of inconsistent data is no baseline: its verdict says why, the runbooks keep the last good one, and its copy is removed', async () => {
  await s.production((db) => db.query('UPDATE accounts SET balance = balance + 0.01 WHERE id = 2'));
  try {
    const error = await runBackup(`backup-bad-${Date.now()}`).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof WorkflowFailedError);
    const cause = error.cause as { type?: string; message: string };
    assert.equal(cause.type, 'BaselineNotGood');
    assert.match(cause.message, /is not a known good state .*failed 1 check\(s\): ❌ Financial calculations validate: every accounts\.balance equals the sum of its transactions\.amount/);
    assert.ok(!s.instanceIds().some((id) => id.includes('baseline-copy')), 'the restored copy was removed');
    const gate = createValidationActivities(createDatabaseConnections(s.config, createAdapters(s.config).secrets, s.platform), createAdapters(s.config).objectStore, { application: s.config.application });
    const found = await gate.findValidationBaseline({ database: 'production', at: new Date().toISOString() });
    assert.ok(found.found && found.backupLabel === backedUp.backup.label, `the last good baseline is still the one found: ${JSON.stringify(found)}`);
  } finally {
    await s.production((db) => db.query('UPDATE accounts SET balance = balance - 0.01 WHERE id = 2'));
  }
});
