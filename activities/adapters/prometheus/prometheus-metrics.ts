import { Gauge, Histogram, Registry } from 'prom-client';
import type { OperationsMetrics } from '../../ports/operations-metrics';

/**
 * The OperationsMetrics port in Prometheus's text exposition format, exactly as config/alerts/METRICS.md
 * names, types and labels each series (prom-client does the format: escaping, +Inf, histograms). The
 * worker's /metrics serves `exposition()` followed by the SDK's runtime metrics (worker/metrics.ts).
 * prom-client's default Node metrics are left out: three of them (nodejs_active_*_total) are gauges
 * with a counter's suffix, which `promtool check metrics` refuses, and the SDK's metrics already say
 * how the worker is doing.
 */
export interface PrometheusMetrics extends OperationsMetrics {
  readonly contentType: string;
  /** The whole exposition, as /metrics serves it. */
  exposition(): Promise<string>;
}

/** METRICS.md: gate waits from a minute to four hours, around the escalation ladder (15 / 30 / 60 min). */
export const gateWaitBuckets = [60, 300, 900, 1800, 3600, 7200, 14400];

/** Workflow ids remembered so a retried report does not observe its gates twice. */
const rememberedRuns = 5_000;

export function createPrometheusMetrics(options: { environment: string; now?: () => number }): PrometheusMetrics {
  const { environment } = options;
  const now = options.now ?? Date.now;
  const registry = new Registry();
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[], collect?: (this: Gauge<L | 'environment'>) => void) =>
    new Gauge<L | 'environment'>({ name, help, labelNames: ['environment', ...labelNames], registers: [registry], ...(collect ? { collect } : {}) });

  const postgresUp = gauge('postgres_up', 'Whether the worker\'s probe connected and ran SELECT 1 within its timeout (1) or not (0).', ['database']);
  const integrity = gauge('financial_integrity_check', 'Whether the live integrity checks pass: the seed\'s query answers, no orphaned records, every foreign key validated and enforced, every balance equals its ledger (1), or one fails (0).', ['database']);
  const backupValidation = gauge('backup_validation_success', 'Whether the newest backup\'s restore test passed (1) or failed (0).', ['database']);
  const newestGood = new Map<string, string | undefined>();
  gauge('dr_backup_newest_good_age_seconds', 'Seconds since the end of the newest good backup set; +Inf when there is none.', ['database'], function collect() {
    this.reset();
    for (const [database, stoppedAt] of newestGood) {
      const age = stoppedAt === undefined ? Number.POSITIVE_INFINITY : Math.max(0, (now() - Date.parse(stoppedAt)) / 1000);
      this.set({ environment, database }, age);
    }
  });
  const backupMaxAge = gauge('dr_backup_max_age_seconds', 'The objective for the newest good backup\'s age (the RPO unless configured otherwise).', ['database']);
  const walLag = gauge('dr_wal_archive_lag_seconds', 'How long the oldest completed WAL segment has waited for the archive; 0 when none waits.', ['database']);
  const rpoObjective = gauge('dr_rpo_objective_seconds', 'The RPO the database is held to.', ['database']);
  const replicaLag = gauge('dr_replica_lag_seconds', 'How far the replica\'s replay is behind its primary; 0 when it has replayed everything.', ['database', 'replica']);
  const drillPassed = gauge('dr_drill_last_passed', 'Whether the last drill of the scenario passed (1) or failed (0).', ['scenario']);
  const rto = gauge('dr_runbook_rto_seconds', 'RTO achieved by the last run that verified its cutover.', ['scenario', 'mode']);
  const rpo = gauge('dr_runbook_rpo_seconds', 'RPO achieved by that run: seconds of writes lost.', ['scenario', 'mode']);
  const gateWait = new Histogram({
    name: 'dr_gate_wait_seconds',
    help: 'How long an approval gate waited for its decision.',
    labelNames: ['environment', 'scenario', 'gate', 'mode', 'decision'],
    buckets: gateWaitBuckets,
    registers: [registry],
  });
  const readinessCheck = gauge('dr_readiness_check_ok', 'Whether every line of one readiness check passed in the last run (1) or one failed (0).', ['check']);
  const readinessOk = gauge('dr_readiness_ok', 'Whether every readiness check of the last run passed.', []);
  const readinessRun = gauge('dr_readiness_last_run_timestamp_seconds', 'When the last readiness run finished (Unix time).', []);
  const auditVerification = gauge('dr_audit_verification_ok', 'Whether the last verification of every audit trail\'s hash chain and signed head passed (1) or a trail failed (0).', []);
  const recorded = new Set<string>();

  /** Sets the series, or removes it when nothing could be measured. */
  const setOrRemove = <L extends string>(metric: Gauge<L>, labels: Record<L, string>, value: number | undefined) => {
    if (value === undefined) metric.remove(labels);
    else metric.set(labels, value);
  };
  const state = (ok: boolean) => (ok ? 1 : 0);

  return {
    contentType: registry.contentType,
    exposition: () => registry.metrics(),
    databaseUp(database, up) {
      postgresUp.set({ environment, database }, state(up));
    },
    financialIntegrity(database, passed) {
      setOrRemove(integrity, { environment, database }, passed === undefined ? undefined : state(passed));
    },
    backupValidation(database, passed) {
      backupValidation.set({ environment, database }, state(passed));
    },
    newestGoodBackup(database, measured) {
      if (!measured) {
        newestGood.delete(database);
        backupMaxAge.remove({ environment, database });
        return;
      }
      newestGood.set(database, measured.stoppedAt);
      backupMaxAge.set({ environment, database }, measured.maxAgeSeconds);
    },
    walArchiveLag(database, measured) {
      setOrRemove(walLag, { environment, database }, measured?.lagSeconds);
      setOrRemove(rpoObjective, { environment, database }, measured?.rpoObjectiveSeconds);
    },
    replicaLag(database, replica, lagSeconds) {
      setOrRemove(replicaLag, { environment, database, replica }, lagSeconds);
    },
    runbookMeasured(workflowId, measured) {
      if (recorded.has(workflowId)) return;
      recorded.add(workflowId);
      if (recorded.size > rememberedRuns) recorded.delete(recorded.values().next().value as string);
      const { scenario, mode } = measured;
      if (measured.drillPassed !== undefined) drillPassed.set({ environment, scenario }, state(measured.drillPassed));
      if (measured.recovery) {
        rto.set({ environment, scenario, mode }, measured.recovery.rtoSeconds);
        setOrRemove(rpo, { environment, scenario, mode }, measured.recovery.rpoSeconds);
      }
      for (const wait of measured.gateWaits) gateWait.observe({ environment, scenario, gate: wait.gate, mode, decision: wait.decision }, wait.seconds);
    },
    auditVerified(ok) {
      auditVerification.set({ environment }, state(ok));
    },
    readinessChecked(readiness) {
      // A check with no line this run (not configured any more) is not exported.
      readinessCheck.reset();
      const byCheck = new Map<string, boolean>();
      for (const line of readiness.lines) byCheck.set(line.check, (byCheck.get(line.check) ?? true) && line.passed);
      for (const [check, ok] of byCheck) readinessCheck.set({ environment, check }, state(ok));
      readinessOk.set({ environment }, state(readiness.ready));
      readinessRun.set({ environment }, Date.parse(readiness.checkedAt) / 1000);
    },
  };
}
