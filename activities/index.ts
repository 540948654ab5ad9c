import { createDatabaseHealthActivities, type DatabaseDirectory } from './database-health';
import { createDatabaseProbeActivities } from './database-probe';
import { createAppRuntimeActivities, type DatabaseTargetResolver } from './app-runtime';
import { createDnsActivities } from './dns';
import type { AppRuntime } from './platform/app-runtime';
import type { Dns } from './platform/dns';
import { notConfigured } from './platform/not-configured';
import { createAuditActivities, type AuditActivities } from './audit';
import { createNotificationActivities } from './notifications';
import type { Notifier } from './platform/notifier';
import { createConsoleNotifier } from './platform/local/console-notifier';
import { createRunbookPlanActivities, defaultRunbookPlanConfig, type RunbookPlanConfig } from './runbook-plan';

import type { DatabasePlatform } from './platform/database-platform';
import { createPlatformActivities, unconfiguredDatabasePlatform } from './platform-activities';
import type { ObjectStore } from './platform/object-store';
import { createValidationActivities } from './validation';

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
  /** Where baselines and diffs are kept; the validation activities that store something fail with a clear line without it. */
  objectStore?: ObjectStore;
}

/** Every activity the worker registers, built over the clients the worker wired from config. */
export function createActivities(deps: ActivityDependencies) {
  return {
    ...createDatabaseHealthActivities(deps.databases),
    ...createDatabaseProbeActivities(deps.databases),
    ...createAppRuntimeActivities(deps.appRuntime ?? notConfigured<AppRuntime>('the application runtime', 'app'), deps.databaseTargets ?? ((name) => { throw new Error(`no database targets are wired (asked for ${name})`); })),
    ...createDnsActivities(deps.dns ?? notConfigured<Dns>('DNS', 'dns')),
    // Typed as always present so workflows can call them; a worker without `audit` in its config does not register them.
    ...(deps.auditDatabase ? createAuditActivities(deps.databases.pool(deps.auditDatabase)) : ({} as AuditActivities)),
    ...createNotificationActivities(deps.notifier ?? createConsoleNotifier()),
    ...createRunbookPlanActivities(deps.runbookPlan ?? defaultRunbookPlanConfig()),
    ...createPlatformActivities(deps.platform ?? unconfiguredDatabasePlatform()),
    ...createValidationActivities(deps.databases, deps.objectStore ?? notConfigured<ObjectStore>('the ObjectStore (baselines, diffs)', 'objectStore')),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { DatabaseHealth, DatabaseDirectory } from './database-health';
export type { DatabaseProbe, NewestCommit } from './database-probe';
export type { DatabaseTargetResolver, PointAppAtDatabaseInput, WaitUntilAppHealthyInput } from './app-runtime';
export type { AppHealth, PointAppResult, RestartResult } from './platform/app-runtime';
export type { DnsRecord, DnsSwitch } from './platform/dns';
export type { AuditEntry, AuditChainVerdict, AuditProblem } from './audit';
export type { Notification, Notifier } from './platform/notifier';
export type { GatePlan, EscalationTier, RunbookPlan } from './runbook-plan';
export type { PlatformActivities } from './platform-activities';
export type { ValidationGateResult, BaselineSummary, TableDiffSummary, RepairResult, Reconciliation } from './validation';
