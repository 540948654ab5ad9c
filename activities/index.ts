import { createDatabaseHealthActivities, type DatabaseDirectory } from './database-health';
import { createAuditActivities, type AuditActivities } from './audit';

export interface ActivityDependencies {
  databases: DatabaseDirectory;
  /** Config name of the database holding dr_audit_log (config `audit.database`); no audit activities without it. */
  auditDatabase?: string;
}

/** Every activity the worker registers, built over the clients the worker wired from config. */
export function createActivities(deps: ActivityDependencies) {
  return {
    ...createDatabaseHealthActivities(deps.databases),
    // Typed as always present so workflows can call them; a worker without `audit` in its config does not register them.
    ...(deps.auditDatabase ? createAuditActivities(deps.databases.pool(deps.auditDatabase)) : ({} as AuditActivities)),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { DatabaseHealth, DatabaseDirectory } from './database-health';
export type { AuditEntry, AuditChainVerdict, AuditProblem } from './audit';
