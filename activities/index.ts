import { createDatabaseHealthActivities, type DatabaseDirectory } from './database-health';
import { createDatabaseProbeActivities } from './database-probe';
import { createAppRuntimeActivities, type DatabaseTargetResolver } from './app-runtime';
import { createDnsActivities } from './dns';
import type { AppRuntime } from './ports/app-runtime';
import type { Dns } from './ports/dns';
import { notConfigured } from './ports/not-configured';
import { createAuditActivities, type AuditActivities } from './audit';
import { createNotificationActivities } from './notifications';
import type { Notifier } from './ports/notifier';
import { createConsoleNotifier } from './adapters/local/console-notifier';
import { createRunbookPlanActivities, type RunbookPlanConfig } from './runbook-plan';
import { createReportActivities } from './reports';

import type { DatabasePlatform } from './ports/database-platform';
import { createPlatformActivities, unconfiguredDatabasePlatform } from './platform-activities';
import type { ObjectStore } from './ports/object-store';
import { createValidationActivities } from './validation';
import { createReplicaLagActivities } from './replica-lag';
import { createMigrationActivities } from './migrations';
import type { MigrationTool } from './ports/migration-tool';
import { createSqlDirectoryMigrationTool } from './adapters/local/sql-directory-migrations';

export interface ActivityDependencies {
  databases: DatabaseDirectory;
  /** Connection targets (with passwords) by config name, for pointing the app at a database. */
  databaseTargets?: DatabaseTargetResolver;
  appRuntime?: AppRuntime;
  dns?: Dns;
  /** Config name of the database holding dr_audit_log (config `audit.database`); no audit activities without it. */
  auditDatabase?: string;
  /** Where runbook notifications go; default: the console. */
  notifier?: Notifier;
  /** The worker config's environment, approvals and objectives; default: the config defaults (no gates). */
  runbookPlan?: RunbookPlanConfig;
  /** The DatabasePlatform adapter the worker wired from config; activities refuse clearly without one. */
  platform?: DatabasePlatform;
  /** Where reports, baselines, diffs and drill evidence go (a directory locally, S3 in the cloud). */
  objectStore?: ObjectStore;
  /** Directory of the application's versioned up/down SQL migrations (config `migrations.directory`). */
  migrationsDirectory?: string;
}

/** Every activity the worker registers, built over the clients the worker wired from config. */
export function createActivities(deps: ActivityDependencies) {
  return {
    ...createDatabaseHealthActivities(deps.databases),
    ...createReplicaLagActivities(deps.databases),
    ...createDatabaseProbeActivities(deps.databases),
    ...createAppRuntimeActivities(deps.appRuntime ?? notConfigured<AppRuntime>('the application runtime', 'app'), deps.databaseTargets ?? ((name) => { throw new Error(`no database targets are wired (asked for ${name})`); })),
    ...createDnsActivities(deps.dns ?? notConfigured<Dns>('DNS', 'dns')),
    // Typed as always present so workflows can call them; a worker without `audit` in its config does not register them.
    ...(deps.auditDatabase ? createAuditActivities(deps.databases.pool(deps.auditDatabase)) : ({} as AuditActivities)),
    ...createNotificationActivities(deps.notifier ?? createConsoleNotifier()),
    ...createRunbookPlanActivities(deps.runbookPlan),
    ...createPlatformActivities(deps.platform ?? unconfiguredDatabasePlatform()),
    ...createValidationActivities(deps.databases, deps.objectStore ?? notConfigured<ObjectStore>('the object store (baselines, diffs)', 'objectStore')),
    ...createReportActivities(deps.objectStore ?? notConfigured<ObjectStore>('the object store (reports)', 'objectStore')),
    ...createMigrationActivities((name) => (deps.migrationsDirectory ? createSqlDirectoryMigrationTool(deps.databases.pool(name), deps.migrationsDirectory) : notConfigured<MigrationTool>('the migration tool', 'migrations.directory'))),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { DatabaseHealth, DatabaseDirectory } from './database-health';
export type { ReplicaLag } from './replica-lag';
export type { DatabaseProbe, NewestCommit } from './database-probe';
export type { DatabaseTargetResolver, PointAppAtDatabaseInput, WaitUntilAppHealthyInput } from './app-runtime';
export type { AppHealth, PointAppResult, RestartResult } from './ports/app-runtime';
export type { DnsRecord, DnsSwitch } from './ports/dns';
export type { AuditEntry, AuditChainVerdict, AuditProblem } from './audit';
export type { Notifier } from './ports/notifier';
export type { PlatformActivities } from './platform-activities';
export type { ValidationGateResult, BaselineSummary, TableDiffSummary, RepairResult, Reconciliation } from './validation';
export type { ObjectStore } from './ports/object-store';
export type { PublishRunbookReportInput, ReportExtras, RunbookReportJson, ValidationLine } from './reports';
export type {
  BackupSet, BackupType, BackupVerification, InstanceDescription, InstanceId, PointInTimeRestoreResult, RecoveryPoint, RecoveryTarget, RestorePoint, RestoreResult,
} from './ports/database-platform';
