import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Client as PgClient } from 'pg';
import { WorkflowFailedError } from '@temporalio/client';
import { startSteadyWriter } from '../../demo/steady-writer';
import { startRunbook } from '../../client/runbooks';
import { abortUpdate, approveUpdate } from '../../workflows/messages';
import type { RunbookStatus } from '../../contracts/runbook-status';
import { recoverFromServerFailureInput, type RecoverFromServerFailureInput } from '../../workflows/recover-from-server-failure';
import { gateIsOpen, runbookOutcome, startScenarioStack, waitForRunbookStatus, type ScenarioStack } from '../support/scenario-stack';

// Server failure, whole runbook on the real stack: a standby streaming from production, production
// killed under steady writes, the failure confirmed over a window, the standby promoted, an approval,
// the application cut over to it. Then the same without a standby (restore of the latest backup),
// drills (isolated, removed, also when aborted at the gate), a healthy primary, and a bad input.
let s: ScenarioStack;
/** A second worker whose drills wait for a person at their gates (drill policy off), to abort one there. */
let strictDrillsQueue: string;

before(async () => {
  s = await startScenarioStack();
  await s.platform.createReplica({ instanceId: 'standby', sourceInstanceId: 'production' });
  strictDrillsQueue = await s.startWorker((c) => ({ ...c, approvals: { ...c.approvals, drill: { autoApprove: false } } }));
});
after(async () => {
  await s?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The cutover gate is open, or the runbook ended (so a failure shows at once, not after a timeout). */
const atCutoverGate = (st: RunbookStatus) => gateIsOpen('cutover')(st) || st.verdict !== undefined;
const fast = { checks: 2, checkIntervalSeconds: 1, checkTimeoutSeconds: 2 } as const;

function start(input: RecoverFromServerFailureInput, taskQueue = s.taskQueue) {
  return startRunbook(s.client, { workflowType: 'recoverFromServerFailure', scenario: 'server-failure', input: recoverFromServerFailureInput.parse(input), taskQueue });
}

async function onInstance<T>(instanceId: string, fn: (db: PgClient) => Promise<T>): Promise<T> {
  const c = new PgClient({ ...(await s.platform.connectionFor(instanceId))!, connectionTimeoutMillis: 3000 });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function appHealth(): Promise<{ status: string; database: { port: number }; transactionCount: number }> {
  return (await fetch(`${s.stack.app!.url}/health/database`)).json() as never;
}

/** The seeded rows are old; a live application writes all the time, and the validation's recency check expects it. */
async function writeForAWhile(ms = 1000, label = 'steady-writer') {
  const writer = startSteadyWriter({ connectionString: s.productionUrl, ratePerSecond: 20, label });
  await sleep(ms);
  return writer.stop();
}

const ledger = (db: PgClient) => db.query<{ n: number; s: string }>('SELECT count(*)::int n, sum(amount)::text s FROM transactions').then((r) => r.rows[0]);

test('bad input from the Web UI form fails with InvalidInput naming the field, and creates nothing', async () => {
  for (const [raw, field] of [
    [{ incidentId: 'INC-SF-BAD', startedBy: 'alice', checks: 1 }, /checks: must be at least 2/],
    [{ incidentId: 'INC-SF-BAD', startedBy: 'alice', replica: 'production' }, /replica: must be a standby/],
    [{ incidentId: 'INC-SF-BAD', startedBy: 'alice', checkIntervalSeconds: 'twenty' }, /checkIntervalSeconds: must be a number/],
  ] as const) {
    const handle = await s.client.workflow.start('recoverFromServerFailure', { taskQueue: s.taskQueue, workflowId: `bad-${randomUUID()}`, args: [raw] });
    const error = await handle.result().then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof WorkflowFailedError, `fails: ${String(error)}`);
    const cause = error.cause as { type?: string; message: string };
    assert.equal(cause.type, 'InvalidInput');
    assert.match(cause.message, field);
  }
  assert.deepEqual(s.instanceIds(), ['production', 'standby']);
});

test('a healthy primary is never failed over: the runbook ends saying production answers', async () => {
  const handle = await start({ incidentId: 'INC-SF-OK', startedBy: 'alice', replica: 'standby', ...fast });
  const result = await runbookOutcome<{ failover: boolean; finding: string }>(s.client, handle.workflowId);
  assert.equal(result.verdict, 'completed', result.verdictDetail);
  assert.equal(result.output?.failover, false);
  assert.match(result.output!.finding, /production answered check 1 of 2/);
  assert.ok(!result.timeline.some((t) => t.step.startsWith('promote')));
  assert.deepEqual(s.instanceIds(), ['production', 'standby']);
  assert.equal((await s.platform.describeInstance('standby')).role, 'replica', 'the standby still follows production');
});

test('a drill builds, promotes, validates and removes its own replica; the standby, the app and production are untouched', async () => {
  await writeForAWhile();
  const before = await s.production(ledger);
  const appBefore = (await appHealth()).database.port;
  const handle = await start({ incidentId: 'DRILL-SF-1', startedBy: 'alice', mode: 'drill', replica: 'standby', ...fast });
  const result = await runbookOutcome<{ path: string; recoveredInstance: string }>(s.client, handle.workflowId);
  assert.equal(result.verdict, 'completed', result.verdictDetail);
  assert.equal(result.output?.path, 'promoted-standby');
  assert.notEqual(result.output?.recoveredInstance, 'standby');
  assert.ok(result.timeline.some((t) => t.step.startsWith('drill: build a replica')));
  assert.ok(result.timeline.some((t) => t.step === 'gate cutover' && t.detail?.includes('drill policy')));
  assert.ok(result.rto.cutoverVerifiedAt, 'RTO measured');
  assert.ok(result.compensations.some((c) => c.outcome === 'succeeded' && c.name.startsWith('delete the drill replica')));
  assert.deepEqual(s.instanceIds(), ['production', 'standby']);
  assert.equal((await s.platform.describeInstance('standby')).role, 'replica');
  assert.equal((await appHealth()).database.port, appBefore);
  assert.deepEqual(await s.production(ledger), before);
});

test('a drill aborted at its cutover gate removes its restored instance', async () => {
  await writeForAWhile();
  const before = await s.production(ledger);
  const handle = await start({ incidentId: 'DRILL-SF-2', startedBy: 'alice', mode: 'drill', ...fast }, strictDrillsQueue);
  const waiting = await waitForRunbookStatus(s.client, handle.workflowId, atCutoverGate);
  assert.ok(waiting.verdict === undefined, `waits at the cutover gate: ${waiting.verdict} ${waiting.verdictDetail ?? ''}`);
  assert.ok(waiting.timeline.some((t) => t.step.startsWith('restore the latest backup') && t.outcome === 'succeeded'));
  assert.equal(s.instanceIds().length, 3, 'the drill restored its own instance');
  await handle.executeUpdate(abortUpdate, { args: [{ by: 'alice', reason: 'drill stopped at the gate on purpose' }] });
  const result = await runbookOutcome(s.client, handle.workflowId);
  assert.equal(result.verdict, 'aborted', result.verdictDetail);
  assert.ok(result.compensations.some((c) => c.outcome === 'succeeded' && c.name.startsWith('delete the restored instance')));
  assert.deepEqual(s.instanceIds(), ['production', 'standby']);
  assert.deepEqual(await s.production(ledger), before, 'production untouched');
});

test('production killed under steady writes: the standby is promoted after approval and the application runs on it', async () => {
  const writer = startSteadyWriter({ connectionString: s.productionUrl, ratePerSecond: 20, label: 'before-failure' });
  await sleep(1500);
  // What archive_timeout does in production: the WAL so far reaches the archive (the restore path needs it).
  await s.production((db) => db.query('SELECT pg_switch_wal()'));
  await sleep(1500);
  await s.stack.production.stop('immediate');
  await sleep(300);
  const written = await writer.stop();
  assert.ok(written.inserted > 10);

  const handle = await start({ incidentId: 'INC-SF-1', startedBy: 'alice', replica: 'standby', checks: 3, checkIntervalSeconds: 1, checkTimeoutSeconds: 2 });
  const waiting = await waitForRunbookStatus(s.client, handle.workflowId, atCutoverGate);
  assert.ok(waiting.verdict === undefined, `waits at the cutover gate: ${waiting.verdict} ${waiting.verdictDetail ?? ''}`);
  assert.equal(waiting.timeline.filter((t) => /^check \d of 3/.test(t.step) && t.detail?.startsWith('unreachable')).length, 3, 'three failed checks confirm the failure');
  assert.ok(waiting.timeline.some((t) => t.step === 'promote the standby standby' && t.outcome === 'succeeded'));
  assert.notEqual((await appHealth()).database.port, (await s.platform.describeInstance('standby')).endpoint.port, 'the app is not moved before the approval');

  await handle.executeUpdate(approveUpdate, { args: [{ gate: 'cutover', approver: 'bob', comment: 'standby validated' }] });
  const result = await runbookOutcome<{ path: string; recoveredInstance: string }>(s.client, handle.workflowId);
  assert.equal(result.verdict, 'completed', result.verdictDetail);
  assert.equal(result.output?.path, 'promoted-standby');
  assert.equal(result.output?.recoveredInstance, 'standby');
  assert.ok(result.rpo.achievedSeconds !== undefined && result.rpo.withinObjective, `RPO measured: ${JSON.stringify(result.rpo)}`);
  assert.ok(result.rto.cutoverVerifiedAt);

  const standby = await s.platform.describeInstance('standby');
  assert.equal(standby.role, 'primary');
  const health = await appHealth();
  assert.equal(health.status, 'ok');
  assert.equal(health.database.port, standby.endpoint.port, 'the application answers from the promoted standby');
  const kept = await onInstance('standby', async (db) => (await db.query<{ n: number }>("SELECT count(*)::int n FROM transactions WHERE description = 'before-failure'")).rows[0]!.n);
  assert.ok(kept > 0 && kept <= written.inserted, `writes made before the failure are on the standby (${kept} of ${written.inserted})`);
  await onInstance('standby', (db) => db.query("INSERT INTO transactions (account_id, user_id, amount, description) SELECT id, user_id, 1.00, 'after-failover' FROM accounts ORDER BY id LIMIT 1"));
  assert.equal((await appHealth()).transactionCount, health.transactionCount + 1, 'the promoted standby takes writes');
});

test('without a standby the latest backup and the archived WAL are restored into a new instance and the application cut over', async () => {
  // Production is still down from the previous test.
  const handle = await start({ incidentId: 'INC-SF-2', startedBy: 'alice', ...fast });
  const waiting = await waitForRunbookStatus(s.client, handle.workflowId, atCutoverGate);
  assert.ok(waiting.verdict === undefined, `waits at the cutover gate: ${waiting.verdict} ${waiting.verdictDetail ?? ''}`);
  await handle.executeUpdate(approveUpdate, { args: [{ gate: 'cutover', approver: 'bob' }] });
  const result = await runbookOutcome<{ path: string; recoveredInstance: string }>(s.client, handle.workflowId);
  assert.equal(result.verdict, 'completed', result.verdictDetail);
  assert.equal(result.output?.path, 'restored-backup');
  const restored = result.output!.recoveredInstance;
  assert.deepEqual(s.instanceIds(), ['production', restored, 'standby'].sort(), 'the restored instance is kept: the application runs on it');
  const health = await appHealth();
  assert.equal(health.database.port, (await s.platform.describeInstance(restored)).endpoint.port);
  assert.ok(health.transactionCount > 0);
  assert.ok(result.rpo.achievedSeconds !== undefined && result.rpo.withinObjective, `RPO measured: ${JSON.stringify(result.rpo)}`);
  const archived = await onInstance(restored, async (db) => (await db.query<{ n: number }>("SELECT count(*)::int n FROM transactions WHERE description = 'before-failure'")).rows[0]!.n);
  assert.ok(archived > 0, 'the writes archived before the failure were replayed from the WAL archive, not only the backup');
});
