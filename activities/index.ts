import { createDatabaseHealthActivities, type DatabaseDirectory } from './database-health';
import type { DatabasePlatform } from './platform/database-platform';
import { createPlatformActivities, unconfiguredDatabasePlatform } from './platform-activities';

export interface ActivityDependencies {
  databases: DatabaseDirectory;
  /** The DatabasePlatform adapter the worker wired from config; activities refuse clearly without one. */
  platform?: DatabasePlatform;
}

/** Every activity the worker registers, built over the clients the worker wired from config. */
export function createActivities(deps: ActivityDependencies) {
  return {
    ...createDatabaseHealthActivities(deps.databases),
    ...createPlatformActivities(deps.platform ?? unconfiguredDatabasePlatform()),
  };
}

export type Activities = ReturnType<typeof createActivities>;
export type { DatabaseHealth, DatabaseDirectory } from './database-health';
export type { PlatformActivities } from './platform-activities';
