import { createAppCacheActivities } from './app-cache';
import { createAppRuntimeActivities } from './app-runtime';
import { createCacheActivities } from './cache-activities';
import { createFileActivities } from './file-activities';
import { createPerformanceActivities } from './performance';
import { createReadinessActivities } from './readiness';
import { createStackReadinessActivities, type StackReadinessWiring } from './readiness/stack-readiness';
import type { CachePlatform } from './ports/cache-platform';
import type { FileBackup } from './ports/file-backup';
import { createAuditActivities, type AuditActivities, type AuditHeadOptions } from './audit';
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
import { noOperationsMetrics, type OperationsMetrics } from './ports/operations-metrics';
import type { SecretStore } from './ports/secret-store';
import type { BackupValidationResult } from './monitoring';
import { createReplicaLagActivities } from './replica-lag';
import { createReportActivities } from './reports';
import { createSecretRotationActivities } from './secret-rotation';
import { createRunbookPlanActivities, type RunbookPlanConfig } from './runbook-plan';
import { createRunbookTargetActivities, type ConfiguredDatabase } from './runbook-targets';
import { createValidationActivities, type ApplicationDeclaration } from './validation';
import { createUsedCodes, type UsedCodes } from './vote-codes';
import { createVoteProofActivities, defaultTotpSecretName } from './vote-proofs';

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
  /** Where each trail's signed head is published, and the key it is signed with (config audit.headSigning). */
  auditHeads?: AuditHeadOptions;
  /** The worker config's environment, approvals and objectives. */
  runbookPlan?: RunbookPlanConfig;
  /** Where finished runs' measurements go (the worker's /metrics); none configured records nothing. */
  metrics?: OperationsMetrics;
  /**
   * Tells the worker's monitoring how a backup's restore test went (backup_validation_success, and a
   * failed backup set is never the newest good one): backupWithBaseline calls it. A no-op without monitoring.
   */
  recordBackupValidation?: (database: string, result: BackupValidationResult) => void;
  /** What the stack-wide readiness check covers (worker/readiness-plan.ts); none: it checks the object store and the drill schedules only. */
  stackReadiness?: Omit<StackReadinessWiring, 'connections' | 'platform' | 'objectStore' | 'secrets' | 'metrics'>;
  /** Seed 002's Redis and its application settings (config `cache`). */
  cachePlatform?: CachePlatform;
  cache?: { sessions: { pattern: string; db: number }; connectionSecret: string };
  /** Seed 002's file archives (config `files`). */
  fileBackup?: FileBackup;
  /** Where restores write on this machine, for the readiness check. */
  storageLocations?: Array<{ name: string; path: string }>;
  /** The worker config's databases (where each is), so an input naming the audit database under another name is refused too. */
  configuredDatabases?: Record<string, ConfiguredDatabase>;
  /** How votes are proven: the allowed-signers file, where TOTP secrets are, the clock skew allowed. */
  votes?: { allowedSignersFile?: string; totpSecrets?: Record<string, string>; maxClockSkewMs?: number; usedCodes?: UsedCodes };
  /** The application's declaration to the validation gate (config `application`). */
  application?: ApplicationDeclaration;
}

/** Every activity the worker registers, built over the ports the worker wired from config. */
export function createActivities(ports: ActivityPorts) {
  const { databases } = ports;
  const objectStore = ports.objectStore ?? notConfigured<ObjectStore>('the object store (reports, baselines, diffs)', 'objectStore');
  const secrets = ports.secrets ?? notConfigured<SecretStore>('the secret store', 'secretsDir');
  const appWiring = {
    runtime: ports.appRuntime ?? notConfigured<AppRuntime>('the application runtime', 'app'),
    databases: (name: string) => databases.connection(name),
    secrets,
    connectionSecret: ports.appConnectionSecret ?? 'app-database-connection',
  };
  const cache = ports.cachePlatform ?? notConfigured<CachePlatform>('the cache platform', 'cache.local');
  const fileBackup = ports.fileBackup ?? notConfigured<FileBackup>('the file backups', 'files');
  const cacheSettings = ports.cache ?? { sessions: { pattern: 'session:*', db: 0 }, connectionSecret: 'app-cache-connection' };
  const systems = ports.runbookPlan?.objectives.systems;
  const databasePlatform = ports.databasePlatform ?? notConfiguredDatabasePlatform();
  const migrations: MigrationToolDirectory = ports.migrations ?? (async () => notConfigured<never>('the migration tool', 'migrations.directory'));
  const votes = ports.votes ?? {};
  return {
    ...createDatabaseHealthActivities(databases),
    ...createReplicaLagActivities(databases),
    ...createDatabaseProbeActivities(databases),
    ...createAppRuntimeActivities(appWiring),
    ...createSecretRotationActivities({ ...appWiring, applicationRole: ports.applicationRole }),
    ...createDnsActivities(ports.dns ?? notConfigured<Dns>('DNS', 'dns')),
    // Typed as always present so workflows can call them; a worker without `audit` in its config does not register them.
    ...(ports.auditDatabase ? createAuditActivities(databases.pool(ports.auditDatabase), { heads: ports.auditHeads, ...(ports.metrics ? { metrics: ports.metrics } : {}) }) : ({} as AuditActivities)),
    ...createNotificationActivities(ports.notifier ?? notConfigured<Notifier>('notifications', 'notifiers')),
    ...createRunbookPlanActivities(ports.runbookPlan),
    ...createRunbookTargetActivities({
      databases: ports.configuredDatabases ?? {},
      controlDatabases: ports.auditDatabase ? [ports.auditDatabase] : [],
      platform: databasePlatform,
      pool: (name) => databases.pool(name),
      migrations,
    }),
    ...createVoteProofActivities({
      allowedSignersFile: votes.allowedSignersFile,
      secrets,
      totpSecretName: (approver) => votes.totpSecrets?.[approver] ?? defaultTotpSecretName(approver),
      usedCodes: votes.usedCodes ?? (ports.auditDatabase ? createUsedCodes(databases.pool(ports.auditDatabase)) : undefined),
      maxClockSkewMs: votes.maxClockSkewMs ?? 5 * 60_000,
    }),
    ...createPlatformActivities(databasePlatform),
    ...createValidationActivities(databases, objectStore, { application: ports.application, recordBackupValidation: ports.recordBackupValidation }),
    ...createReportActivities(objectStore, ports.metrics),
    ...createMigrationActivities(migrations),
    ...createCacheActivities({ cache, sessions: cacheSettings.sessions }),
    ...createFileActivities({ files: fileBackup }),
    ...createAppCacheActivities({ runtime: appWiring.runtime, cache, secrets, connectionSecret: cacheSettings.connectionSecret }),
    ...createPerformanceActivities({ databases, cache, objectStore }),
    ...createReadinessActivities({
      databasePlatform,
      cachePlatform: cache,
      fileBackup,
      objectStore,
      secrets,
      databases,
      rpo: { database: systems?.database.rpo ?? '15 minutes', cache: systems?.cache.rpo ?? '1 hour', files: systems?.files.rpo ?? '1 hour' },
      storageLocations: ports.storageLocations ?? [],
    }),
    ...createStackReadinessActivities({
      environment: 'unknown', databases: [], backupMaxAgeSeconds: 0, rpoSeconds: 0, secretNames: [], gates: [], totpSecretName: defaultTotpSecretName,
      ...ports.stackReadiness,
      connections: databases,
      platform: databasePlatform,
      objectStore,
      secrets,
      metrics: ports.metrics ?? noOperationsMetrics,
    }),
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
export type { AuditEntry, AuditChainVerdict, AuditProblem, AuditTrailVerdict } from './audit';
export type { Notifier } from './ports/notifier';
export type { PlatformActivities } from './platform-activities';
export type { ValidationGateResult, BaselineSummary, BaselineLookup, TableDiffSummary, RepairResult, Reconciliation, RestoreTestResult } from './validation';
export type { ObjectStore } from './ports/object-store';
export type { OperationsMetrics, RunbookMeasurements } from './ports/operations-metrics';
export type { BackupValidationResult } from './monitoring';
export type { PublishRunbookReportInput, ReportExtras, RunbookReportJson, ValidationLine } from './reports';
export type { CacheBackupSummary, CacheVerificationSummary } from './cache-activities';
export type { FileBackupSummary, StagedRestoreSummary } from './file-activities';
export type { ApplicationChecks } from './app-cache';
export type { PerformanceComparison, PerformanceFigures } from './performance';
export type { BackupGeneration, Readiness, ReadinessCheck } from './readiness';
export type { CacheInstanceDescription, SessionRestoreResult } from './ports/cache-platform';
export type { MovedRestore, RestoreFinish } from './ports/file-backup';
export type {
  BackupSet, BackupType, BackupVerification, InstanceDescription, InstanceId, PointInTimeRestoreResult, RecoveryPoint, RecoveryTarget, RestorePoint, RestoreResult,
} from './ports/database-platform';
