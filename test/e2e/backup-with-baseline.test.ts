import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { createValidationActivities } from '../../activities/validation';
import { loadBaseline, type RestoreTestResult } from '../../activities/validation/baseline';
import { backupScheduleId, scheduleBackups, triggerBackup } from '../../client/backups';
import { startRunbook } from '../../client/runbooks';
import { DrEnvironment } from '../../contracts/search-attributes';
import { startSteadyWriter } from '../../demo/steady-writer';
import { createAdapters } from '../../worker/adapters';
import { createDatabaseConnections } from '../../worker/database-connections';
import type { BackupWithBaselineResult } from '../../workflows/backup-with-baseline';
import { approveUpdate } from '../../workflows/messages';
import { recoverFromAccidentalDeletionInput } from '../../workflows/recover-from-accidental-deletion';
import { createMemoryObjectStore } from '../support/memory-object-store';
import { startWebhookReceiver } from '../support/webhook-receiver';
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
  // It is the backup's restore test too: the restore time is in the result and in the stored verdict.
  assert.equal(backedUp.restoreTest.passed, true);
  assert.equal(backedUp.restoreTest.backupLabel, backedUp.backup.label);
  assert.ok(backedUp.restoreTest.restoreSeconds! > 0, `restored in ${backedUp.restoreTest.restoreSeconds} s`);
  const storedVerdict = JSON.parse((await createAdapters(s.config).objectStore.get(backedUp.verdict.verdictKey))!.toString('utf8')) as { restoreTest: unknown };
  assert.deepEqual(storedVerdict.restoreTest, backedUp.restoreTest);

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
    // Every baseline hashes its history with a seed of its own (so nobody can aim a change at a known
    // hash): the re-measurement's hashes differ by design, and the gate below compares this copy's rows
    // with the stored baseline's own seed, range by range.
    const unseeded = (tables: typeof stored.tables) => JSON.parse(JSON.stringify(tables), (key, value: unknown) => (key === 'hash' || key === 'seed' || key === 'probe' ? undefined : value)) as unknown;
    assert.deepEqual(unseeded(remeasured.tables), unseeded(stored.tables), 'every table, every money sum, every history range, hashed the same way');
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

test('restore testing without anyone starting it: a corruption planted in production before the scheduled run fails its restore test, its verdict says so with the restore time, and it pages (PagerDuty and the signed webhook, at the local receiver)', async () => {
  const routingKey = `R${randomBytes(16).toString('hex').slice(0, 31)}`;
  const receiver = await startWebhookReceiver({ pagerdutyRoutingKey: routingKey });
  writeFileSync(path.join(s.config.secretsDir!, 'test-pagerduty-routing'), `${routingKey}\n`);
  writeFileSync(path.join(s.config.secretsDir!, 'test-webhook-signing'), `${receiver.signingSecret}\n`);
  const pagingQueue = await s.startWorker((c) => ({
    ...c,
    application: { ...c.application!, tolerance: { rows: 0.5, money: 0.05 } },
    notifiers: [
      { type: 'pagerduty', name: 'oncall', routingKeySecret: 'test-pagerduty-routing', eventsUrl: receiver.urls.pagerduty, drills: false },
      { type: 'webhook', name: 'ops', url: receiver.urls.webhook, signingSecret: 'test-webhook-signing' },
    ],
  }));
  await s.client.schedule.getHandle(backupScheduleId('production')).delete().catch(() => undefined);
  const schedule = await scheduleBackups(s.client, { database: 'production', cron: '0 0 1 1 *', environment: 'staging', taskQueue: pagingQueue, createdBy: 'test' });
  await s.production((db) => db.query('UPDATE accounts SET balance = balance + 0.01 WHERE id = 2'));
  try {
    await triggerBackup(s.client, 'production');
    let runId: string | undefined;
    for (let i = 0; i < 120 && !runId; i++) {
      runId = (await schedule.describe()).info.recentActions.map((a) => a.action.workflow.workflowId)[0];
      if (!runId) await sleep(250);
    }
    assert.ok(runId, 'the schedule started a run');
    const error = await s.client.workflow.getHandle(runId).result().then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof WorkflowFailedError);
    const cause = error.cause as { type?: string; message: string };
    assert.equal(cause.type, 'BaselineNotGood');
    assert.equal((await s.client.workflow.getHandle(runId).describe()).typedSearchAttributes.get(DrEnvironment), 'staging', 'the KPIs find the run in its environment');
    assert.match(cause.message, /is not a known good state .*failed 1 check\(s\): ❌ Financial calculations validate: every accounts\.balance equals the sum of its transactions\.amount/);
    assert.doesNotMatch(cause.message, /the page did not go out/);
    assert.ok(!s.instanceIds().some((id) => id.includes('baseline-copy')), 'the restored copy was removed');

    // The verdict in the object store: the restore test failed at the checks, with its restore time.
    const adapters = createAdapters(s.config);
    const verdictKey = /\((baselines\/production\/verdicts\/[^)]+\.json)\)/.exec(cause.message)![1]!;
    const verdict = JSON.parse((await adapters.objectStore.get(verdictKey))!.toString('utf8')) as { good: boolean; restoreTest: RestoreTestResult };
    assert.equal(verdict.good, false);
    assert.equal(verdict.restoreTest.passed, false);
    assert.equal(verdict.restoreTest.failedAt, 'checks');
    assert.ok(verdict.restoreTest.restoreSeconds! > 0);
    assert.equal(verdict.restoreTest.failedChecks.length, 1);

    // The page, as PagerDuty and our webhook receive it (the receiver checks the documented shapes and the signature).
    const pages = receiver.requests.filter((r) => r.target === 'pagerduty');
    assert.equal(pages.length, 1, JSON.stringify(pages.map((p) => p.problems)));
    assert.deepEqual(pages[0]!.problems, []);
    const event = pages[0]!.json as { event_action: string; dedup_key: string; payload: { summary: string; severity: string; custom_details: Record<string, string> } };
    assert.equal(event.event_action, 'trigger');
    assert.equal(event.dedup_key, 'dr-runbooks/backup-test/staging/production');
    assert.match(event.payload.summary, /^\[HIGH\] (\S+ )?Backup Restore Test - Failed \(production, staging\)$/);
    assert.equal(event.payload.custom_details.backup_set?.split(' ')[0], verdict.restoreTest.backupLabel);
    assert.match(event.payload.custom_details.failed_check_1 ?? '', /Financial calculations validate/);
    const hooks = receiver.requests.filter((r) => r.target === 'webhook');
    assert.equal(hooks.length, 1);
    assert.deepEqual(hooks[0]!.problems, []);
    assert.equal(hooks[0]!.headers['x-dr-event'], 'backup.test-failed');
    const body = hooks[0]!.json as { notification: { kind: string; workflowId: string; verdictKey: string; restoreSeconds: number } };
    assert.deepEqual([body.notification.kind, body.notification.workflowId, body.notification.verdictKey, body.notification.restoreSeconds], ['backup-test-failed', runId, verdictKey, verdict.restoreTest.restoreSeconds]);

    // The runbooks keep the last good baseline.
    const gate = createValidationActivities(createDatabaseConnections(s.config, adapters.secrets, s.platform), adapters.objectStore, { application: s.config.application });
    const found = await gate.findValidationBaseline({ database: 'production', at: new Date().toISOString() });
    assert.ok(found.found && found.backupLabel === backedUp.backup.label, `the last good baseline is still the one found: ${JSON.stringify(found)}`);
  } finally {
    await s.production((db) => db.query('UPDATE accounts SET balance = balance - 0.01 WHERE id = 2'));
    await schedule.delete().catch(() => undefined);
    await receiver.close();
  }
});
