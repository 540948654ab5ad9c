import { createDatabaseHealthActivities, type DatabaseDirectory } from './database-health';

export interface ActivityDependencies {
  databases: DatabaseDirectory;
}

/** Every activity the worker registers, built over the clients the worker wired from config. */
export function createActivities(deps: ActivityDependencies) {
  return {
    ...createDatabaseHealthActivities(deps.databases),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { DatabaseHealth, DatabaseDirectory } from './database-health';
