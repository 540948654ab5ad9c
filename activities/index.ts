import { createDatabaseHealthActivities, type DatabaseDirectory } from './database-health';
import type { ObjectStore } from './platform/object-store';
import { createValidationActivities } from './validation';

export interface ActivityDependencies {
  databases: DatabaseDirectory;
  /** Where baselines and diffs are kept; validation activities that store something fail clearly without it. */
  objectStore?: ObjectStore;
}

/** Every activity the worker registers, built over the clients the worker wired from config. */
export function createActivities(deps: ActivityDependencies) {
  return {
    ...createDatabaseHealthActivities(deps.databases),
    ...createValidationActivities(deps.databases, deps.objectStore),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { DatabaseHealth, DatabaseDirectory } from './database-health';
export type { ValidationGateResult, BaselineSummary, TableDiffSummary, RepairResult, Reconciliation } from './validation';
