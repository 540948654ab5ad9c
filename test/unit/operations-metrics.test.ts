import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { createPrometheusMetrics } from '../../activities/adapters/prometheus/prometheus-metrics';
import { runbookMeasurements } from '../../activities/monitoring/runbook-measurements';
import type { GateView, RunbookResult } from '../../contracts/runbook-status';
import { metricsContractFile, promtool } from '../support/alert-rules';

// The worker's own series, as config/alerts/METRICS.md writes them: every name, type and label set the
// contract documents is what the Prometheus adapter exports, and the real `promtool check metrics`
// accepts the whole exposition.
const now = Date.parse('2026-11-23T04:00:00.000Z');

function gate(overrides: Partial<GateView> = {}): GateView {
  return {
    gate: 'cutover', status: 'approved', approvers: ['alice', 'bob'], quorum: 1, twoPersonRule: true,
    approvals: [{ approver: 'bob', at: '2026-11-23T03:20:00.000Z' }], stillMayApprove: [],
    openedAt: '2026-11-23T03:10:00.000Z', deadlineAt: '2026-11-23T05:10:00.000Z', decidedAt: '2026-11-23T03:20:00.000Z', escalated: [],
    ...overrides,
  };
}

function result(overrides: Partial<RunbookResult> = {}): RunbookResult {
  return {
    workflowId: 'server-failure-INC-7', scenario: 'server-failure', mode: 'drill', environment: 'test', incidentId: 'INC-7', startedBy: 'carol', phase: 'finished',
    timeline: [], openGates: [], gates: [gate()], compensations: [],
    rto: { objectiveSeconds: 3600, declaredAt: '2026-11-23T03:00:00.000Z', cutoverVerifiedAt: '2026-11-23T03:25:00.000Z', elapsedSeconds: 1500, withinObjective: true },
    rpo: { objectiveSeconds: 900, achievedSeconds: 12.5, withinObjective: true },
    verdict: 'completed',
    ...overrides,
  };
}

function everySeries() {
  const metrics = createPrometheusMetrics({ environment: 'test', now: () => now });
  metrics.databaseUp('production', true);
  metrics.financialIntegrity('production', true);
  metrics.backupValidation('production', false);
  metrics.newestGoodBackup('production', { stoppedAt: '2026-11-23T03:00:00.000Z', maxAgeSeconds: 900 });
  metrics.walArchiveLag('production', { lagSeconds: 0, rpoObjectiveSeconds: 900 });
  metrics.replicaLag('production', 'standby', 2.5);
  metrics.runbookMeasured('server-failure-INC-7', runbookMeasurements(result()));
  metrics.readinessChecked({ environment: 'test', checkedAt: '2026-11-23T03:00:00.000Z', ready: false, lines: [
    { check: 'backup-age', subject: 'production', passed: false, detail: 'old' },
    { check: 'wal-archive', subject: 'production', passed: true, detail: 'fine' },
    { check: 'secrets', subject: 'a', passed: true, detail: 'resolves' },
    { check: 'secrets', subject: 'b', passed: false, detail: 'missing' },
  ] });
  metrics.auditVerified(false);
  return metrics;
}

/** Every sample line of a metric family: its labels as an object, and its value. */
function samples(text: string, name: string): Array<{ labels: Record<string, string>; value: string }> {
  return text.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `)).map((line) => {
    const m = /^[a-z_:]+(?:\{(.*)\})? (\S+)$/.exec(line)!;
    const labels = Object.fromEntries([...(m[1] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!]));
    return { labels, value: m[2]! };
  });
}

test('every metric METRICS.md documents for the worker has its type and exactly its labels', async () => {
  const text = await everySeries().exposition();
  const rows = readFileSync(metricsContractFile, 'utf8').split('\n').filter((line) => line.startsWith('| `'));
  let checked = 0;
  for (const row of rows) {
    const [, name, type, labels] = /^\| `([a-z_]+)` \| (gauge|counter|histogram) \| ([a-z_, ]+) \|/.exec(row) ?? [];
    assert.ok(name, `a METRICS.md row without name, type and labels: ${row}`);
    checked++;
    assert.match(text, new RegExp(`^# TYPE ${name} ${type}$`, 'm'), `${name} is a ${type}`);
    const series = samples(text, type === 'histogram' ? `${name}_bucket` : name!);
    assert.ok(series.length > 0, `${name} has a series`);
    const expected = labels!.split(',').map((l) => l.trim()).concat(type === 'histogram' ? ['le'] : []).sort();
    for (const s of series) assert.deepEqual(Object.keys(s.labels).sort(), expected, `${name}'s labels`);
  }
  assert.equal(checked, 16);
});

test('the real `promtool check metrics` accepts the whole exposition', async () => {
  const text = await everySeries().exposition();
  const checked = promtool(['check', 'metrics'], undefined, text);
  assert.equal(checked.status, 0, checked.output);
});

test('values: states are 1/0, the backup age grows from its end to the scrape, no good backup is +Inf, gate waits land in their bucket', async () => {
  const metrics = everySeries();
  let text = await metrics.exposition();
  const value = (name: string, labels: Record<string, string> = {}) => samples(text, name).find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
  assert.equal(value('postgres_up', { database: 'production', environment: 'test' }), '1');
  assert.equal(value('backup_validation_success'), '0');
  assert.equal(value('dr_backup_newest_good_age_seconds'), '3600');
  assert.equal(value('dr_backup_max_age_seconds'), '900');
  assert.equal(value('dr_replica_lag_seconds', { replica: 'standby' }), '2.5');
  assert.equal(value('dr_drill_last_passed', { scenario: 'server-failure' }), '1');
  assert.equal(value('dr_runbook_rto_seconds', { mode: 'drill' }), '1500');
  assert.equal(value('dr_runbook_rpo_seconds', { mode: 'drill' }), '12.5');
  // 600 s at the gate: above the 300 s bucket, within 900 s.
  assert.equal(value('dr_gate_wait_seconds_bucket', { le: '300', gate: 'cutover', decision: 'approved' }), '0');
  assert.equal(value('dr_gate_wait_seconds_bucket', { le: '900', gate: 'cutover', decision: 'approved' }), '1');
  assert.equal(value('dr_gate_wait_seconds_sum'), '600');

  assert.equal(value('dr_readiness_check_ok', { check: 'backup-age' }), '0');
  assert.equal(value('dr_readiness_check_ok', { check: 'wal-archive' }), '1');
  assert.equal(value('dr_readiness_check_ok', { check: 'secrets' }), '0', 'one secret of two missing fails the check');
  assert.equal(value('dr_readiness_check_ok', { check: 'approvers' }), undefined, 'a check with no line is not exported');
  assert.equal(value('dr_readiness_ok'), '0');
  assert.equal(value('dr_audit_verification_ok'), '0');
  assert.equal(value('dr_readiness_last_run_timestamp_seconds'), String(Date.parse('2026-11-23T03:00:00.000Z') / 1000));

  metrics.newestGoodBackup('production', { maxAgeSeconds: 900 });
  text = await metrics.exposition();
  assert.equal(value('dr_backup_newest_good_age_seconds'), '+Inf', 'no good backup at all fires NewestGoodBackupTooOld');
});

test('a measurement that cannot be made removes its series (an absent series never alerts, a stale one lies)', async () => {
  const metrics = everySeries();
  metrics.financialIntegrity('production', undefined);
  metrics.walArchiveLag('production', undefined);
  metrics.replicaLag('production', 'standby', undefined);
  metrics.newestGoodBackup('production', undefined);
  const text = await metrics.exposition();
  for (const name of ['financial_integrity_check', 'dr_wal_archive_lag_seconds', 'dr_rpo_objective_seconds', 'dr_replica_lag_seconds', 'dr_backup_newest_good_age_seconds', 'dr_backup_max_age_seconds']) {
    assert.deepEqual(samples(text, name), [], `${name} is gone`);
  }
  assert.equal(samples(text, 'postgres_up').length, 1, 'postgres_up is always measured');
});

test('a run is counted once per workflow id: a retried report does not observe its gate twice', async () => {
  const metrics = everySeries();
  metrics.runbookMeasured('server-failure-INC-7', runbookMeasurements(result()));
  metrics.runbookMeasured('server-failure-INC-8', runbookMeasurements(result({ verdict: 'failed', rto: { objectiveSeconds: 3600, declaredAt: '2026-11-23T03:00:00.000Z', elapsedSeconds: 90 } })));
  const text = await metrics.exposition();
  assert.equal(samples(text, 'dr_gate_wait_seconds_count')[0]!.value, '2', 'INC-7 once, INC-8 once');
  assert.equal(samples(text, 'dr_drill_last_passed')[0]!.value, '0', 'the last drill failed');
  assert.equal(samples(text, 'dr_runbook_rto_seconds')[0]!.value, '1500', 'a run without a verified cutover leaves the last RTO standing');
});

test('runbookMeasurements: RTO/RPO only with a verified cutover, the drill verdict runDrill gives, gate waits without drill-policy approvals', () => {
  assert.deepEqual(runbookMeasurements(result()), { scenario: 'server-failure', mode: 'drill', recovery: { rtoSeconds: 1500, rpoSeconds: 12.5 }, drillPassed: true, gateWaits: [{ gate: 'cutover', decision: 'approved', seconds: 600 }] });
  const real = runbookMeasurements(result({ mode: 'real', gates: [gate({ approvals: [{ approver: 'drill-policy', at: '2026-11-23T03:10:00.000Z' }] }), gate({ gate: 'repair', status: 'timed-out', approvals: [], decidedAt: '2026-11-23T05:10:00.000Z' }), gate({ gate: 'dns-failover', status: 'pending', approvals: [] })] }));
  assert.equal(real.mode, 'incident');
  assert.equal(real.drillPassed, undefined);
  assert.deepEqual(real.gateWaits, [{ gate: 'repair', decision: 'timed-out', seconds: 7200 }]);
  const missedRto = runbookMeasurements(result({ rto: { objectiveSeconds: 600, declaredAt: '2026-11-23T03:00:00.000Z', cutoverVerifiedAt: '2026-11-23T03:25:00.000Z', elapsedSeconds: 1500, withinObjective: false } }));
  assert.equal(missedRto.drillPassed, false);
  assert.equal(runbookMeasurements(result({ rto: { objectiveSeconds: 3600, declaredAt: '2026-11-23T03:00:00.000Z', elapsedSeconds: 30 } })).recovery, undefined);
});
