import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { NotificationOf } from '../../contracts/notifications';
import type { RunbookResult } from '../../contracts/runbook-status';
import type { TemporalServer } from '../../stack/temporal-server';
import { findSecretLikeValues } from '../../activities/audit-secrets';
import { alertNoteRefusal } from '../../contracts/alert-note';
import { alertSignal, MAX_RECORDED_ALERT_NOTES } from '../../workflows/alert-notes';
import { approveUpdate, rejectUpdate } from '../../workflows/messages';
import { cutoverGate, fixtureActivities, fixtureInput, fixturePlan, gateOpen, newRecorder, startFixture, startFixtureServer, waitForStatus, withFixtureWorker } from '../support/fixture-runbook';

// What the engine tells people while a runbook runs (the operator-notices shape): a status update on
// one named timer every interval, the gate decisions, and at the end the measured downtime and data
// loss; a channel that stays down never stops the runbook. Real dev server, fake activities.
let server: TemporalServer;
let env: TestWorkflowEnvironment;
let fixtureServer: Awaited<ReturnType<typeof startFixtureServer>> | undefined;

before(async () => {
  fixtureServer = await startFixtureServer('dr-runbook-notices-');
  ({ server, env } = fixtureServer);
});
after(async () => {
  await fixtureServer?.stop();
});

const oneApprover = cutoverGate({ quorum: 1 });

/** The status-update timers of a run and what became of them, and its patch markers, from its history. */
async function historyOf(handle: Awaited<ReturnType<typeof startFixture>>) {
  const events = (await handle.fetchHistory()).events ?? [];
  const summary = (e: (typeof events)[number]) => Buffer.from(e.userMetadata?.summary?.data ?? new Uint8Array()).toString('utf8');
  const started = new Set(events.filter((e) => e.timerStartedEventAttributes && summary(e).includes('status update')).map((e) => String(e.eventId)));
  return {
    events: events.length,
    statusTimers: started.size,
    timersFired: events.filter((e) => e.timerFiredEventAttributes && started.has(String(e.timerFiredEventAttributes.startedEventId))).length,
    timersCancelled: events.filter((e) => e.timerCanceledEventAttributes && started.has(String(e.timerCanceledEventAttributes.startedEventId))).length,
    markers: events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch').length,
  };
}

test('a status update every interval while the runbook waits at its gate, each with status, step, ETA and the next update; none after the end', async () => {
  const rec = newRecorder();
  await withFixtureWorker(env.nativeConnection, server.namespace, fixtureActivities(rec, { plan: { ...fixturePlan({ cutover: oneApprover }), statusUpdateEveryMs: 1000 } }), async (taskQueue) => {
    const handle = await startFixture(env.client, taskQueue, fixtureInput({ declaredAt: '2026-11-23T03:00:00Z' }));
    await waitForStatus(handle, gateOpen('cutover'), 'cutover gate open');
    await new Promise((r) => setTimeout(r, 2600));
    await handle.executeUpdate(approveUpdate, { args: [{ gate: 'cutover', approver: 'alice' }] });
    await handle.result();
    await new Promise((r) => setTimeout(r, 1500));
    const kinds = rec.notifications.map((n) => n.kind);
    const updates = rec.notifications.filter((n): n is NotificationOf<'status-update'> => n.kind === 'status-update');
    assert.ok(updates.length >= 2, `two updates or more in 2.6 s at the gate: ${kinds.join(', ')}`);
    assert.ok(kinds.indexOf('status-update') > kinds.indexOf('incident-opened') && kinds.lastIndexOf('status-update') < kinds.indexOf('resolved'), kinds.join(', '));
    const opened = rec.notifications[0] as NotificationOf<'incident-opened'>;
    const first = updates[0]!;
    assert.equal(first.status, 'identified', 'the runbook has done work: the problem is identified');
    assert.equal(first.currentStep, 'waiting at gate "cutover" for alice, bob, dave');
    assert.equal(first.etaAt, '2026-11-23T04:00:00.000Z');
    assert.ok(Math.abs(Date.parse(first.nextUpdateAt) - Date.parse(opened.nextUpdateAt!) - 1000) < 600, `${opened.nextUpdateAt} → ${first.nextUpdateAt}`);
    assert.ok(first.elapsedSeconds! > 3000, 'declared long before: the RTO clock counts from then');
    const history = await historyOf(handle);
    assert.equal(history.timersCancelled, 0, 'the update timer is never cancelled');
    // One timer at a time: each fired one started the next, unless the run was ending by then; the last is left pending or fired into the end.
    assert.ok(history.statusTimers === history.timersFired || history.statusTimers === history.timersFired + 1, JSON.stringify(history));
    assert.ok(history.statusTimers >= updates.length, JSON.stringify(history));
  });
});

test('a short run gains one pending timer and one patch marker, nothing more: the status-update timer costs a 5-second drill one event', async () => {
  const rec = newRecorder();
  await withFixtureWorker(env.nativeConnection, server.namespace, fixtureActivities(rec, { plan: fixturePlan({ cutover: oneApprover }) }), async (taskQueue) => {
    const handle = await startFixture(env.client, taskQueue, fixtureInput());
    await waitForStatus(handle, gateOpen('cutover'), 'cutover gate open');
    await handle.executeUpdate(approveUpdate, { args: [{ gate: 'cutover', approver: 'bob', comment: 'go' }] });
    const result = (await handle.result()) as RunbookResult;
    assert.equal(result.verdict, 'completed');
    const history = await historyOf(handle);
    assert.deepEqual({ statusTimers: history.statusTimers, fired: history.timersFired, cancelled: history.timersCancelled }, { statusTimers: 1, fired: 0, cancelled: 0 });
    assert.equal(history.markers, 1, 'the one marker of the shape (shape-in-one-marker), for the batched-audit, vote-proofs, operator-notices, local-bookkeeping and local-end-notice shapes');
    assert.deepEqual(rec.notifications.map((n) => n.kind), ['incident-opened', 'approval-needed', 'gate-decided', 'resolved']);
  });
});

test('a rejection is told (by whom, why) before the end; the drill policy\'s approval is not a decision anyone is told about', async () => {
  const rec = newRecorder();
  await withFixtureWorker(env.nativeConnection, server.namespace, fixtureActivities(rec, { plan: fixturePlan({ cutover: oneApprover }) }), async (taskQueue) => {
    const handle = await startFixture(env.client, taskQueue, fixtureInput());
    await waitForStatus(handle, gateOpen('cutover'), 'cutover gate open');
    await handle.executeUpdate(rejectUpdate, { args: [{ gate: 'cutover', approver: 'dave', comment: 'row counts differ' }] });
    const result = (await handle.result()) as RunbookResult;
    assert.equal(result.verdict, 'approval-rejected');
    assert.deepEqual(rec.notifications.map((n) => n.kind), ['incident-opened', 'approval-needed', 'gate-decided', 'resolved']);
    assert.deepEqual(rec.notifications[2], { kind: 'gate-decided', runbook: (rec.notifications[0] as NotificationOf<'incident-opened'>).runbook, gate: 'cutover', decision: 'rejected', decidedBy: ['dave'], comment: 'row counts differ' });
    const resolved = rec.notifications[3] as NotificationOf<'resolved'>;
    assert.equal(resolved.verdict, 'approval-rejected');
    assert.ok(Math.abs(resolved.downtimeSeconds! - result.rto.elapsedSeconds) <= 0.5, `downtime so far: ${resolved.downtimeSeconds} (${result.rto.elapsedSeconds} at the very end)`);
    assert.equal(resolved.dataLossSeconds, undefined, 'nothing was recovered, no data loss measured');
  });

  const drill = newRecorder();
  const drillPlan = { ...fixturePlan({ cutover: oneApprover }), drill: { autoApprove: true } };
  await withFixtureWorker(env.nativeConnection, server.namespace, fixtureActivities(drill, { plan: drillPlan }), async (taskQueue) => {
    const handle = await startFixture(env.client, taskQueue, fixtureInput({ mode: 'drill' }));
    await handle.result().catch(() => undefined); // the fixture's production step is refused in drill mode
    assert.ok(!drill.notifications.some((n) => n.kind === 'gate-decided'), drill.notifications.map((n) => n.kind).join(', '));
  });
});

test('a channel that stays down never fails the runbook: every failed notification is on its timeline and in its audit trail', async () => {
  const rec = newRecorder();
  const activities = {
    ...fixtureActivities(rec, { plan: { ...fixturePlan({ cutover: oneApprover }), statusUpdateEveryMs: 1000 } }),
    async notify(n: { kind: string }) {
      rec.notifications.push(n as never);
      throw new Error(`${n.kind}: 1 of 1 channel(s) failed (slack); delivered to none. slack: no answer after 3 attempts`);
    },
  };
  await withFixtureWorker(env.nativeConnection, server.namespace, activities, async (taskQueue) => {
    const handle = await startFixture(env.client, taskQueue, fixtureInput());
    await waitForStatus(handle, gateOpen('cutover'), 'cutover gate open');
    await handle.executeUpdate(approveUpdate, { args: [{ gate: 'cutover', approver: 'alice' }] });
    const result = (await handle.result()) as RunbookResult;
    assert.equal(result.verdict, 'completed');
    const failed = result.timeline.filter((e) => e.step.startsWith('notification: ') && e.outcome === 'failed').map((e) => e.step);
    for (const kind of ['incident-opened', 'approval-needed', 'gate-decided', 'resolved']) assert.ok(failed.includes(`notification: ${kind}`), `${kind} failure on the timeline: ${failed.join(', ')}`);
    assert.match(result.timeline.find((e) => e.step === 'notification: resolved')!.detail!, /slack/);
    const audited = rec.audit.filter((e) => e.action === 'notification-failed').map((e) => e.detail.kind);
    assert.ok(audited.includes('resolved') && audited.includes('incident-opened'), audited.join(', '));
  });
});

test('the alert receiver\'s note is recorded; a hostile one is refused and recorded without its content, and the runbook goes on', async () => {
  const rec = newRecorder();
  await withFixtureWorker(env.nativeConnection, server.namespace, fixtureActivities(rec, { plan: fixturePlan({ cutover: oneApprover }) }), async (taskQueue) => {
    const handle = await startFixture(env.client, taskQueue, fixtureInput());
    await waitForStatus(handle, gateOpen('cutover'), 'cutover gate open');
    await handle.signal(alertSignal, { status: 'resolved', alertname: 'DatabaseConnectionFailure', labels: { database: 'production', environment: 'local' }, startsAt: '2026-11-23T03:00:00Z', endsAt: '2026-11-23T03:09:00Z' });
    const hostile: unknown[] = [
      null,
      'resolved',
      { status: 'resolved', alertname: 'X', labels: { password: 'postgres://app:hunter2@db/mita' } },
      { status: 'resolved', alertname: 'X', labels: { database: 'x'.repeat(5000) } },
      { status: 'resolved', alertname: 'X', labels: {}, endsAt: { $gt: 1 } },
      { status: 'approved', alertname: 'X', labels: {} },
      { status: 'resolved', alertname: 'X', labels: {}, gate: 'cutover' },
    ];
    for (const note of hostile) await handle.signal(alertSignal, note as never);
    await handle.executeUpdate(approveUpdate, { args: [{ gate: 'cutover', approver: 'alice' }] });
    const result = (await handle.result()) as RunbookResult;
    assert.equal(result.verdict, 'completed');
    assert.equal(result.gates[0]!.approvals[0]!.approver, 'alice', 'a note decides nothing');
    const noted = result.timeline.filter((e) => e.step === 'alert DatabaseConnectionFailure resolved');
    assert.equal(noted.length, 1);
    assert.equal(noted[0]!.detail, 'Alertmanager reports the alert resolved; the runbook goes on and its gates still decide (database=production, environment=local, ended 2026-11-23T03:09:00Z)');
    const refused = result.timeline.filter((e) => e.step === 'alert signal' && e.outcome === 'refused');
    assert.equal(refused.length, hostile.length);
    assert.deepEqual(refused.map((e) => e.detail), hostile.map((n) => alertNoteRefusal(n)));
    const timeline = JSON.stringify(result.timeline);
    assert.ok(!timeline.includes('hunter2') && !timeline.includes('xxxxxxxxxx'), 'a refusal never repeats what was sent');
    const entries = rec.audit.filter((e) => e.action.startsWith('alert-'));
    assert.deepEqual(entries.map((e) => e.action), ['alert-resolved', ...hostile.map(() => 'alert-note-refused')]);
    assert.deepEqual(entries.flatMap((e) => findSecretLikeValues(e.detail)), [], 'the audit trail would take every entry');
  });
});

test('an alert storm fills neither the timeline nor the trail: past the cap, notes are counted, and the runbook goes on', async () => {
  const rec = newRecorder();
  await withFixtureWorker(env.nativeConnection, server.namespace, fixtureActivities(rec, { plan: fixturePlan({ cutover: oneApprover }) }), async (taskQueue) => {
    const handle = await startFixture(env.client, taskQueue, fixtureInput());
    await waitForStatus(handle, gateOpen('cutover'), 'cutover gate open');
    const storm = MAX_RECORDED_ALERT_NOTES + 30;
    for (let i = 0; i < storm; i++) await handle.signal(alertSignal, { status: 'firing', alertname: `Storm${i}`, labels: { database: 'production' } });
    await handle.executeUpdate(approveUpdate, { args: [{ gate: 'cutover', approver: 'alice' }] });
    const result = (await handle.result()) as RunbookResult;
    assert.equal(result.verdict, 'completed');
    assert.equal(result.timeline.filter((e) => e.step.startsWith('alert Storm')).length, MAX_RECORDED_ALERT_NOTES);
    assert.equal(result.timeline.filter((e) => e.step === 'alert notes').length, 1, 'one line says the rest are counted');
    const entries = rec.audit.filter((e) => e.action.startsWith('alert-'));
    assert.equal(entries.length, MAX_RECORDED_ALERT_NOTES + 1);
    assert.equal(entries.at(-1)!.action, 'alert-notes-capped');
    assert.equal(rec.audit.find((e) => e.action === 'runbook-ended')?.detail.unrecordedAlertNotes, 30, 'the end counts the rest');
  });
});
