import { PlatformRequestError, type DatabasePlatform } from './database-platform';

/**
 * Stands in for an adapter the worker config does not set up: the activity is still registered (so
 * the workflow's types and the worker agree) and fails with a line saying which config key to add.
 */
export function notConfigured<T extends object>(what: string, configKey: string): T {
  return new Proxy({} as T, {
    get: (_target, property) => {
      if (property === 'then') return undefined; // not a thenable
      return () => Promise.reject(new Error(`${what} is not configured: add \`${configKey}\` to the worker config (${String(property)} was called)`));
    },
  });
}

/** The DatabasePlatform stand-in: every call says what to configure, as a refusal (non-retryable). */
export function notConfiguredDatabasePlatform(): DatabasePlatform {
  const refuse = (): never => {
    throw new PlatformRequestError('no database platform is configured: add `platform.local` (stateDir, stanza) to the worker config');
  };
  return {
    describeInstance: async () => refuse(),
    listBackups: async () => refuse(),
    takeBackup: async () => refuse(),
    createRestorePoint: async () => refuse(),
    verifyBackups: async () => refuse(),
    restoreBackupToNewInstance: async () => refuse(),
    restoreToPointInTime: async () => refuse(),
    createReplica: async () => refuse(),
    promoteReplica: async () => refuse(),
    deleteInstance: async () => refuse(),
    waitUntilAvailable: async () => refuse(),
    connectionFor: async () => undefined,
  };
}
