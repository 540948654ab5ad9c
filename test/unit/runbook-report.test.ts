import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createReportActivities, renderRunbookReport, reportExtrasFromOutput, reportKeys, SecretInReportError } from '../../activities/reports';
import type { ObjectStore } from '../../activities/ports/object-store';
import type { GateView, RunbookResult } from '../../contracts/runbook-status';

function gate(overrides: Partial<GateView> = {}): GateView {
  return {
    gate: 'cutover', status: 'approved', approvers: ['alice', 'bob', 'carol'], quorum: 2, twoPersonRule: true,
    approvals: [
      { approver: 'alice', at: '2026-11-23T03:20:00.000Z', comment: 'validation green' },
      { approver: 'bob', at: '2026-11-23T03:21:30.000Z' },
    ],
    stillMayApprove: [], openedAt: '2026-11-23T03:15:00.000Z', deadlineAt: '2026-11-23T05:15:00.000Z', decidedAt: '2026-11-23T03:21:30.000Z', escalated: [],
    ...overrides,
  };
}

function sample(overrides: Partial<RunbookResult> = {}): RunbookResult {
  return {
    workflowId: 'server-failure-INC-7-1a2b3c4d', scenario: 'server-failure', mode: 'real', environment: 'local', incidentId: 'INC-7', startedBy: 'carol',
    phase: 'finished',
    timeline: [
      { step: 'restore to new instance', startedAt: '2026-11-23T03:05:00.000Z', endedAt: '2026-11-23T03:12:05.000Z', outcome: 'succeeded', detail: 'restored into pitr-7' },
      { step: 'gate cutover', startedAt: '2026-11-23T03:15:00.000Z', endedAt: '2026-11-23T03:21:30.000Z', outcome: 'approved', detail: 'approved by alice, bob' },
      { step: 'switch | production', startedAt: '2026-11-23T03:21:31.000Z', endedAt: '2026-11-23T03:21:31.400Z', outcome: 'succeeded' },
    ],
    openGates: [], gates: [gate(), gate({ gate: 'repair', status: 'pending', approvals: [] })],
    rto: { objectiveSeconds: 3600, declaredAt: '2026-11-23T03:00:00.000Z', cutoverVerifiedAt: '2026-11-23T03:22:00.000Z', elapsedSeconds: 1320, withinObjective: true },
    rpo: { objectiveSeconds: 900, newestCommittedAt: '2026-11-23T02:30:00.000Z', targetTime: '2026-11-23T03:00:00.000Z', achievedSeconds: 1800, withinObjective: false },
    compensations: [{ name: 'delete safety snapshot', step: 'take safety snapshot', outcome: 'failed', detail: 'instance busy' }],
    verdict: 'completed',
    ...overrides,
  };
}

const reconciliation = ['User Accounts: 15,234 (baseline: 15,230) ✅', 'Transaction Sum: $12,456,789.45 (baseline: $12,456,123.21) ⚠️ REVIEW'];

test('title names scenario, incident and verdict; the timeline has one row per step with start, end, duration and outcome', () => {
  const { markdown, json } = renderRunbookReport(sample());
  assert.equal(markdown.split('\n')[0], '# DR runbook report: server-failure · INC-7 · COMPLETED');
  assert.ok(markdown.includes('| 1 | restore to new instance | 2026-11-23 03:05:00Z | 2026-11-23 03:12:05Z | 7 min 5 s | succeeded | restored into pitr-7 |'), markdown);
  assert.ok(markdown.includes('| 3 | switch \\| production | 2026-11-23 03:21:31Z | 2026-11-23 03:21:31Z | 0.4 s | succeeded |  |'), 'a pipe in a step name does not break the row');
  assert.deepEqual(json.timeline.map((e) => e.durationSeconds), [425, 390, 0.4]);
  assert.equal(json.verdict, 'completed');
});

test('RTO and RPO are shown against their objectives with ✅ / ❌, and an unmeasured RPO says so', () => {
  const { markdown, json } = renderRunbookReport(sample());
  assert.match(markdown, /^- RTO: 22 min \(objective: 1 h\) ✅/m);
  assert.match(markdown, /^- RPO: 30 min \(objective: 15 min\) ❌/m);
  assert.equal(json.objectives.rpo.withinObjective, false);
  const unmeasured = renderRunbookReport(sample({ rpo: { objectiveSeconds: 900 } })).markdown;
  assert.match(unmeasured, /^- RPO: not measured \(objective: 15 min\) ⚠️ not measured$/m);
});

test('approvals list who approved when with their comment; a pending gate is left out; compensations show their outcome', () => {
  const { markdown, json } = renderRunbookReport(sample());
  assert.ok(markdown.includes('- Gate "cutover": approved\n  - approved by alice at 2026-11-23 03:20:00Z: "validation green"\n  - approved by bob at 2026-11-23 03:21:30Z'), markdown);
  assert.ok(!markdown.includes('"repair"'));
  assert.deepEqual(json.approvals.map((g) => g.gate), ['cutover']);
  assert.ok(markdown.includes('- ❌ delete safety snapshot (undoes "take safety snapshot"): failed — instance busy'));
});

test('a rejection is listed as a vote, and a drill says so in its title', () => {
  const rejected = gate({ status: 'rejected', approvals: [], rejection: { approver: 'dave', at: '2026-11-23T03:16:00.000Z', comment: 'counts off' } });
  const { markdown } = renderRunbookReport(sample({ mode: 'drill', verdict: 'approval-rejected', gates: [rejected] }));
  assert.match(markdown, /^# DR drill report: server-failure · INC-7 · APPROVAL-REJECTED$/m);
  assert.ok(markdown.includes('  - rejected by dave at 2026-11-23 03:16:00Z: "counts off"'));
});

test('reconciliation lines, validation and instances are included as given', () => {
  const { markdown, json } = renderRunbookReport(sample(), { reconciliation, validation: [{ check: 'no orphaned records', passed: true }, { check: 'transaction totals', passed: false, detail: 'off by 0.2%' }], instances: { restored: 'pitr-7' } });
  assert.ok(markdown.includes('## Reconciliation\n\n- User Accounts: 15,234 (baseline: 15,230) ✅\n- Transaction Sum: $12,456,789.45 (baseline: $12,456,123.21) ⚠️ REVIEW'));
  assert.ok(markdown.includes('- ✅ no orphaned records\n- ❌ transaction totals: off by 0.2%'));
  assert.ok(markdown.includes('- restored: `pitr-7`'));
  assert.deepEqual(json.reconciliation, reconciliation);
  const bare = renderRunbookReport(sample()).markdown;
  assert.ok(!bare.includes('## Reconciliation') && !bare.includes('## Validation') && !bare.includes('## Instances'));
});

test('the secret guard refuses a connection string with a password anywhere; one without a password passes', () => {
  for (const url of ['postgres://app:s3cret@db:5432/mita', 'postgresql://app:hunter2@10.0.0.1/mita', 'POSTGRESQL://u:p@h']) {
    const leaky = sample({ timeline: [{ step: 'restore', startedAt: '2026-11-23T03:05:00.000Z', outcome: 'failed', detail: `could not connect to ${url}` }] });
    assert.throws(() => renderRunbookReport(leaky), SecretInReportError, url);
  }
  assert.throws(() => renderRunbookReport(sample(), { reconciliation: ['postgres://a:b@c/d'] }), /connection string with a password/);
  assert.doesNotThrow(() => renderRunbookReport(sample({ verdictDetail: 'target postgres://app@db:5432/mita' })));
});

test('extras found in a scenario output are picked up; other shapes are ignored', () => {
  assert.deepEqual(reportExtrasFromOutput({ reconciliation, instances: { restored: 'x' }, other: 1 }), { reconciliation, instances: { restored: 'x' } });
  assert.deepEqual(reportExtrasFromOutput({ reconciliation: [1, 2], validation: 'no' }), {});
  assert.deepEqual(reportExtrasFromOutput(undefined), {});
});

function memoryStore(): ObjectStore & { objects: Map<string, string> } {
  const objects = new Map<string, string>();
  return {
    objects,
    async put(key, body) { objects.set(key, body.toString()); },
    async get(key) { return objects.has(key) ? Buffer.from(objects.get(key)!) : undefined; },
    async list(prefix) { return [...objects.keys()].filter((k) => k.startsWith(prefix)).sort(); },
  };
}

test('publishRunbookReport writes reports/<workflowId>.md and .json; a secret writes nothing and fails non-retryably', async () => {
  const store = memoryStore();
  const { publishRunbookReport } = createReportActivities(store);
  const keys = await publishRunbookReport({ workflowId: 'server-failure-INC-7-1a2b3c4d', result: sample(), extras: { reconciliation } });
  assert.deepEqual(keys, { markdownKey: 'reports/server-failure-INC-7-1a2b3c4d.md', jsonKey: 'reports/server-failure-INC-7-1a2b3c4d.json' });
  assert.ok(store.objects.get(keys.markdownKey)!.startsWith('# DR runbook report: server-failure · INC-7 · COMPLETED'));
  assert.deepEqual(JSON.parse(store.objects.get(keys.jsonKey)!).reconciliation, reconciliation);
  assert.deepEqual(reportKeys('a/b c'), { markdown: 'reports/a%2Fb%20c.md', json: 'reports/a%2Fb%20c.json' });
  await publishRunbookReport({ workflowId: 'with-output', result: sample({ output: { reconciliation: ['Goals Total: $5,678,901.23 (baseline: $5,678,901.23) ✅'] } }) });
  assert.match(store.objects.get('reports/with-output.md')!, /^- Goals Total: \$5,678,901\.23 \(baseline: \$5,678,901\.23\) ✅$/m, 'extras default to the scenario output\'s');

  const empty = memoryStore();
  await assert.rejects(
    createReportActivities(empty).publishRunbookReport({ workflowId: 'w', result: sample({ verdictDetail: 'postgres://app:pw@db/mita refused' }) }),
    (error: Error & { type?: string; nonRetryable?: boolean }) => error.type === 'SecretInReport' && error.nonRetryable === true,
  );
  assert.equal(empty.objects.size, 0);
});
