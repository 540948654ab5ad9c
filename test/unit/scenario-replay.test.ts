import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { DeterminismViolationError } from '@temporalio/workflow';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { historyFromStandardJson } from '../support/history-json';
import { quietTemporalLogs } from '../support/quiet-logs';

// Histories of real scenario runs (the demo's accidental-deletion drill: PITR, validation, diffs, dry run,
// the repair gate approved by Update, cleanup, the report) must replay against today's workflows: a change
// to a scenario that has run needs patched(), and this is where forgetting it fails. Recorded with
// `temporal workflow show --output json` from a run of `npm run demo`.
const historiesDir = path.join(__dirname, '..', 'fixtures', 'histories', 'scenarios');
const histories = readdirSync(historiesDir).filter((f) => f.endsWith('.json')).sort();
const silent = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

test('scenario histories are there', () => {
  assert.ok(histories.includes('accidental-deletion-drill-repair-gate.json'), histories.join(', '));
});

for (const file of histories) {
  test(`replays ${file} against the current workflows`, async () => {
    quietTemporalLogs();
    const workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: silent });
    const history = historyFromStandardJson(JSON.parse(readFileSync(path.join(historiesDir, file), 'utf8')));
    await Worker.runReplayHistory({ workflowBundle }, history, file);
  });
}

/** The audit entries a recorded run wrote (from its appendAuditEntries inputs), by seq, as actor:action. */
function auditActions(file: string): string[] {
  const history = JSON.parse(readFileSync(path.join(historiesDir, file), 'utf8')) as { events: Array<{ eventType: string; activityTaskScheduledEventAttributes?: { activityType: { name: string }; input: { payloads: Array<{ data: string }> } } }> };
  const bySeq = new Map<number, string>();
  for (const event of history.events) {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (event.eventType !== 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED' || scheduled?.activityType.name !== 'appendAuditEntries') continue;
    const input = JSON.parse(Buffer.from(scheduled.input.payloads[0]!.data, 'base64').toString('utf8')) as { entries: Array<{ seq: number; actor: string; action: string }> };
    for (const entry of input.entries) bySeq.set(entry.seq, `${entry.actor}:${entry.action}`);
  }
  return [...bySeq.entries()].sort(([a], [b]) => a - b).map(([, action]) => action);
}

test('the demo drill in the batched-audit shape: at most half the history events of before, the same audit entries in the same order', () => {
  const before = 'accidental-deletion-drill-repair-gate.json';
  const after = 'accidental-deletion-drill-repair-gate-batched-audit.json';
  const events = (file: string) => (JSON.parse(readFileSync(path.join(historiesDir, file), 'utf8')) as { events: unknown[] }).events.length;
  assert.ok(events(after) * 2 <= events(before), `${events(after)} events now, ${events(before)} before`);
  assert.deepEqual(auditActions(after), auditActions(before));
  assert.equal(auditActions(after).length, 30);
});

test('the demo drill in the operator-notices shape: the same audit entries, a handful more events (patch marker, one pending status-update timer, the gate decision told)', () => {
  const batchedShape = 'accidental-deletion-drill-repair-gate-batched-audit.json';
  const noticesShape = 'accidental-deletion-drill-repair-gate-operator-notices.json';
  const events = (file: string) => (JSON.parse(readFileSync(path.join(historiesDir, file), 'utf8')) as { events: unknown[] }).events.length;
  assert.ok(events(noticesShape) <= events(batchedShape) + 12, `${events(noticesShape)} events now, ${events(batchedShape)} before`);
  assert.deepEqual(auditActions(noticesShape), auditActions(batchedShape));
});

/** The activities a recorded run scheduled, in order. */
function activities(file: string): string[] {
  const history = JSON.parse(readFileSync(path.join(historiesDir, file), 'utf8')) as { events: Array<{ eventType: string; activityTaskScheduledEventAttributes?: { activityType: { name: string } } }> };
  return history.events.flatMap((e) => (e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED' ? [e.activityTaskScheduledEventAttributes!.activityType.name] : []));
}

test('the demo drill in the vote-proofs shape: the input\'s targets checked before the first step, the restore\'s cleanup registered before the restore starts', () => {
  const before = 'accidental-deletion-drill-repair-gate-batched-audit.json';
  const after = 'accidental-deletion-drill-repair-gate-vote-proofs.json';
  assert.deepEqual(activities(after).slice(0, 3), ['loadRunbookPlan', 'checkRunbookTargets', 'checkDatabaseHealth']);
  assert.deepEqual(activities(after).filter((a) => a !== 'checkRunbookTargets'), activities(before), 'otherwise the same activities in the same order');
  const actions = auditActions(after);
  const restore = actions.indexOf('runbook:step-started', actions.indexOf('runbook:step-ended'));
  assert.equal(actions[restore - 1], 'runbook:compensation-registered', 'registered before the restore started');
  assert.deepEqual(actions.filter((_, i) => i !== restore - 1), auditActions(before), 'otherwise the same audit entries in the same order');
});

/** The activities a recorded run scheduled, in order, with their inputs. */
function scheduledActivities(file: string): Array<{ name: string; input: Record<string, unknown> }> {
  const history = JSON.parse(readFileSync(path.join(historiesDir, file), 'utf8')) as { events: Array<{ eventType: string; activityTaskScheduledEventAttributes?: { activityType: { name: string }; input: { payloads: Array<{ data: string }> } } }> };
  return history.events.filter((e) => e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED').map((e) => ({
    name: e.activityTaskScheduledEventAttributes!.activityType.name,
    input: JSON.parse(Buffer.from(e.activityTaskScheduledEventAttributes!.input.payloads[0]!.data, 'base64').toString('utf8')) as Record<string, unknown>,
  }));
}

test('the demo drill in the validation-baseline shape: the baseline taken with its backup is found and given to the gate; the older shapes still replay without it', () => {
  // Recorded before and after vote-proofs was merged under it: both have the look-up just before the gate.
  for (const [file, without] of [
    ['accidental-deletion-drill-repair-gate-validation-baseline.json', 'accidental-deletion-drill-repair-gate-batched-audit.json'],
    ['accidental-deletion-drill-repair-gate-vote-proofs-validation-baseline.json', 'accidental-deletion-drill-repair-gate-vote-proofs.json'],
  ] as const) {
    const now = scheduledActivities(file);
    const names = now.map((a) => a.name);
    assert.equal(names.indexOf('findValidationBaseline') + 1, names.indexOf('runValidationChecks'), `${file}: the look-up comes just before the gate`);
    assert.match(String(now.find((a) => a.name === 'runValidationChecks')!.input.baselineKey), /^baselines\/production\/\d{8}-\d{6}F\.json$/);
    assert.deepEqual(names.filter((n) => n !== 'findValidationBaseline'), activities(without), `${file}: otherwise the activities of ${without}, in order`);
    // One more step (its start and end) in the trail; everything else as before.
    assert.equal(auditActions(file).length, auditActions(without).length + 2, file);
  }
  for (const older of ['accidental-deletion-drill-repair-gate.json', 'accidental-deletion-drill-repair-gate-batched-audit.json', 'accidental-deletion-drill-repair-gate-vote-proofs.json']) {
    assert.ok(!scheduledActivities(older).some((a) => a.name === 'findValidationBaseline'), `${older} ran without it`);
  }
});

test('the demo drill in the vote-proofs-and-notices shape: the vote-proofs activities, and the notices\' few events beside them', () => {
  const proofs = 'accidental-deletion-drill-repair-gate-vote-proofs.json';
  const both = 'accidental-deletion-drill-repair-gate-vote-proofs-and-notices.json';
  const events = (file: string) => (JSON.parse(readFileSync(path.join(historiesDir, file), 'utf8')) as { events: unknown[] }).events.length;
  assert.deepEqual(activities(both).filter((a) => a !== 'notify'), activities(proofs).filter((a) => a !== 'notify'), 'the same steps in the same order');
  assert.ok(events(both) <= events(proofs) + 12, `${events(both)} events now, ${events(proofs)} before`);
  assert.deepEqual(auditActions(both).filter((a) => !a.endsWith('notification-failed')), auditActions(proofs));
});

test('the server-failure cutover in both shapes: recorded runs point, restart and wait; new runs rotate, point, roll out, wait and revoke (patched rotate-and-roll-out)', () => {
  const cutover = (file: string) => {
    // Without the audit writes the runner makes before every production step.
    const all = activities(file).filter((a) => a !== 'appendAuditEntries');
    return all.slice(all.findIndex((a) => a === 'rotateDatabaseSecret' || a === 'pointAppAtDatabase'), all.indexOf('waitUntilAppHealthy') + 2);
  };
  assert.deepEqual(cutover('server-failure-cutover.json'), ['pointAppAtDatabase', 'restartApp', 'waitUntilAppHealthy', 'runValidationChecks']);
  assert.deepEqual(cutover('server-failure-cutover-rotate-and-roll-out.json'), ['rotateDatabaseSecret', 'pointAppAtDatabase', 'restartApp', 'waitForAppRollout', 'waitUntilAppHealthy', 'revokeOldDatabaseCredential']);
});

/** The patch markers a recorded run wrote, in order. */
function patchMarkers(file: string): string[] {
  const history = JSON.parse(readFileSync(path.join(historiesDir, file), 'utf8')) as { events: Array<{ markerRecordedEventAttributes?: { markerName: string; details: { 'patch-data': { payloads: Array<{ data: string }> } } } }> };
  return history.events.flatMap((e) => (e.markerRecordedEventAttributes?.markerName === 'core_patch' ? [(JSON.parse(Buffer.from(e.markerRecordedEventAttributes.details['patch-data'].payloads[0]!.data, 'base64').toString()) as { id: string }).id] : []));
}

// Today's shapes: every patch a new run reaches, together (no branch recorded them all). The drill never
// cuts over, so it has four of the five runner patches and its own restore-beside-assessment; the
// server-failure cutover has all five.
const drillBefore = 'accidental-deletion-drill-repair-gate-vote-proofs-operator-notices-validation-baseline.json';
const drillRestoreBeside = 'accidental-deletion-drill-repair-gate-vote-proofs-operator-notices-restore-beside-assessment-validation-baseline.json';
const drillNow = 'accidental-deletion-drill-repair-gate-vote-proofs-operator-notices-local-bookkeeping-restore-beside-assessment-validation-baseline.json';
const cutoverNow = 'server-failure-cutover-vote-proofs-operator-notices-validation-baseline-rotate-and-roll-out.json';

test('the demo drill before restore-beside-assessment: the steps of vote-proofs-and-notices in the same order plus the baseline look-up just before the gate', () => {
  assert.deepEqual(patchMarkers(drillBefore), ['batched-audit', 'vote-proofs', 'operator-notices', 'validation-baseline']);
  const names = activities(drillBefore);
  assert.deepEqual(names.filter((a) => a !== 'findValidationBaseline'), activities('accidental-deletion-drill-repair-gate-vote-proofs-and-notices.json'), 'otherwise the same activities in the same order');
  assert.equal(names.indexOf('findValidationBaseline') + 1, names.indexOf('runValidationChecks'), 'the look-up comes just before the gate');
  assert.match(String(scheduledActivities(drillBefore).find((a) => a.name === 'runValidationChecks')!.input.baselineKey), /^baselines\/production\/\d{8}-\d{6}F\.json$/);
  // Against the validation-baseline shape, only the gate decision told (one more notify).
  assert.deepEqual(names.filter((a) => a !== 'notify'), activities('accidental-deletion-drill-repair-gate-vote-proofs-validation-baseline.json').filter((a) => a !== 'notify'));
  // The look-up's start and end in the trail, everything else as before.
  const actions = auditActions(drillBefore);
  const lookup = actions.indexOf('runbook:step-started', actions.indexOf('runbook:recovery-point'));
  assert.deepEqual(actions.filter((_, i) => i !== lookup && i !== lookup + 1), auditActions('accidental-deletion-drill-repair-gate-vote-proofs-and-notices.json'));
  assert.equal(actions.length, 33);
});

test('the demo drill in the restore-beside-assessment shape: the restore starts beside the assessment of production, before it ends; otherwise the steps and trail of the shape before', () => {
  assert.deepEqual(patchMarkers(drillRestoreBeside), ['batched-audit', 'vote-proofs', 'operator-notices', 'restore-beside-assessment', 'validation-baseline']);
  const history = JSON.parse(readFileSync(path.join(historiesDir, drillRestoreBeside), 'utf8')) as { events: Array<{ eventId: string; eventType: string; activityTaskScheduledEventAttributes?: { activityType: { name: string } }; activityTaskCompletedEventAttributes?: { scheduledEventId: string } }> };
  const scheduled = (name: string) => history.events.findIndex((e) => e.activityTaskScheduledEventAttributes?.activityType.name === name);
  const assess = history.events[scheduled('checkDatabaseHealth')]!;
  const assessed = history.events.findIndex((e) => e.activityTaskCompletedEventAttributes?.scheduledEventId === assess.eventId);
  assert.ok(assessed > 0, 'the assessment completed');
  assert.ok(scheduled('checkDatabaseHealth') < scheduled('restoreToPointInTime') && scheduled('restoreToPointInTime') < assessed, 'the restore was scheduled after the assessment started and before it completed');
  assert.deepEqual(activities(drillRestoreBeside).filter((a) => a !== 'notify'), activities(drillBefore).filter((a) => a !== 'notify'), 'the same activities in the same order');
  // The same audit entries; the two steps' starts and ends interleave.
  assert.deepEqual([...auditActions(drillRestoreBeside)].sort(), [...auditActions(drillBefore)].sort());
  assert.equal(auditActions(drillRestoreBeside).length, 33);
});

test('the server-failure cutover in today\'s shape: the rotate-and-roll-out cutover, plus the targets checked first, the baseline looked up before the gate and the gate decision told', () => {
  assert.deepEqual(patchMarkers(cutoverNow), ['batched-audit', 'vote-proofs', 'operator-notices', 'validation-baseline', 'rotate-and-roll-out']);
  const before = 'server-failure-cutover-rotate-and-roll-out.json';
  const names = activities(cutoverNow);
  assert.deepEqual(names.slice(0, 3), ['loadRunbookPlan', 'checkRunbookTargets', 'probeDatabase']);
  assert.equal(names.indexOf('findValidationBaseline') + 1, names.indexOf('runValidationChecks'), 'the look-up comes just before the gate');
  const added = new Set(['checkRunbookTargets', 'findValidationBaseline', 'notify']);
  assert.deepEqual(names.filter((a) => !added.has(a)), activities(before).filter((a) => a !== 'notify'), 'otherwise the same activities in the same order');
  assert.equal(names.filter((a) => a === 'notify').length, activities(before).filter((a) => a === 'notify').length + 1, 'one more notice: the gate decision');
  const cut = names.filter((a) => a !== 'appendAuditEntries');
  assert.deepEqual(cut.slice(cut.indexOf('rotateDatabaseSecret'), cut.indexOf('waitUntilAppHealthy') + 2), ['rotateDatabaseSecret', 'pointAppAtDatabase', 'restartApp', 'waitForAppRollout', 'waitUntilAppHealthy', 'revokeOldDatabaseCredential']);
  // The trail: the restore's cleanup registered before it starts, the look-up's start and end.
  const now = auditActions(cutoverNow);
  const then = auditActions(before);
  assert.equal(now.length, then.length + 3);
  assert.equal(now.filter((a) => a === 'runbook:compensation-registered').length, then.filter((a) => a === 'runbook:compensation-registered').length + 1);
  assert.equal(now.filter((a) => a === 'runbook:step-started').length, then.filter((a) => a === 'runbook:step-started').length + 1);
});

const cutoverLocal = 'server-failure-cutover-vote-proofs-operator-notices-local-bookkeeping-validation-baseline-rotate-and-roll-out.json';

/** The local activities a recorded run ran (from its markers), in order. */
function localActivities(file: string): string[] {
  const history = JSON.parse(readFileSync(path.join(historiesDir, file), 'utf8')) as { events: Array<{ markerRecordedEventAttributes?: { markerName: string; details: { data?: { payloads: Array<{ data: string }> } } } }> };
  return history.events.flatMap((e) => (e.markerRecordedEventAttributes?.markerName === 'core_local_activity' ? [(JSON.parse(Buffer.from(e.markerRecordedEventAttributes.details.data!.payloads[0]!.data, 'base64').toString()) as { activity_type: string }).activity_type] : []));
}

test('the server-failure cutover in the local-bookkeeping shape: the same steps, notices and plan as activities, the audit batches and the report as local activities', () => {
  assert.deepEqual(patchMarkers(cutoverLocal), ['batched-audit', 'vote-proofs', 'operator-notices', 'local-bookkeeping', 'validation-baseline', 'rotate-and-roll-out']);
  const bookkeeping = new Set(['appendAuditEntries', 'publishRunbookReport']);
  assert.deepEqual(activities(cutoverLocal), activities(cutoverNow).filter((a) => !bookkeeping.has(a)));
  const locals = localActivities(cutoverLocal);
  assert.deepEqual(locals.filter((a) => a !== 'appendAuditEntries'), ['publishRunbookReport']);
  assert.equal(locals.filter((a) => a === 'appendAuditEntries').length, activities(cutoverNow).filter((a) => a === 'appendAuditEntries').length, 'as many audit batches as before');
});

test('the demo drill in today\'s shape: the steps, notices and plan of the restore-beside-assessment shape as activities, the audit batches and the report as local activities', () => {
  assert.deepEqual(patchMarkers(drillNow), ['batched-audit', 'vote-proofs', 'operator-notices', 'local-bookkeeping', 'restore-beside-assessment', 'validation-baseline']);
  const bookkeeping = new Set(['appendAuditEntries', 'publishRunbookReport']);
  assert.deepEqual(activities(drillNow).filter((a) => a !== 'notify'), activities(drillRestoreBeside).filter((a) => !bookkeeping.has(a) && a !== 'notify'));
  const locals = localActivities(drillNow);
  assert.deepEqual(locals.filter((a) => a !== 'appendAuditEntries'), ['publishRunbookReport']);
  assert.ok(locals.filter((a) => a === 'appendAuditEntries').length > 0, 'the audit batches ran as local activities');
});

const drillPlanBeside = 'accidental-deletion-drill-repair-gate-vote-proofs-operator-notices-local-bookkeeping-plan-beside-targets-restore-beside-assessment-validation-baseline.json';

test('the demo drill in the plan-beside-targets shape: the plan read and the input\'s targets checked at once, both answered before the first step; otherwise the activities of the local-bookkeeping shape in order', () => {
  assert.deepEqual(patchMarkers(drillPlanBeside), ['batched-audit', 'vote-proofs', 'operator-notices', 'local-bookkeeping', 'plan-beside-targets', 'restore-beside-assessment', 'validation-baseline']);
  const history = JSON.parse(readFileSync(path.join(historiesDir, drillPlanBeside), 'utf8')) as { events: Array<{ eventId: string; eventType: string; activityTaskScheduledEventAttributes?: { activityType: { name: string } }; activityTaskCompletedEventAttributes?: { scheduledEventId: string } }> };
  const scheduled = (name: string) => history.events.findIndex((e) => e.activityTaskScheduledEventAttributes?.activityType.name === name);
  const completed = (name: string) => history.events.findIndex((e) => e.activityTaskCompletedEventAttributes?.scheduledEventId === history.events[scheduled(name)]!.eventId);
  const firstCompletion = Math.min(completed('loadRunbookPlan'), completed('checkRunbookTargets'));
  assert.ok(firstCompletion > 0, 'both completed');
  assert.ok(scheduled('loadRunbookPlan') < firstCompletion && scheduled('checkRunbookTargets') < firstCompletion, 'both were scheduled before either completed');
  assert.ok(Math.max(completed('loadRunbookPlan'), completed('checkRunbookTargets')) < scheduled('checkDatabaseHealth'), 'both answered before the first step');
  assert.deepEqual(activities(drillPlanBeside).filter((a) => a !== 'notify'), activities(drillNow).filter((a) => a !== 'notify'), 'the same activities in the same order');
  assert.deepEqual(localActivities(drillPlanBeside).filter((a) => a !== 'appendAuditEntries'), ['publishRunbookReport']);
});

const cutoverPlanBeside = 'server-failure-cutover-vote-proofs-operator-notices-local-bookkeeping-plan-beside-targets-validation-baseline-rotate-and-roll-out.json';

test('the server-failure cutover in the plan-beside-targets shape: the plan and the targets\' check scheduled together first; otherwise the activities of the local-bookkeeping shape in order', () => {
  assert.deepEqual(patchMarkers(cutoverPlanBeside), ['batched-audit', 'vote-proofs', 'operator-notices', 'local-bookkeeping', 'plan-beside-targets', 'validation-baseline', 'rotate-and-roll-out']);
  const history = JSON.parse(readFileSync(path.join(historiesDir, cutoverPlanBeside), 'utf8')) as { events: Array<{ eventType: string; activityTaskScheduledEventAttributes?: { activityType: { name: string } } }> };
  const firstTwo = history.events.filter((e) => e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED' || e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_COMPLETED').slice(0, 2);
  assert.deepEqual(firstTwo.map((e) => e.activityTaskScheduledEventAttributes?.activityType.name), ['loadRunbookPlan', 'checkRunbookTargets'], 'both scheduled before either completed');
  assert.deepEqual(activities(cutoverPlanBeside).filter((a) => a !== 'notify'), activities(cutoverLocal).filter((a) => a !== 'notify'), 'the same activities in the same order');
});

const drillEndLocal = 'accidental-deletion-drill-repair-gate-vote-proofs-operator-notices-local-bookkeeping-plan-beside-targets-restore-beside-assessment-validation-baseline-local-end-notice.json';

test('the demo drill in the local-end-notice shape: the closing notification is a local activity, asked for when the run ends; the other activities as in the plan-beside-targets shape, in order', () => {
  assert.deepEqual(patchMarkers(drillEndLocal), ['batched-audit', 'vote-proofs', 'operator-notices', 'local-bookkeeping', 'plan-beside-targets', 'restore-beside-assessment', 'validation-baseline', 'local-end-notice']);
  const before = activities(drillPlanBeside);
  const closing = before.lastIndexOf('notify');
  assert.deepEqual(activities(drillEndLocal).filter((a) => a !== 'notify'), before.filter((a) => a !== 'notify'), 'the same steps in the same order');
  assert.equal(activities(drillEndLocal).filter((a) => a === 'notify').length, before.filter((a) => a === 'notify').length - 1, 'one notification fewer in the activity queue');
  assert.ok(closing > 0);
  assert.deepEqual(localActivities(drillEndLocal).slice(-3), ['notify', 'appendAuditEntries', 'publishRunbookReport'], 'the closing notification, the last batch and the report, locally at the end');
});

const cutoverOneMarker = 'server-failure-cutover-shape-in-one-marker-plan-beside-targets-validation-baseline-rotate-and-roll-out.json';

test('the server-failure cutover in the shape-in-one-marker shape: one marker for the runner\'s five shapes, the closing notification local; the other activities as in the plan-beside-targets shape, in order', () => {
  assert.deepEqual(patchMarkers(cutoverOneMarker), ['shape-in-one-marker', 'plan-beside-targets', 'validation-baseline', 'rotate-and-roll-out']);
  const before = activities(cutoverPlanBeside);
  assert.deepEqual(activities(cutoverOneMarker).filter((a) => a !== 'notify'), before.filter((a) => a !== 'notify'), 'the same steps in the same order');
  assert.equal(activities(cutoverOneMarker).filter((a) => a === 'notify').length, before.filter((a) => a === 'notify').length - 1, 'the closing notification is the local one');
  assert.deepEqual(localActivities(cutoverOneMarker).slice(-3), ['notify', 'appendAuditEntries', 'publishRunbookReport']);
});

const drillOneMarker = 'accidental-deletion-drill-repair-gate-shape-in-one-marker-plan-beside-targets-restore-beside-assessment-validation-baseline.json';

test('the demo drill in the shape-in-one-marker shape: one marker for the runner\'s five shapes; the same activities as in the local-end-notice shape, in order', () => {
  assert.deepEqual(patchMarkers(drillOneMarker), ['shape-in-one-marker', 'plan-beside-targets', 'restore-beside-assessment', 'validation-baseline']);
  assert.deepEqual(activities(drillOneMarker), activities(drillEndLocal), 'the same steps and notifications in the same order');
  assert.deepEqual(localActivities(drillOneMarker).slice(-3), ['notify', 'appendAuditEntries', 'publishRunbookReport']);
});

test('the README states the history events of the demo drill in the last two shapes', () => {
  const readme = readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8').replace(/\s+/g, ' ');
  const events = (file: string) => (JSON.parse(readFileSync(path.join(historiesDir, file), 'utf8')) as { events: unknown[] }).events.length;
  assert.match(readme, new RegExp(`it has ${events(drillEndLocal)} history events with all four`));
  assert.match(readme, new RegExp(`so the demo's drill now has ${events(drillOneMarker)} `));
});

const regionOutageLocal = 'region-outage-failover-vote-proofs-operator-notices-local-bookkeeping-validation-baseline-standby-health.json';
const regionOutageNow = 'region-outage-failover-vote-proofs-operator-notices-local-bookkeeping-plan-beside-targets-validation-baseline-standby-health.json';

test('the region-outage failover in the local-bookkeeping shape: promoted and validated before the gate, the name switched only after it, the standby asked', () => {
  assert.deepEqual(patchMarkers(regionOutageLocal), ['batched-audit', 'vote-proofs', 'operator-notices', 'local-bookkeeping', 'validation-baseline', 'standby-health']);
  const names = activities(regionOutageLocal).filter((a) => a !== 'notify');
  assert.deepEqual(names, [
    'loadRunbookPlan', 'checkRunbookTargets', 'probeDatabase', 'describeDnsTarget', 'waitUntilDatabaseAvailable', 'measureReplicaLag', 'promoteReplica',
    'findValidationBaseline', 'runValidationChecks', 'scaleApp', 'switchDnsTarget', 'waitUntilAppHealthy', 'checkDatabaseHealth',
  ]);
  assert.deepEqual(localActivities(regionOutageLocal).filter((a) => a !== 'appendAuditEntries'), ['publishRunbookReport']);
});

test('the region-outage failover in today\'s shape: the plan and the targets\' check scheduled together first; otherwise the same activities in order', () => {
  assert.deepEqual(patchMarkers(regionOutageNow), ['batched-audit', 'vote-proofs', 'operator-notices', 'local-bookkeeping', 'plan-beside-targets', 'validation-baseline', 'standby-health']);
  assert.deepEqual(activities(regionOutageNow).filter((a) => a !== 'notify'), activities(regionOutageLocal).filter((a) => a !== 'notify'));
});

test('today\'s recordings fail to replay against scenarios whose steps changed (so their replay can fail)', async () => {
  quietTemporalLogs();
  const altered = await bundleWorkflowCode({ workflowsPath: require.resolve(path.join(__dirname, '..', 'fixtures', 'scenarios-altered')), logger: silent });
  for (const file of [drillPlanBeside, drillNow, drillOneMarker, cutoverPlanBeside, cutoverNow, cutoverOneMarker, regionOutageLocal, regionOutageNow]) {
    const history = historyFromStandardJson(JSON.parse(readFileSync(path.join(historiesDir, file), 'utf8')));
    await assert.rejects(Worker.runReplayHistory({ workflowBundle: altered }, history, file), DeterminismViolationError, file);
  }
});

test('every shape recorded so far is still here (runs of each may be in flight)', () => {
  assert.deepEqual(histories, [
    'accidental-deletion-drill-repair-gate-batched-audit.json',
    'accidental-deletion-drill-repair-gate-operator-notices.json',
    drillOneMarker,
    'accidental-deletion-drill-repair-gate-validation-baseline.json',
    'accidental-deletion-drill-repair-gate-vote-proofs-and-notices.json',
    drillEndLocal,
    drillPlanBeside,
    drillNow,
    drillRestoreBeside,
    drillBefore,
    'accidental-deletion-drill-repair-gate-vote-proofs-validation-baseline.json',
    'accidental-deletion-drill-repair-gate-vote-proofs.json',
    'accidental-deletion-drill-repair-gate.json',
    regionOutageNow,
    regionOutageLocal,
    'server-failure-cutover-rotate-and-roll-out.json',
    cutoverOneMarker,
    cutoverPlanBeside,
    cutoverLocal,
    cutoverNow,
    'server-failure-cutover.json',
  ]);
});
