// The local PostgreSQL family's public face: the DatabasePlatform adapter, and what the embedded
// environment (stack/) needs to build the clusters it stands on.
export { createLocalDatabasePlatform, enrolPrimaryInstance, pgBackRestSetupOf, prepareStanzaPrimary, stopPlatformInstances, type LocalPlatformOptions } from './local-database-platform';
export { clusterHandle, removeClusterDir, startPostgresCluster, stopClusterIfRunning, superuser, type PostgresCluster, type PostgresClusterOptions } from './cluster';
export { InstanceRegistry, type InstanceRecord } from './instance-registry';
