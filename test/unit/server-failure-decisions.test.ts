import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { abortUpdate, approveUpdate } from '../../workflows/messages';
import type { RunbookResult } from '../../contracts/runbook-status';
import type { RecoverFromServerFailureInput } from '../../workflows/recover-from-server-failure';
import { gateOpen, waitForStatus } from '../support/fixture-runbook';
import { serverFailureFakes as fakes, type ServerFailureScript as Script } from '../support/server-failure-fakes';
import { useWorkflowsServer } from '../support/workflows-server';

// The server-failure runbook's decisions, on the real dev server with fake activities: when the failure
// counts as confirmed, which way it recovers, and what a drill is allowed to touch.
const w = useWorkflowsServer('dr-server-failure-unit-');

async function run<T>(script: Script, fn: (ctx: { taskQueue: string; calls: string[] }) => Promise<T>): Promise<T> {
  const { calls, activities } = fakes(script);
  return w.withWorker(activities, (taskQueue) => fn({ taskQueue, calls }), 'server-failure');
}

function start(taskQueue: string, input: Partial<RecoverFromServerFailureInput>) {
  const full: RecoverFromServerFailureInput = { incidentId: 'INC-9', startedBy: 'alice', checks: 3, checkIntervalSeconds: 1, checkTimeoutSeconds: 1, ...input };
  return w.env.client.workflow.start('recoverFromServerFailure', { taskQueue, workflowId: `sf-${randomUUID()}`, args: [full] });
}

test('a primary that answers the last check of the window is not failed over: nothing is promoted or built', async () => {
  await run({ probes: [false, false, true], standby: { accepting: true, newestCommitSecondsBeforeFailure: 1 } }, async ({ taskQueue, calls }) => {
    const result = (await (await start(taskQueue, { replica: 'standby' })).result()) as RunbookResult<{ failover: boolean; finding: string }>;
    assert.equal(result.verdict, 'completed');
    assert.equal(result.output?.failover, false);
    assert.match(result.output!.finding, /production answered check 3 of 3/);
    assert.deepEqual(calls, ['probe production down', 'probe production down', 'probe production up']);
  });
});

test('a primary that still answers the platform (its standby measures a lag in bytes) is not failed over', async () => {
  await run({ probes: [false, false, false], standby: { accepting: true, lagBytes: 0 } }, async ({ taskQueue, calls }) => {
    const result = (await (await start(taskQueue, { replica: 'standby' })).result()) as RunbookResult<{ failover: boolean; finding: string }>;
    assert.equal(result.output?.failover, false);
    assert.match(result.output!.finding, /answered the platform/);
    assert.deepEqual(calls.slice(3), ['describe standby']);
  });
});

test('a standby lagging more than the RPO objective is not promoted: the latest backup is restored instead', async () => {
  await run({ probes: [false, false, false], standby: { accepting: true, newestCommitSecondsBeforeFailure: 1200 } }, async ({ taskQueue, calls }) => {
    const handle = await start(taskQueue, { replica: 'standby' });
    await waitForStatus(handle, gateOpen('cutover'), 'cutover gate open');
    assert.ok(!calls.some((c) => c.startsWith('point app')), 'the application is not moved before the approval');
    await handle.executeUpdate(approveUpdate, { args: [{ gate: 'cutover', approver: 'bob' }] });
    const result = (await handle.result()) as RunbookResult<{ path: string; standbyDecision: string; recoveredInstance: string }>;
    assert.equal(result.verdict, 'completed', result.verdictDetail);
    assert.equal(result.output?.path, 'restored-backup');
    assert.match(result.output!.standbyDecision, /standby lags 1200 s \(RPO objective 900 s\)/);
    assert.ok(!calls.some((c) => c.startsWith('promote')));
    const restored = result.output!.recoveredInstance;
    assert.deepEqual(calls.slice(calls.indexOf('list backups')), [
      'list backups', 'restore restore-latest', `newest ${restored}`, 'baseline of production', `validate ${restored}`,
      `rotate on ${restored}`, `point app at ${restored} (version 4)`, 'restart app', 'rollout done', `app healthy on ${restored}`, `revoke on ${restored}`,
      `validate ${restored}`,
    ], 'rotate → point → rollout restart → rollout status → health → revoke → post-recovery checks');
    const step = (name: string) => result.timeline.find((t) => t.step === name);
    assert.match(step(`rotate the application's database password on ${restored}`)?.detail ?? '', /^new password for mita_app: app-database-connection version 4 \(the application held version 3\)$/);
    assert.equal(step(`point the application at ${restored}`)?.detail, 'Secret mita-production/mita-db-config now 127.0.0.1:6000/mita (app-database-connection version 4), was 127.0.0.1:5432/mita');
    assert.equal(step('rollout restart deployment/mita-backend')?.detail, 'stopped revision 1 (3 replicas), started rollout of deployment/mita-backend, generation 2');
    assert.equal(step('rollout status deployment/mita-backend')?.detail, '3 of 3 updated, 3 available: deployment "mita-backend" successfully rolled out');
    assert.match(step(`revoke the application's old database password on ${restored}`)?.detail ?? '', /old password of mita_app refused/);
    const verified = result.timeline.findIndex((t) => t.step === 'cutover verified');
    assert.ok(verified > result.timeline.findIndex((t) => t.step.startsWith('wait until the application is healthy')) && verified < result.timeline.findIndex((t) => t.step.startsWith('revoke')), 'the RTO clock stops when the application answers healthy');
    assert.equal(result.rpo.achievedSeconds, 2);
  });
});

test('a standby within the RPO is promoted; one that does not answer is passed over', async () => {
  await run({ probes: [false, false], standby: { accepting: true, newestCommitSecondsBeforeFailure: 3 } }, async ({ taskQueue, calls }) => {
    const handle = await start(taskQueue, { replica: 'standby', checks: 2 });
    await waitForStatus(handle, gateOpen('cutover'), 'cutover gate open');
    await handle.executeUpdate(approveUpdate, { args: [{ gate: 'cutover', approver: 'bob' }] });
    const result = (await handle.result()) as RunbookResult<{ path: string }>;
    assert.equal(result.output?.path, 'promoted-standby');
    assert.ok(calls.includes('promote standby') && calls.includes('point app at standby (version 4)'));
    assert.ok(!calls.some((c) => c.startsWith('restore')));
  });
  await run({ probes: [false, false], standby: { accepting: false } }, async ({ taskQueue, calls }) => {
    const handle = await start(taskQueue, { replica: 'standby', checks: 2, mode: 'drill' });
    const result = (await handle.result()) as RunbookResult<{ path: string; standbyDecision: string }>;
    assert.equal(result.output?.path, 'restored-backup');
    assert.match(result.output!.standbyDecision, /not accepting connections/);
    assert.ok(!calls.some((c) => c.startsWith('promote')));
  });
});

test('a drill never promotes the real standby nor moves the application, and removes what it built', async () => {
  await run({ probes: [true, true], standby: { accepting: true, lagBytes: 0 } }, async ({ taskQueue, calls }) => {
    const result = (await (await start(taskQueue, { replica: 'standby', checks: 2, mode: 'drill' })).result()) as RunbookResult<{ path: string; recoveredInstance: string }>;
    assert.equal(result.verdict, 'completed', result.verdictDetail);
    assert.equal(result.output?.path, 'promoted-standby');
    const built = result.output!.recoveredInstance;
    assert.notEqual(built, 'standby');
    assert.ok(calls.includes(`promote ${built}`));
    assert.ok(!calls.includes('promote standby'));
    assert.ok(!calls.some((c) => c.startsWith('point app') || c === 'restart app'));
    assert.equal(calls.at(-1), `delete ${built}`);
  });
});

test('aborted during the confirmation window: ends aborted at once, nothing built', async () => {
  await run({ probes: [false, false, false] }, async ({ taskQueue, calls }) => {
    const handle = await start(taskQueue, { checkIntervalSeconds: 600 });
    await waitForStatus(handle, (s) => s.timeline.some((t) => t.step.startsWith('check 1 of 3') && t.outcome === 'succeeded'), 'first check done');
    await handle.executeUpdate(abortUpdate, { args: [{ by: 'carol', reason: 'false alarm' }] });
    const result = (await handle.result()) as RunbookResult;
    assert.equal(result.verdict, 'aborted');
    assert.deepEqual(calls, ['probe production down']);
  });
});

async function failedRunbook(handle: { result(): Promise<unknown> }): Promise<{ error: WorkflowFailedError; result: RunbookResult }> {
  const error = await handle.result().then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof WorkflowFailedError, `fails: ${String(error)}`);
  return { error, result: (error.cause as { details?: RunbookResult[] }).details![0]! };
}

test('a rollout that never becomes available puts the previous connection back, restarts again, and fails the cutover with the platform\'s words', async () => {
  await run({ probes: [false, false], rollouts: [false, true] }, async ({ taskQueue, calls }) => {
    const handle = await start(taskQueue, { checks: 2 });
    await waitForStatus(handle, gateOpen('cutover'), 'cutover gate open');
    await handle.executeUpdate(approveUpdate, { args: [{ gate: 'cutover', approver: 'bob' }] });
    const { error, result } = await failedRunbook(handle);
    const message = (error.cause as Error).message;
    const restored = calls.find((c) => c.startsWith('rotate on '))!.slice('rotate on '.length);
    assert.deepEqual(calls.slice(calls.indexOf(`rotate on ${restored}`)), [
      `rotate on ${restored}`, `point app at ${restored} (version 4)`, 'restart app', 'rollout stuck',
      'put back version 3 (production)', 'restart app', 'rollout done',
    ], 'no health wait, no revocation, no post-recovery checks after a failed rollout');
    assert.match(message, /ended failed: failed: the cutover to restored-restore-latest failed: deployment "mita-backend" exceeded its progress deadline: ReplicaSet "mita-backend-5d8f" has timed out progressing\.; Secret mita-production\/mita-db-config is back on app-database-connection version 3 and deployment\/mita-backend rolled out on it/);
    assert.equal(result.verdict, 'failed');
    assert.equal(result.timeline.find((t) => t.step === 'rollout status deployment/mita-backend')?.outcome, 'failed');
    assert.equal(result.timeline.find((t) => t.step === 'roll back: put Secret mita-production/mita-db-config back to app-database-connection version 3')?.outcome, 'succeeded');
    assert.equal(result.timeline.find((t) => t.step === 'roll back: rollout status deployment/mita-backend')?.outcome, 'succeeded');
    assert.equal(result.rto.cutoverVerifiedAt, undefined, 'the cutover was never verified');
  });
});

test('when the rollback\'s rollout does not finish either, the failure says both', async () => {
  await run({ probes: [false, false], rollouts: [false, false] }, async ({ taskQueue, calls }) => {
    const handle = await start(taskQueue, { checks: 2 });
    await waitForStatus(handle, gateOpen('cutover'), 'cutover gate open');
    await handle.executeUpdate(approveUpdate, { args: [{ gate: 'cutover', approver: 'bob' }] });
    const { error } = await failedRunbook(handle);
    const message = (error.cause as Error).message;
    assert.deepEqual(calls.slice(-4), ['rollout stuck', 'put back version 3 (production)', 'restart app', 'rollout stuck']);
    assert.match(message, /is back on app-database-connection version 3, but its rollout did not finish either: deployment "mita-backend" exceeded its progress deadline/);
  });
});
