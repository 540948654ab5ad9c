import { createDatabaseHealthActivities, type DatabaseDirectory } from './database-health';
import { createNotificationActivities } from './notifications';
import type { Notifier } from './platform/notifier';
import { createRunbookPlanActivities, type RunbookPlanConfig } from './runbook-plan';

export interface ActivityDependencies {
  databases: DatabaseDirectory;
  notifier: Notifier;
  /** The worker config's environment, approvals and objectives. */
  runbookPlan: RunbookPlanConfig;
}

/** Every activity the worker registers, built over the clients the worker wired from config. */
export function createActivities(deps: ActivityDependencies) {
  return {
    ...createDatabaseHealthActivities(deps.databases),
    ...createNotificationActivities(deps.notifier),
    ...createRunbookPlanActivities(deps.runbookPlan),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { DatabaseHealth, DatabaseDirectory } from './database-health';
export type { AuditActivities, AuditEntry } from './audit-port';
export type { Notification, Notifier } from './platform/notifier';
export type { GatePlan, EscalationTier, RunbookPlan } from './runbook-plan';
