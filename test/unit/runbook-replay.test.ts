import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { DeterminismViolationError } from '@temporalio/workflow';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { fixtureBundle } from '../support/fixture-runbook';
import { historyFromStandardJson } from '../support/history-json';
import { quietTemporalLogs } from '../support/quiet-logs';

// Recorded histories of the fixture runbook (approved with a quorum by Update and Signal, with a refused
// signal; rejected with compensations; aborted at the gate) must replay against today's engine. A change
// that breaks determinism fails here. Re-record deliberately with `node --import tsx scripts/record-history.ts`.
const historiesDir = path.join(__dirname, '..', 'fixtures', 'histories');
const histories = readdirSync(historiesDir).filter((f) => f.endsWith('.json')).sort();
const load = (file: string) => historyFromStandardJson(JSON.parse(readFileSync(path.join(historiesDir, file), 'utf8')));
const silent = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

test('the recorded histories are there', () => {
  assert.deepEqual(histories, ['fixture-runbook-aborted.json', 'fixture-runbook-approved.json', 'fixture-runbook-rejected.json']);
});

for (const file of histories) {
  test(`replays ${file} against the current engine`, async () => {
    quietTemporalLogs();
    await Worker.runReplayHistory({ workflowBundle: await fixtureBundle() }, load(file), file);
  });
}

// The same three runs recorded after the audit trail was written in batches (patched 'batched-audit'):
// both shapes must replay, the older for runs still in flight from before it.
const batchedDir = path.join(historiesDir, 'batched-audit');
const batched = readdirSync(batchedDir).filter((f) => f.endsWith('.json')).sort();

test('the recorded histories of the batched-audit shape are there', () => {
  assert.deepEqual(batched, ['fixture-runbook-aborted.json', 'fixture-runbook-approved.json', 'fixture-runbook-rejected.json']);
});

for (const file of batched) {
  test(`replays batched-audit/${file} against the current engine`, async () => {
    quietTemporalLogs();
    await Worker.runReplayHistory({ workflowBundle: await fixtureBundle() }, historyFromStandardJson(JSON.parse(readFileSync(path.join(batchedDir, file), 'utf8'))), file);
  });
}

// The same runs recorded after the runbooks started telling people what they act on (patched
// 'operator-notices': a status-update timer, gate decisions), plus one that waits long enough for two
// status updates and takes the alert receiver's notes (one accepted, one refused).
const noticesDir = path.join(historiesDir, 'operator-notices');
const notices = readdirSync(noticesDir).filter((f) => f.endsWith('.json')).sort();

test('the recorded histories of the operator-notices shape are there', () => {
  assert.deepEqual(notices, ['fixture-runbook-aborted.json', 'fixture-runbook-approved.json', 'fixture-runbook-rejected.json', 'fixture-runbook-status-updates.json']);
});

for (const file of notices) {
  test(`replays operator-notices/${file} against the current engine`, async () => {
    quietTemporalLogs();
    await Worker.runReplayHistory({ workflowBundle: await fixtureBundle() }, historyFromStandardJson(JSON.parse(readFileSync(path.join(noticesDir, file), 'utf8'))), file);
  });
}

test('the operator notices cost a run a handful of history events (a marker, one pending timer, the gate decision)', () => {
  const events = (dir: string, file: string) => (JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as { events: unknown[] }).events.length;
  for (const file of batched) assert.ok(events(noticesDir, file) <= events(batchedDir, file) + 6, `${file}: ${events(noticesDir, file)} events now, ${events(batchedDir, file)} before`);
});

test('a batched-audit history has at most about half the events of the same run before', () => {
  const events = (dir: string, file: string) => (JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as { events: unknown[] }).events.length;
  for (const file of batched) assert.ok(events(batchedDir, file) * 1.6 <= events(historiesDir, file), `${file}: ${events(batchedDir, file)} events now, ${events(historiesDir, file)} before`);
});

// The same runs, and one with proofs (an SSH-signed approval, a vote by name refused, a one-time code, a
// forged abort refused), recorded since votes carry proofs (patched 'vote-proofs'): all three shapes replay.
const provenDir = path.join(historiesDir, 'vote-proofs');
const proven = readdirSync(provenDir).filter((f) => f.endsWith('.json')).sort();

test('the recorded histories of the vote-proofs shape are there', () => {
  assert.deepEqual(proven, ['fixture-runbook-aborted.json', 'fixture-runbook-approved.json', 'fixture-runbook-proven.json', 'fixture-runbook-rejected.json']);
});

for (const file of proven) {
  test(`replays vote-proofs/${file} against the current engine`, async () => {
    quietTemporalLogs();
    await Worker.runReplayHistory({ workflowBundle: await fixtureBundle() }, historyFromStandardJson(JSON.parse(readFileSync(path.join(provenDir, file), 'utf8'))), file);
  });
}

test('in the vote-proofs shape, a vote is checked by an activity and every refusal reaches the audit trail', () => {
  const history = JSON.parse(readFileSync(path.join(provenDir, 'fixture-runbook-proven.json'), 'utf8')) as { events: Array<{ eventType: string; activityTaskScheduledEventAttributes?: { activityType: { name: string }; input: { payloads: Array<{ data: string }> } } }> };
  const scheduled = history.events.flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes] : []));
  assert.equal(scheduled.filter((a) => a.activityType.name === 'verifyVoteProof').length, 2, 'the signature and the code, each checked once');
  const audit = scheduled.filter((a) => a.activityType.name === 'appendAuditEntries').flatMap((a) => (JSON.parse(Buffer.from(a.input.payloads[0]!.data, 'base64').toString()) as { entries: Array<{ actor: string; action: string }> }).entries);
  assert.deepEqual(audit.filter((e) => e.action.endsWith('-refused')).map((e) => `${e.actor}:${e.action}`), ['dave:approve-refused', 'dave:abort-refused']);
});

// Today's shape: both patches ('vote-proofs', then 'operator-notices'), every run of the two shapes before
// recorded again, so histories with either marker or both replay. It is still today's shape of the fixture
// runbook: the two later patches ('validation-baseline', 'rotate-and-roll-out') are in the scenarios' gate
// and cutover, which it never reaches (re-recorded after they merged: the same markers and steps).
const bothDir = path.join(historiesDir, 'vote-proofs-and-notices');
const both = readdirSync(bothDir).filter((f) => f.endsWith('.json')).sort();

test('the recorded histories of the vote-proofs-and-notices shape are there', () => {
  assert.deepEqual(both, ['fixture-runbook-aborted.json', 'fixture-runbook-approved.json', 'fixture-runbook-proven.json', 'fixture-runbook-rejected.json', 'fixture-runbook-status-updates.json']);
});

for (const file of both) {
  test(`replays vote-proofs-and-notices/${file} against the current engine`, async () => {
    quietTemporalLogs();
    await Worker.runReplayHistory({ workflowBundle: await fixtureBundle() }, historyFromStandardJson(JSON.parse(readFileSync(path.join(bothDir, file), 'utf8'))), file);
  });
}

test('in the vote-proofs-and-notices shape, both patch markers are recorded, vote-proofs first', () => {
  const history = JSON.parse(readFileSync(path.join(bothDir, 'fixture-runbook-approved.json'), 'utf8')) as { events: Array<{ eventType: string; markerRecordedEventAttributes?: { details: { 'patch-data': { payloads: Array<{ data: string }> } } } }> };
  const patches = history.events.flatMap((e) => (e.markerRecordedEventAttributes ? [(JSON.parse(Buffer.from(e.markerRecordedEventAttributes.details['patch-data'].payloads[0]!.data, 'base64').toString()) as { id: string }).id] : []));
  assert.deepEqual(patches, ['batched-audit', 'vote-proofs', 'operator-notices']);
});

// Today's shape: the three patches before it, then 'local-bookkeeping' (the audit trail's batches and the
// report by local activities), every run of the shape before recorded again.
const localDir = path.join(historiesDir, 'local-bookkeeping');
const local = readdirSync(localDir).filter((f) => f.endsWith('.json')).sort();

test('the recorded histories of the local-bookkeeping shape are there', () => {
  assert.deepEqual(local, both);
});

for (const file of local) {
  test(`replays local-bookkeeping/${file} against the current engine`, async () => {
    quietTemporalLogs();
    await Worker.runReplayHistory({ workflowBundle: await fixtureBundle() }, historyFromStandardJson(JSON.parse(readFileSync(path.join(localDir, file), 'utf8'))), file);
  });
}

type RecordedEvent = { eventType: string; activityTaskScheduledEventAttributes?: { activityType: { name: string } }; markerRecordedEventAttributes?: { markerName: string; details: Record<string, { payloads: Array<{ data: string }> }> } };
const recorded = (dir: string, file: string) => (JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as { events: RecordedEvent[] }).events;
const decoded = (e: RecordedEvent, key: string) => JSON.parse(Buffer.from(e.markerRecordedEventAttributes!.details[key]!.payloads[0]!.data, 'base64').toString()) as Record<string, unknown>;

test('in the local-bookkeeping shape, the four patch markers are recorded in order, and the bookkeeping is local', () => {
  const events = recorded(localDir, 'fixture-runbook-approved.json');
  const patches = events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch').map((e) => decoded(e, 'patch-data').id);
  assert.deepEqual(patches, ['batched-audit', 'vote-proofs', 'operator-notices', 'local-bookkeeping']);
  const scheduled = events.flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType.name] : []));
  const locals = events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity').map((e) => decoded(e, 'data').activity_type);
  const before = recorded(bothDir, 'fixture-runbook-approved.json').flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType.name] : []));
  const bookkeeping = new Set(['appendAuditEntries', 'publishRunbookReport']);
  assert.deepEqual(scheduled, before.filter((a) => !bookkeeping.has(a)), 'the steps and the notifications are activities as before');
  assert.deepEqual(new Set(locals), bookkeeping);
  assert.equal(locals.filter((a) => a === 'appendAuditEntries').length, before.filter((a) => a === 'appendAuditEntries').length, 'as many audit batches as before');
});

test('in the local-bookkeeping shape, the production step is scheduled by the workflow task that appended the audit batch with its approval', () => {
  const events = recorded(localDir, 'fixture-runbook-approved.json');
  const step = events.findIndex((e) => e.activityTaskScheduledEventAttributes?.activityType.name === 'doWork' && events.slice(0, events.indexOf(e)).some((b) => b.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED'));
  const previousTask = events.map((e) => e.eventType).lastIndexOf('EVENT_TYPE_WORKFLOW_TASK_COMPLETED', step);
  const batch = events.slice(previousTask, step).find((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity');
  assert.ok(batch, 'an audit batch in the same task, before the step');
  assert.equal(decoded(batch, 'data').activity_type, 'appendAuditEntries');
});

// Today's shape: the four patches before it, then 'local-end-notice' when the run ends (the closing
// notification sent by a local activity in the run's last workflow task), every run of the shape before recorded again.
const endDir = path.join(historiesDir, 'local-end-notice');
const ended = readdirSync(endDir).filter((f) => f.endsWith('.json')).sort();

test('the recorded histories of the local-end-notice shape are there', () => {
  assert.deepEqual(ended, local);
});

for (const file of ended) {
  test(`replays local-end-notice/${file} against the current engine`, async () => {
    quietTemporalLogs();
    await Worker.runReplayHistory({ workflowBundle: await fixtureBundle() }, historyFromStandardJson(JSON.parse(readFileSync(path.join(endDir, file), 'utf8'))), file);
  });
}

test('in the local-end-notice shape, the closing notification is local and in the last workflow task, beside the last audit batch and the report; the others are activities as before', () => {
  for (const file of ended) {
    const events = recorded(endDir, file);
    const patches = events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch').map((e) => decoded(e, 'patch-data').id);
    assert.deepEqual(patches, ['batched-audit', 'vote-proofs', 'operator-notices', 'local-bookkeeping', 'local-end-notice'], file);
    const lastTask = events.map((e) => e.eventType).lastIndexOf('EVENT_TYPE_WORKFLOW_TASK_COMPLETED');
    const last = events.slice(lastTask).filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity').map((e) => decoded(e, 'data').activity_type);
    assert.deepEqual(last, ['notify', 'appendAuditEntries', 'publishRunbookReport'], file);
    const scheduled = (dir: string) => recorded(dir, file).flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType.name] : []));
    const before = scheduled(localDir);
    assert.deepEqual(scheduled(endDir), before.slice(0, before.lastIndexOf('notify')).concat(before.slice(before.lastIndexOf('notify') + 1)), `${file}: only the closing notify left the activity queue`);
  }
});

// Today's shape: everything the local-end-notice shape does, asked with one marker ('shape-in-one-marker')
// where it recorded five, each with its own TemporalChangeVersion upsert; every run of the shape before recorded again.
const oneDir = path.join(historiesDir, 'shape-in-one-marker');
const one = readdirSync(oneDir).filter((f) => f.endsWith('.json')).sort();

test('the recorded histories of the shape-in-one-marker shape are there', () => {
  assert.deepEqual(one, ended);
});

for (const file of one) {
  test(`replays shape-in-one-marker/${file} against the current engine`, async () => {
    quietTemporalLogs();
    await Worker.runReplayHistory({ workflowBundle: await fixtureBundle() }, historyFromStandardJson(JSON.parse(readFileSync(path.join(oneDir, file), 'utf8'))), file);
  });
}

test('in the shape-in-one-marker shape, one patch marker and one fewer search-attribute upsert per marker gone; the activities, local ones included, are those of the local-end-notice shape', () => {
  const upserts = (events: RecordedEvent[]) => events.filter((e) => e.eventType === 'EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES').length;
  const activities = (events: RecordedEvent[]) => events.flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType.name] : e.markerRecordedEventAttributes?.markerName === 'core_local_activity' ? [`local:${String(decoded(e, 'data').activity_type)}`] : []));
  for (const file of one) {
    const events = recorded(oneDir, file);
    const before = recorded(endDir, file);
    assert.deepEqual(events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch').map((e) => decoded(e, 'patch-data').id), ['shape-in-one-marker'], file);
    assert.equal(upserts(events), upserts(before) - 4, `${file}: the four other markers' TemporalChangeVersion upserts are gone`);
    assert.deepEqual(activities(events), activities(before), file);
  }
});

test('a runbook whose steps changed fails the replay (so this test can fail)', async () => {
  quietTemporalLogs();
  const altered = await bundleWorkflowCode({ workflowsPath: require.resolve(path.join(__dirname, '..', 'fixtures', 'workflows-altered')), logger: silent });
  await assert.rejects(Worker.runReplayHistory({ workflowBundle: altered }, load('fixture-runbook-approved.json'), 'altered'), DeterminismViolationError);
});

test('a runbook whose steps changed fails the replay of a batched-audit history too', async () => {
  quietTemporalLogs();
  const altered = await bundleWorkflowCode({ workflowsPath: require.resolve(path.join(__dirname, '..', 'fixtures', 'workflows-altered')), logger: silent });
  await assert.rejects(Worker.runReplayHistory({ workflowBundle: altered }, historyFromStandardJson(JSON.parse(readFileSync(path.join(batchedDir, 'fixture-runbook-approved.json'), 'utf8'))), 'altered'), DeterminismViolationError);
});

test('a runbook whose steps changed fails the replay of a history in today\'s shape too', async () => {
  quietTemporalLogs();
  const altered = await bundleWorkflowCode({ workflowsPath: require.resolve(path.join(__dirname, '..', 'fixtures', 'workflows-altered')), logger: silent });
  for (const file of [...both, ...local.map((f) => path.join('..', 'local-bookkeeping', f)), ...one.map((f) => path.join('..', 'shape-in-one-marker', f))]) {
    await assert.rejects(Worker.runReplayHistory({ workflowBundle: altered }, historyFromStandardJson(JSON.parse(readFileSync(path.join(bothDir, file), 'utf8'))), file), DeterminismViolationError, file);
  }
});
