import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { freePort } from '../../lib/ports';
import { startPrometheus, type PrometheusServer } from '../../stack/prometheus';
import { promtool, writeShortForRules } from '../support/alert-rules';
import { eventually } from '../support/eventually';
import { runbookOutcome, startScenarioStack, startServerFailureDrill, type ScenarioStack } from '../support/scenario-stack';
import { startWorkerProcess, writeConfigVariant, type WorkerProcess } from '../support/worker-process';

// The seed's alert from the worker's own metrics: the real worker process (worker/main.ts, its own
// Runtime with the SDK's Prometheus exporter) on the embedded stack serves one /metrics, a real
// Prometheus scrapes it and evaluates the shipped rules (every `for:` cut to 2s), and when the production
// postmaster is killed, DatabaseConnectionFailure fires. On the way: the exposition passes the real
// `promtool check metrics`, a drill's RTO and verdict show up, and a balance that no longer matches its
// ledger fires DataCorruptionDetected.
let s: ScenarioStack;
let worker: WorkerProcess;
let prometheus: PrometheusServer | undefined;
let taskQueue: string;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'dr-worker-metrics-'));

before(async () => {
  s = await startScenarioStack();
  taskQueue = `metrics-${randomUUID()}`;
  const configFile = writeConfigVariant(s.stack.configFile, 'dr-config-metrics', {
    metrics: { listen: `127.0.0.1:${await freePort()}`, interval: '1 second', timeout: '1 second', integrityInterval: '1 second', backupInterval: '2 seconds', backupMaxAge: '1 hour' },
  });
  worker = await startWorkerProcess({ configFile, temporalAddress: s.stack.temporal.address, taskQueue });
});
after(async () => {
  await prometheus?.stop();
  await worker?.stop();
  await s?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const scrape = async () => (await fetch(worker.metricsUrl!)).text();
const line = (text: string, pattern: RegExp) => text.split('\n').find((l) => pattern.test(l));

test('the worker serves one /metrics: our series per METRICS.md and the SDK runtime metrics, accepted by `promtool check metrics`', async () => {
  assert.match(worker.metricsUrl ?? '', /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  const text = await eventually('the first measurements', 20_000, async () => {
    const t = await scrape();
    return /^financial_integrity_check\{/m.test(t) && /^dr_backup_newest_good_age_seconds\{/m.test(t) && /^temporal_/m.test(t) ? t : undefined;
  });
  assert.ok(line(text, /^postgres_up\{environment="local",database="production"\} 1$/), text);
  assert.ok(line(text, /^financial_integrity_check\{environment="local",database="production"\} 1$/), 'the seeded ledger adds up');
  assert.ok(!line(text, /database="audit"/), 'the audit database is not an application database');
  assert.ok(line(text, /^dr_wal_archive_lag_seconds\{environment="local",database="production"\} \d/), 'production archives its WAL');
  assert.ok(line(text, /^dr_rpo_objective_seconds\{environment="local",database="production"\} 900$/));
  const age = Number(line(text, /^dr_backup_newest_good_age_seconds\{/)!.split(' ')[1]);
  assert.ok(age >= 0 && age < 600, `the scenario stack's full backup is minutes old: ${age}`);
  assert.ok(line(text, /^dr_backup_max_age_seconds\{environment="local",database="production"\} 3600$/));
  assert.ok(line(text, /^temporal_worker_task_slots_available\{.*task_queue="metrics-/), 'the SDK runtime metrics of this worker come after ours');
  const checked = promtool(['check', 'metrics'], undefined, text);
  assert.equal(checked.status, 0, checked.output);
});

test('a drill run by this worker leaves its RTO, RPO and verdict on /metrics (recorded by the report activity)', async () => {
  const handle = await startServerFailureDrill(s, taskQueue, 'DRILL-METRICS-1');
  const result = await runbookOutcome(s.client, handle.workflowId);
  assert.equal(result.verdict, 'completed', result.verdictDetail);
  const text = await scrape();
  assert.ok(line(text, /^dr_drill_last_passed\{environment="local",scenario="server-failure"\} 1$/), text);
  assert.equal(Number(line(text, /^dr_runbook_rto_seconds\{environment="local",scenario="server-failure",mode="drill"\}/)!.split(' ')[1]), result.rto.elapsedSeconds);
  assert.ok(line(text, /^dr_runbook_rpo_seconds\{environment="local",scenario="server-failure",mode="drill"\} /));
  assert.ok(!line(text, /^dr_gate_wait_seconds_count\{/), 'the drill policy approved its gate: nobody waited');
});

test('a real Prometheus scraping the worker sees DataCorruptionDetected when a balance stops matching its ledger, then DatabaseConnectionFailure when the production postmaster is killed', async (t) => {
  const target = new URL(worker.metricsUrl!).host;
  prometheus = await startPrometheus({
    stateDir: path.join(tmp, 'prometheus'),
    scrapeTargets: [{ job: 'dr-worker', targets: [target] }],
    ruleFiles: [writeShortForRules(tmp, '2s')],
    scrapeInterval: '1s',
    evaluationInterval: '1s',
  });
  const prom = prometheus;
  const firing = (alertname: string) => async () => (await prom.alerts()).find((a) => a.labels.alertname === alertname && a.state === 'firing');
  await eventually('postgres_up 1 in Prometheus', 20_000, async () => (await prom.query('postgres_up{database="production"} == 1'))[0]);
  assert.deepEqual((await prom.alerts()).filter((a) => a.labels.alertname !== 'NewestGoodBackupTooOld'), [], 'a healthy stack fires nothing');

  const account = await s.production((db) => db.query<{ id: string }>('UPDATE accounts SET balance = balance + 1 WHERE id = (SELECT min(id) FROM accounts) RETURNING id::text')).then((r) => r.rows[0]!.id);
  const corruption = await eventually('DataCorruptionDetected firing', 30_000, firing('DataCorruptionDetected'));
  assert.equal(corruption.labels.database, 'production');
  assert.equal(corruption.labels.runbook, 'database-disaster-recovery.md#scenario-1');
  await s.production((db) => db.query('UPDATE accounts SET balance = balance - 1 WHERE id = $1', [account]));
  await eventually('the integrity check passing again', 30_000, async () => (await prom.query('financial_integrity_check{database="production"} == 1'))[0]);

  const killed = Date.now();
  await s.stack.production.stop('immediate');
  const alert = await eventually('DatabaseConnectionFailure firing', 60_000, firing('DatabaseConnectionFailure'));
  t.diagnostic(`production killed → DatabaseConnectionFailure firing in ${Date.now() - killed} ms`);
  assert.deepEqual(
    { ...alert.labels },
    { alertname: 'DatabaseConnectionFailure', severity: 'critical', runbook: 'database-disaster-recovery.md#scenario-2', environment: 'local', database: 'production', job: 'dr-worker', instance: target },
  );
  const text = await scrape();
  assert.ok(line(text, /^postgres_up\{environment="local",database="production"\} 0$/));
  assert.ok(!line(text, /^financial_integrity_check\{/), 'an integrity check that cannot run drops its series rather than keep the last value');
  assert.equal((await prom.alerts()).find((a) => a.labels.alertname === 'DataCorruptionDetected'), undefined, 'an unreachable database is not corruption');
});
