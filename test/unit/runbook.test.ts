import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { startTemporalServer, type TemporalServer } from '../../stack/temporal-server';
import { abortSignal, abortUpdate, approveSignal, approveUpdate, rejectUpdate, statusQuery } from '../../workflows/messages';
import type { RunbookResult } from '../../contracts/runbook-status';
import {
  cutoverGate,
  fixtureActivities,
  fixtureBundle,
  fixtureInput,
  fixturePlan,
  gateOpen,
  newRecorder,
  startFixture,
  stepRunning,
  waitForStatus,
  withFixtureWorker,
  type FixtureRecorder,
} from '../support/fixture-runbook';
import { quietTemporalLogs } from '../support/quiet-logs';

// The runbook engine on the real dev server, with fake activities and short configurable durations.
let server: TemporalServer;
let env: TestWorkflowEnvironment;
let stateDir: string;

before(async () => {
  quietTemporalLogs();
  stateDir = mkdtempSync(path.join(os.tmpdir(), 'dr-runbook-unit-'));
  server = await startTemporalServer({ stateDir });
  env = await TestWorkflowEnvironment.createFromExistingServer({ address: server.address, namespace: server.namespace });
  await fixtureBundle();
});

after(async () => {
  await env?.teardown();
  await server?.stop();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

function run<T>(recorder: FixtureRecorder, options: Parameters<typeof fixtureActivities>[1], fn: (taskQueue: string) => Promise<T>) {
  return withFixtureWorker(env.nativeConnection, server.namespace, fixtureActivities(recorder, options), fn);
}

async function failureOf(handle: WorkflowHandle) {
  const error = await handle.result().then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof WorkflowFailedError, `expected the runbook to fail, got ${String(error)}`);
  return error.cause as { type?: string; message: string; details?: unknown[] };
}

test('quorum of 2 reached through Updates: completes, clocks known, audit trail complete and in order', async () => {
  const rec = newRecorder();
  await run(rec, {}, async (taskQueue) => {
    const handle = await startFixture(env.client, taskQueue, fixtureInput({ declaredAt: '2026-11-23T03:00:00Z' }));
    const waiting = await waitForStatus(handle, gateOpen('cutover'), 'cutover gate open');
    assert.deepEqual(waiting.openGates[0]!.stillMayApprove, ['alice', 'bob', 'dave'], 'the starter (carol) may not approve under the two-person rule');
    assert.equal(waiting.currentStep, 'approval gate "cutover"');
    assert.equal(waiting.phase, 'waiting-for-approval');

    const first = await handle.executeUpdate(approveUpdate, { args: [{ gate: 'cutover', approver: 'alice', comment: 'restored data checks out' }] });
    assert.deepEqual(first, { gate: 'cutover', status: 'open', approvals: ['alice'], approvalsStillNeeded: 1 });
    const notYet = await handle.query(statusQuery);
    assert.equal(notYet.openGates[0]!.status, 'open', 'one approval of two does not open the gate');
    assert.deepEqual(notYet.openGates[0]!.stillMayApprove, ['bob', 'dave']);
    assert.ok(!rec.work.includes('switch production to new instance'), 'production untouched before quorum');

    const second = await handle.executeUpdate(approveUpdate, { args: [{ gate: 'cutover', approver: 'Bob' }] });
    assert.equal(second.status, 'approved');
    const result = (await handle.result()) as RunbookResult<{ newInstance: string }>;
    assert.equal(result.verdict, 'completed');
    assert.deepEqual(result.output, { newInstance: 'restore-to-new-instance-1' });
    assert.deepEqual(rec.work, ['take safety snapshot', 'restore to new instance', 'validate restored data', 'switch production to new instance']);
    assert.deepEqual(rec.undone, [], 'a successful real run keeps what it built');
    assert.equal(result.rto.declaredAt, '2026-11-23T03:00:00.000Z');
    assert.ok(result.rto.cutoverVerifiedAt);
    assert.equal(result.rto.withinObjective, false, 'declared long ago: the objective of 1 h is exceeded');
    assert.equal(result.rpo.achievedSeconds, 300);
    assert.equal(result.rpo.withinObjective, true);
    const steps = result.timeline.map((e) => `${e.step}=${e.outcome}`);
    assert.deepEqual(steps, [
      'take safety snapshot=succeeded',
      'restore to new instance=succeeded',
      'validate restored data=succeeded',
      'gate cutover=approved',
      'gate cutover: approve from alice=approved',
      'gate cutover: approve from Bob=approved',
      'compensations retired=retired',
      'switch production to new instance=succeeded',
      'cutover verified=succeeded',
      'measure recovery point=succeeded',
      'recovery point=succeeded',
      'runbook ended=succeeded',
    ]);
    assert.ok(result.timeline.every((e) => e.endedAt && e.endedAt >= e.startedAt));

    assert.deepEqual(rec.audit.map((e) => e.seq), rec.audit.map((_, i) => i + 1), 'audit seq is 1..n with no gap or repeat');
    const actions = rec.audit.map((e) => `${e.actor}:${e.action}`);
    for (const expected of ['carol:runbook-started', 'runbook:step-started', 'runbook:step-ended', 'runbook:gate-opened', 'alice:gate-approved', 'Bob:gate-approved', 'runbook:gate-decided', 'runbook:cutover-verified', 'runbook:runbook-ended']) {
      assert.ok(actions.includes(expected), `audit has ${expected}: ${actions.join(', ')}`);
    }
    assert.deepEqual(rec.notifications.map((n) => n.kind), ['incident-opened', 'approval-needed', 'resolved']);
    const described = await handle.describe();
    assert.deepEqual(described.searchAttributes.DrStatus, ['completed']);
    assert.deepEqual(described.searchAttributes.DrScenario, ['fixture']);
    assert.deepEqual(described.searchAttributes.DrIncidentId, ['INC-7']);
  });
});

test('a refused Update is answered at once and changes nothing; every refusal, by Update or Signal, is on the timeline and in the audit', async () => {
  const rec = newRecorder();
  await run(rec, { plan: fixturePlan({ cutover: cutoverGate(), 'sign-off': cutoverGate({ twoPersonRule: false }) }) }, async (taskQueue) => {
    const handle = await startFixture(env.client, taskQueue, fixtureInput());
    await waitForStatus(handle, gateOpen('cutover'), 'cutover gate open');
    const refusals: Array<[object, RegExp]> = [
      [{ gate: 'cut-over', approver: 'alice' }, /unknown gate "cut-over"/],
      [{ gate: 'sign-off', approver: 'alice' }, /gate "sign-off" is not open now/],
      [{ gate: 'cutover', approver: 'mallory' }, /"mallory" is not on the approver list/],
      [{ gate: 'cutover', approver: 'carol' }, /two-person rule: "carol" started this runbook/],
      [{ gate: 'cutover', approver: '' }, /approver: required/],
    ];
    for (const [vote, reason] of refusals) {
      const error = await handle.executeUpdate(approveUpdate, { args: [vote as never] }).then(() => undefined, (e: unknown) => e);
      assert.ok(error instanceof WorkflowUpdateFailedError, `refused: ${JSON.stringify(vote)}`);
      assert.match((error.cause as Error).message, reason);
    }
    await handle.executeUpdate(approveUpdate, { args: [{ gate: 'cutover', approver: 'alice' }] });
    const again = await handle.executeUpdate(rejectUpdate, { args: [{ gate: 'cutover', approver: 'ALICE' }] }).then(() => undefined, (e: unknown) => e);
    assert.ok(again instanceof WorkflowUpdateFailedError);
    assert.match((again.cause as Error).message, /"ALICE" has already voted on gate "cutover"/);

    await handle.signal(approveSignal, { gate: 'cutover', approver: 'carol' });
    const status = await waitForStatus(handle, (s) => s.timeline.some((e) => e.step === 'approve signal from carol'), 'refused signal on the timeline');
    const refused = status.timeline.find((e) => e.step === 'approve signal from carol')!;
    assert.equal(refused.outcome, 'refused');
    assert.match(refused.detail!, /two-person rule/);
    // The refused Updates are recorded too (each was accepted as a message and decided in the handler).
    assert.deepEqual(status.timeline.filter((e) => e.outcome === 'refused' && / update from /.test(e.step)).map((e) => e.step), ['approve update from alice', 'approve update from alice', 'approve update from mallory', 'approve update from carol', 'approve update from unknown', 'reject update from ALICE']);
    assert.equal(status.refusedMessages, 7);
    assert.equal(status.openGates[0]!.approvals.length, 1, 'refusals changed nothing');

    await handle.signal(approveSignal, { gate: 'cutover', approver: 'dave' });
    const result = (await handle.result()) as RunbookResult;
    assert.equal(result.verdict, 'completed');
    assert.ok(rec.audit.some((e) => e.action === 'approve-refused' && e.actor === 'carol' && e.detail.via === 'signal' && /two-person rule/.test(String(e.detail.reason))));
    assert.ok(rec.audit.some((e) => e.action === 'approve-refused' && e.actor === 'mallory' && e.detail.via === 'update' && /not on the approver list/.test(String(e.detail.reason))));
    assert.ok(rec.audit.some((e) => e.action === 'reject-refused' && e.actor === 'ALICE' && /already voted/.test(String(e.detail.reason))));

    const lateVote = await handle.signal(approveSignal, { gate: 'cutover', approver: 'bob' }).then(() => 'sent', () => 'refused by server');
    assert.equal(lateVote, 'refused by server', 'a finished runbook takes no votes');
  });
});

test('one rejection closes the gate: approval-rejected, nothing in production, compensations newest first', async () => {
  const rec = newRecorder();
  await run(rec, {}, async (taskQueue) => {
    const handle = await startFixture(env.client, taskQueue, fixtureInput());
    await waitForStatus(handle, gateOpen('cutover'), 'cutover gate open');
    await handle.executeUpdate(approveUpdate, { args: [{ gate: 'cutover', approver: 'alice' }] });
    const outcome = await handle.executeUpdate(rejectUpdate, { args: [{ gate: 'cutover', approver: 'bob', comment: 'row counts differ' }] });
    assert.equal(outcome.status, 'rejected');
    const result = (await handle.result()) as RunbookResult;
    assert.equal(result.verdict, 'approval-rejected');
    assert.match(result.verdictDetail!, /rejected by bob: row counts differ/);
    assert.ok(!rec.work.includes('switch production to new instance'));
    assert.deepEqual(rec.undone, ['restore-to-new-instance-1', 'take-safety-snapshot-1']);
    assert.deepEqual(result.compensations.map((c) => `${c.name}=${c.outcome}`), ['delete new instance=succeeded', 'delete safety snapshot=succeeded']);
  });
});

test('escalation at each tier, then the deadline fails closed with approval-timed-out (quorum not reached)', async () => {
  const rec = newRecorder();
  const gate = cutoverGate({
    escalation: [
      { afterMs: 1000, audience: 'technical-team' },
      { afterMs: 2000, audience: 'management' },
      { afterMs: 3000, audience: 'executives' },
    ],
    deadlineMs: 4000,
  });
  await run(rec, { plan: fixturePlan({ cutover: gate }) }, async (taskQueue) => {
    const handle = await startFixture(env.client, taskQueue, fixtureInput());
    await waitForStatus(handle, gateOpen('cutover'), 'cutover gate open');
    await handle.executeUpdate(approveUpdate, { args: [{ gate: 'cutover', approver: 'alice' }] });
    const result = (await handle.result()) as RunbookResult;
    assert.equal(result.verdict, 'approval-timed-out');
    assert.match(result.verdictDetail!, /1 of 2 approvals/);
    assert.deepEqual(
      rec.notifications.filter((n) => n.kind === 'escalation').map((n) => (n as { audience: string }).audience),
      ['technical-team', 'management', 'executives'],
    );
    const gateView = result.gates.find((g) => g.gate === 'cutover')!;
    assert.equal(gateView.status, 'timed-out');
    assert.deepEqual(gateView.escalated, ['technical-team', 'management', 'executives']);
    const escalations = result.timeline.filter((e) => e.step === 'escalation: gate cutover');
    assert.equal(escalations.length, 3);
    const opened = Date.parse(gateView.openedAt!);
    escalations.forEach((e, i) => assert.ok(Date.parse(e.startedAt) - opened >= (i + 1) * 1000, `tier ${i + 1} not before its time`));
    assert.ok(!rec.work.includes('switch production to new instance'), 'fail closed: no cutover');
    assert.deepEqual(rec.undone, ['restore-to-new-instance-1', 'take-safety-snapshot-1']);
    assert.deepEqual((await handle.describe()).searchAttributes.DrStatus, ['approval-timed-out']);
  });
});

test('abort while a step runs (Update): the step is cancelled, earlier compensations run, no gate is reached', async () => {
  const rec = newRecorder();
  await run(rec, {}, async (taskQueue) => {
    const handle = await startFixture(env.client, taskQueue, fixtureInput({ holdStep: 'restore to new instance', holdMs: 30_000 }));
    await waitForStatus(handle, stepRunning('restore to new instance'), 'restore running');
    assert.deepEqual(await handle.executeUpdate(abortUpdate, { args: [{ by: 'dave', reason: 'primary came back' }] }), { accepted: true });
    const result = (await handle.result()) as RunbookResult;
    assert.equal(result.verdict, 'aborted');
    assert.equal(result.verdictDetail, 'aborted by dave: primary came back');
    assert.equal(result.timeline.find((e) => e.step === 'restore to new instance')!.outcome, 'cancelled');
    assert.deepEqual(rec.undone, ['take-safety-snapshot-1']);
    assert.ok(!rec.work.includes('validate restored data'));
    assert.ok(rec.audit.some((e) => e.action === 'abort' && e.actor === 'dave'));
  });
});

test('abort while waiting at a gate (Signal): the gate closes, compensations run newest first', async () => {
  const rec = newRecorder();
  await run(rec, {}, async (taskQueue) => {
    const handle = await startFixture(env.client, taskQueue, fixtureInput());
    await waitForStatus(handle, gateOpen('cutover'), 'cutover gate open');
    await handle.signal(abortSignal, { by: 'alice', reason: 'wrong incident' });
    const result = (await handle.result()) as RunbookResult;
    assert.equal(result.verdict, 'aborted');
    assert.equal(result.gates.find((g) => g.gate === 'cutover')!.status, 'closed');
    assert.equal(result.timeline.find((e) => e.step === 'gate cutover')!.outcome, 'cancelled');
    assert.deepEqual(rec.undone, ['restore-to-new-instance-1', 'take-safety-snapshot-1']);
    assert.ok(!rec.work.includes('switch production to new instance'));
  });
});

test('abort during a production-affecting step takes effect when the step ends; what production uses is kept', async () => {
  const rec = newRecorder();
  await run(rec, {}, async (taskQueue) => {
    const handle = await startFixture(env.client, taskQueue, fixtureInput({ holdStep: 'switch production to new instance', holdMs: 1500 }));
    await waitForStatus(handle, gateOpen('cutover'), 'cutover gate open');
    await handle.executeUpdate(approveUpdate, { args: [{ gate: 'cutover', approver: 'alice' }] });
    await handle.executeUpdate(approveUpdate, { args: [{ gate: 'cutover', approver: 'bob' }] });
    await waitForStatus(handle, stepRunning('switch production to new instance'), 'cutover running');
    await handle.executeUpdate(abortUpdate, { args: [{ by: 'dave', reason: 'stop after this' }] });
    const vote = await handle.executeUpdate(approveUpdate, { args: [{ gate: 'cutover', approver: 'carol' }] }).then(() => undefined, (e: unknown) => e);
    assert.ok(vote instanceof WorkflowUpdateFailedError);
    assert.match((vote.cause as Error).message, /aborted by dave; no more votes are taken/);
    const result = (await handle.result()) as RunbookResult;
    assert.equal(result.verdict, 'aborted');
    assert.equal(result.timeline.find((e) => e.step === 'switch production to new instance')!.outcome, 'succeeded', 'not cut off half-way');
    assert.deepEqual(rec.undone, [], 'production is never a compensation target');
    assert.ok(!result.timeline.some((e) => e.step === 'measure recovery point'));
  });
});

test('abort is refused while compensating, and cancelling the workflow also runs the compensations', async () => {
  const rec = newRecorder();
  await run(rec, {}, async (taskQueue) => {
    const handle = await startFixture(env.client, taskQueue, fixtureInput({ holdCompensation: 'delete new instance', holdMs: 1500 }));
    await waitForStatus(handle, gateOpen('cutover'), 'cutover gate open');
    await handle.cancel();
    await waitForStatus(handle, (s) => s.phase === 'compensating', 'compensating');
    const refused = await handle.executeUpdate(abortUpdate, { args: [{ by: 'dave', reason: 'again' }] }).then(() => undefined, (e: unknown) => e);
    assert.ok(refused instanceof WorkflowUpdateFailedError);
    assert.match((refused.cause as Error).message, /already ending/);
    const error = await handle.result().then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof WorkflowFailedError && (error.cause as { name?: string }).name === 'CancelledFailure', `ends cancelled: ${String(error)}`);
    assert.deepEqual(rec.undone, ['restore-to-new-instance-1', 'take-safety-snapshot-1']);
    const status = await handle.query(statusQuery);
    assert.equal(status.verdict, 'cancelled');
  });
});

test('a failing step runs compensations newest first; a failing compensation is reported, not swallowed', async () => {
  const rec = newRecorder();
  await run(rec, {}, async (taskQueue) => {
    const handle = await startFixture(env.client, taskQueue, fixtureInput({ failStep: 'validate restored data', failCompensation: 'delete new instance' }));
    const cause = await failureOf(handle);
    assert.equal(cause.type, 'RunbookFailed');
    assert.match(cause.message, /scripted failure of "validate restored data"/);
    assert.match(cause.message, /compensation "delete new instance" failed: .*scripted failure undoing restore-to-new-instance-1/);
    assert.deepEqual(rec.undone, ['restore-to-new-instance-1', 'take-safety-snapshot-1'], 'the next compensation still runs after one fails');
    const result = cause.details![0] as RunbookResult;
    assert.equal(result.verdict, 'failed');
    assert.deepEqual(result.compensations.map((c) => `${c.name}=${c.outcome}`), ['delete new instance=failed', 'delete safety snapshot=succeeded']);
    assert.equal(result.timeline.find((e) => e.step === 'compensation: delete new instance')!.outcome, 'failed');
    assert.ok(rec.audit.some((e) => e.action === 'compensation-ended' && e.detail.outcome === 'failed'));
  });
});

test('drill mode: the runner refuses the production-affecting step, and the cleanup runs', async () => {
  const rec = newRecorder();
  await run(rec, {}, async (taskQueue) => {
    const handle = await startFixture(env.client, taskQueue, fixtureInput({ mode: 'drill' }));
    await waitForStatus(handle, gateOpen('cutover'), 'cutover gate open');
    await handle.executeUpdate(approveUpdate, { args: [{ gate: 'cutover', approver: 'alice' }] });
    await handle.executeUpdate(approveUpdate, { args: [{ gate: 'cutover', approver: 'bob' }] });
    const cause = await failureOf(handle);
    assert.match(cause.message, /drill mode: step "switch production to new instance" affects production and is refused by the runner/);
    assert.ok(!rec.work.includes('switch production to new instance'));
    assert.deepEqual(rec.undone, ['restore-to-new-instance-1', 'take-safety-snapshot-1']);
    const result = cause.details![0] as RunbookResult;
    assert.equal(result.mode, 'drill');
    assert.equal(result.timeline.find((e) => e.step === 'switch production to new instance')!.outcome, 'refused');
  });
});

test('a bad input fails at once with InvalidInput naming the field, before any activity', async () => {
  const rec = newRecorder();
  await run(rec, {}, async (taskQueue) => {
    const handle = await startFixture(env.client, taskQueue, fixtureInput({ startedBy: undefined as never, mode: 'practice' as never }));
    const cause = await failureOf(handle);
    assert.equal(cause.type, 'InvalidInput');
    assert.match(cause.message, /mode: must be "real" or "drill"/);
    assert.match(cause.message, /startedBy: is required/);
    const history = await handle.fetchHistory();
    assert.ok(!history.events?.some((e) => e.activityTaskScheduledEventAttributes), 'no activity ran');
  });
});

test('a gate the runbook needs but the config lacks fails the runbook before any step', async () => {
  const rec = newRecorder();
  await run(rec, { plan: fixturePlan({}) }, async (taskQueue) => {
    const handle = await startFixture(env.client, taskQueue, fixtureInput());
    const cause = await failureOf(handle);
    assert.match(cause.message, /no approval gate "cutover" for scenario fixture: add approvals.gates.cutover/);
    assert.deepEqual(rec.work, []);
  });
});

test('a production-affecting step is refused in a real run until a gate has been approved', async () => {
  const rec = newRecorder();
  await run(rec, {}, async (taskQueue) => {
    const handle = await startFixture(env.client, taskQueue, fixtureInput({ skipGate: true }));
    const cause = await failureOf(handle);
    assert.match(cause.message, /step "switch production to new instance" affects production and no approval gate has been approved yet/);
    assert.ok(!rec.work.includes('switch production to new instance'));
    assert.deepEqual(rec.undone, ['restore-to-new-instance-1', 'take-safety-snapshot-1']);
  });
});

test('abort while the runbook is still starting (loading its plan): nothing runs', async () => {
  const rec = newRecorder();
  const slowPlan = async () => {
    await new Promise((r) => setTimeout(r, 1500));
    return fixturePlan();
  };
  await run(rec, { loadRunbookPlan: slowPlan }, async (taskQueue) => {
    const handle = await startFixture(env.client, taskQueue, fixtureInput());
    await waitForStatus(handle, (s) => s.phase === 'starting', 'starting');
    await handle.executeUpdate(abortUpdate, { args: [{ by: 'dave', reason: 'duplicate runbook' }] });
    const result = (await handle.result()) as RunbookResult;
    assert.equal(result.verdict, 'aborted');
    assert.deepEqual(rec.work, []);
    assert.deepEqual(rec.undone, []);
  });
});

test('declaredAt after the runbook started is refused as InvalidInput', async () => {
  const rec = newRecorder();
  await run(rec, {}, async (taskQueue) => {
    const handle = await startFixture(env.client, taskQueue, fixtureInput({ declaredAt: '2099-01-01T00:00:00Z' }));
    const cause = await failureOf(handle);
    assert.equal(cause.type, 'InvalidInput');
    assert.match(cause.message, /^declaredAt: 2099-01-01T00:00:00Z is after the runbook started/);
  });
});

test('a gate whose quorum the two-person rule makes unreachable fails at once, saying why', async () => {
  const rec = newRecorder();
  await run(rec, { plan: fixturePlan({ cutover: cutoverGate({ approvers: ['alice', 'carol'], quorum: 2 }) }) }, async (taskQueue) => {
    const handle = await startFixture(env.client, taskQueue, fixtureInput());
    const cause = await failureOf(handle);
    assert.match(cause.message, /gate "cutover" can never be approved: it needs 2 approvals but only 1 listed approver\(s\) other than the starter carol/);
    assert.deepEqual(rec.undone, ['restore-to-new-instance-1', 'take-safety-snapshot-1']);
  });
});
