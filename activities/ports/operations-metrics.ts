/**
 * OperationsMetrics port: what the worker measures about its databases, backups and runbooks, for a
 * monitoring system to alert on. config/alerts/METRICS.md is the contract (names, types, labels) and the
 * alert rules read it. Adapters: prometheus (the worker's /metrics endpoint); none configured records
 * nothing. Every argument is a name from the worker config or a fixed set: never an id, a row, an
 * amount, a customer or a secret. `undefined` means "could not be measured now": the series goes away
 * rather than keep a stale value (an absent series never alerts, a stale one lies).
 */

import type { StackReadiness } from '../../contracts/stack-readiness';

/** `incident` is a real run (mode "real" in the runbook input). */
export type RunMode = 'drill' | 'incident';

export interface GateWait {
  gate: string;
  decision: 'approved' | 'rejected' | 'timed-out';
  seconds: number;
}

/** What one finished runbook run measured (see runbookMeasurements). */
export interface RunbookMeasurements {
  scenario: string;
  mode: RunMode;
  /** Set only for a run that verified its cutover: its RTO, and its RPO when it measured one. */
  recovery?: { rtoSeconds: number; rpoSeconds?: number };
  /** Drills only: completed with RTO and RPO within their objectives. */
  drillPassed?: boolean;
  /** Gates people decided (or that timed out); drill-policy approvals wait for nobody and are left out. */
  gateWaits: GateWait[];
}

export interface OperationsMetrics {
  /** postgres_up: the probe reached the database (SELECT 1 within its timeout). */
  databaseUp(database: string, up: boolean): void;
  /** financial_integrity_check: the live integrity checks passed (true), found a violation (false), could not run (undefined). */
  financialIntegrity(database: string, passed: boolean | undefined): void;
  /** backup_validation_success: the newest backup's restore test passed or failed. */
  backupValidation(database: string, passed: boolean): void;
  /** dr_backup_newest_good_age_seconds (from stoppedAt, at scrape time; +Inf without one) beside its objective dr_backup_max_age_seconds. */
  newestGoodBackup(database: string, measured: { stoppedAt?: string; maxAgeSeconds: number } | undefined): void;
  /** dr_wal_archive_lag_seconds beside dr_rpo_objective_seconds. */
  walArchiveLag(database: string, measured: { lagSeconds: number; rpoObjectiveSeconds: number } | undefined): void;
  /** dr_replica_lag_seconds of one replica (its platform instance name) of the database. */
  replicaLag(database: string, replica: string, lagSeconds: number | undefined): void;
  /** The run's RTO, RPO, drill verdict and gate waits; recorded once per workflow id (a retried report does not count twice). */
  runbookMeasured(workflowId: string, measured: RunbookMeasurements): void;
  /** dr_readiness_check_ok per check (all its lines passed), dr_readiness_ok and when the run finished. */
  readinessChecked(readiness: StackReadiness): void;
  /** dr_audit_verification_ok: the last verification of every audit trail passed. */
  auditVerified(ok: boolean): void;
}

/** Metrics not configured: nothing is recorded, nothing refuses (a worker without monitoring still recovers). */
export const noOperationsMetrics: OperationsMetrics = {
  databaseUp() {},
  financialIntegrity() {},
  backupValidation() {},
  newestGoodBackup() {},
  walArchiveLag() {},
  replicaLag() {},
  runbookMeasured() {},
  readinessChecked() {},
  auditVerified() {},
};
