import { createAppRuntimeActivities } from './app-runtime';
import { createAuditActivities, type AuditActivities } from './audit';
import type { DatabaseConnections } from './database-connections';
import { createDatabaseHealthActivities } from './database-health';
import { createDatabaseProbeActivities } from './database-probe';
import { createDnsActivities } from './dns';
import { createMigrationActivities, type MigrationToolDirectory } from './migrations';
import { createNotificationActivities } from './notifications';
import { createPlatformActivities } from './platform-activities';
import type { AppRuntime } from './ports/app-runtime';
import type { DatabasePlatform } from './ports/database-platform';
import type { Dns } from './ports/dns';
import { notConfigured, notConfiguredDatabasePlatform } from './ports/not-configured';
import type { Notifier } from './ports/notifier';
import type { ObjectStore } from './ports/object-store';
import type { SecretStore } from './ports/secret-store';
import { createReplicaLagActivities } from './replica-lag';
import { createReportActivities } from './reports';
import { createSecretRotationActivities } from './secret-rotation';
import { createRunbookPlanActivities, type RunbookPlanConfig } from './runbook-plan';
import { createValidationActivities } from './validation';

/**
 * What the activities are built over: the ports (adapters the worker's wiring point chose, worker/adapters.ts)
 * and the worker's database connections. Nothing here builds an adapter; a port left out stands in as
 * "not configured" and refuses, naming the config key to add, so every activity is still registered.
 */
export interface ActivityPorts {
  databases: DatabaseConnections;
  databasePlatform?: DatabasePlatform;
  objectStore?: ObjectStore;
  appRuntime?: AppRuntime;
  dns?: Dns;
  secrets?: SecretStore;
  notifier?: Notifier;
  /** The application's migrations, by database name. */
  migrations?: MigrationToolDirectory;
  /** The secret the application's database connection is written to when it is pointed at a database. */
  appConnectionSecret?: string;
  /** The PostgreSQL role the application signs in as: every cutover gives it a new password (config `app.databaseRole`). */
  applicationRole?: string;
  /** Config name of the database holding dr_audit_log (config `audit.database`); no audit activities without it. */
  auditDatabase?: string;
  /** The worker config's environment, approvals and objectives. */
  runbookPlan?: RunbookPlanConfig;
}

/** Every activity the worker registers, built over the ports the worker wired from config. */
export function createActivities(ports: ActivityPorts) {
  const { databases } = ports;
  const objectStore = ports.objectStore ?? notConfigured<ObjectStore>('the object store (reports, baselines, diffs)', 'objectStore');
  const appWiring = {
    runtime: ports.appRuntime ?? notConfigured<AppRuntime>('the application runtime', 'app'),
    databases: (name: string) => databases.connection(name),
    secrets: ports.secrets ?? notConfigured<SecretStore>('the secret store', 'secretsDir'),
    connectionSecret: ports.appConnectionSecret ?? 'app-database-connection',
  };
  return {
    ...createDatabaseHealthActivities(databases),
    ...createReplicaLagActivities(databases),
    ...createDatabaseProbeActivities(databases),
    ...createAppRuntimeActivities(appWiring),
    ...createSecretRotationActivities({ ...appWiring, applicationRole: ports.applicationRole }),
    ...createDnsActivities(ports.dns ?? notConfigured<Dns>('DNS', 'dns')),
    // Typed as always present so workflows can call them; a worker without `audit` in its config does not register them.
    ...(ports.auditDatabase ? createAuditActivities(databases.pool(ports.auditDatabase)) : ({} as AuditActivities)),
    ...createNotificationActivities(ports.notifier ?? notConfigured<Notifier>('notifications', 'notifiers')),
    ...createRunbookPlanActivities(ports.runbookPlan),
    ...createPlatformActivities(ports.databasePlatform ?? notConfiguredDatabasePlatform()),
    ...createValidationActivities(databases, objectStore),
    ...createReportActivities(objectStore),
    ...createMigrationActivities(ports.migrations ?? (() => notConfigured('the migration tool', 'migrations.directory'))),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { DatabaseHealth } from './database-health';
export type { DatabaseConnection, DatabaseConnections, DatabaseDirectory } from './database-connections';
export type { ReplicaLagMeasurement } from './replica-lag';
export type { DatabaseProbe, NewestCommit } from './database-probe';
export type { DatabaseTargetResolver, PointAppAtDatabaseInput, WaitUntilAppHealthyInput } from './app-runtime';
export type { AppHealth, AppHealthCheck, AppRuntimeNames, PointAppResult, RestartResult, RolloutStatus } from './ports/app-runtime';
export type { CredentialRevocation, CredentialRotation } from './secret-rotation';
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
