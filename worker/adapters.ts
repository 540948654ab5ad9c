import type { Pool } from 'pg';
import type { KubeConfig } from '@kubernetes/client-node';
import { createKubernetesAppRuntime, createKubernetesSecretStore, kubeConfigFor } from '../activities/adapters/kubernetes';
import { createConsoleNotifier } from '../activities/adapters/local/console-notifier';
import { createDirectoryObjectStore } from '../activities/adapters/local/directory-object-store';
import { createLocalAppRuntime } from '../activities/adapters/local/local-app-runtime';
import { createMappingFileDns } from '../activities/adapters/local/mapping-file-dns';
import { createLocalDatabasePlatform } from '../activities/adapters/local/postgres';
import { createSecretsDirectory } from '../activities/adapters/local/secrets-directory';
import { createSqlDirectoryMigrationTool } from '../activities/adapters/local/sql-directory-migrations';
import type { AppRuntime } from '../activities/ports/app-runtime';
import type { DatabasePlatform } from '../activities/ports/database-platform';
import type { Dns } from '../activities/ports/dns';
import type { MigrationTool } from '../activities/ports/migration-tool';
import { notConfigured, notConfiguredDatabasePlatform } from '../activities/ports/not-configured';
import { fanOutNotifier, type Notifier } from '../activities/ports/notifier';
import type { ObjectStore } from '../activities/ports/object-store';
import type { SecretStore } from '../activities/ports/secret-store';
import type { NotifierConfig, WorkerConfig } from './config';

/** One adapter per port, as the worker config chose them. */
export interface Adapters {
  databasePlatform: DatabasePlatform;
  objectStore: ObjectStore;
  appRuntime: AppRuntime;
  dns: Dns;
  secrets: SecretStore;
  notifier: Notifier;
  /** The application's migrations on one database (through the worker's pool on it). */
  migrationTool(database: Pool): MigrationTool;
}

/** Where the runbooks write the application's database connection when they point it at a database. */
export const defaultAppConnectionSecret = 'app-database-connection';

/**
 * THE place that reads the worker config and picks one adapter family per port: the embedded default
 * (`local`), or `kubernetes` (the application's Deployment and Secret, a SecretStore in Secrets); a
 * family is one folder under activities/adapters/ and one case per port here. A port the config does not
 * set up gets a stand-in that refuses with the config key to add, so the worker still registers every
 * activity the workflows call.
 */
export function createAdapters(config: WorkerConfig): Adapters {
  const clusters = kubernetesClusters(config);
  const secrets = secretStoreFor(config, clusters);
  return {
    secrets,
    databasePlatform: databasePlatformFor(config),
    objectStore: config.objectStore ? createDirectoryObjectStore(config.objectStore.directory) : notConfigured<ObjectStore>('the object store (reports, baselines, diffs)', 'objectStore'),
    appRuntime: appRuntimeFor(config, secrets, clusters),
    dns: config.dns ? createMappingFileDns({ mappingFile: config.dns.mappingFile, defaultTtlSeconds: config.dns.defaultTtlSeconds }) : notConfigured<Dns>('DNS', 'dns'),
    notifier: notifierFor(config.notifiers),
    migrationTool: (pool) => (config.migrations ? createSqlDirectoryMigrationTool(pool, config.migrations.directory) : notConfigured<MigrationTool>('the migration tool', 'migrations.directory')),
  };
}

function databasePlatformFor(config: WorkerConfig): DatabasePlatform {
  const local = config.platform?.local;
  if (local) return createLocalDatabasePlatform({ ...local, recoveryTimeoutMs: local.recoveryTimeoutSeconds * 1000 });
  return notConfiguredDatabasePlatform();
}

/** One client configuration per configured cluster, made when first asked for (a bad kubeconfig fails naming its key). */
function kubernetesClusters(config: WorkerConfig): (name: string) => KubeConfig {
  const made = new Map<string, KubeConfig>();
  return (name) => {
    const access = config.kubernetes?.clusters[name];
    if (!access) throw new Error(`"${name}" is not in kubernetes.clusters (known: ${Object.keys(config.kubernetes?.clusters ?? {}).join(', ') || 'none'})`);
    if (!made.has(name)) made.set(name, kubeConfigFor({ name, ...access }));
    return made.get(name)!;
  };
}

function secretStoreFor(config: WorkerConfig, clusters: (name: string) => KubeConfig): SecretStore {
  const kubernetes = config.secretStore?.kubernetes;
  if (kubernetes) return createKubernetesSecretStore({ kubeConfig: clusters(kubernetes.cluster), namespace: kubernetes.namespace, namePrefix: kubernetes.namePrefix, keepVersions: kubernetes.keepVersions });
  return createSecretsDirectory(config.secretsDir);
}

function appRuntimeFor(config: WorkerConfig, secrets: SecretStore, clusters: (name: string) => KubeConfig): AppRuntime {
  const { app, dns } = config;
  if (!app) return notConfigured<AppRuntime>('the application runtime', 'app');
  if (app.kubernetes) {
    const k = app.kubernetes;
    return createKubernetesAppRuntime({
      primary: { kubeConfig: clusters(k.cluster), namespace: k.namespace, deployment: k.deployment, ...(k.healthUrl ? { healthUrl: k.healthUrl } : {}) },
      secret: k.secret,
      secretKeys: k.secretKeys,
      ...(k.standby ? { standby: { kubeConfig: clusters(k.standby.cluster), namespace: k.standby.namespace ?? k.namespace, deployment: k.standby.deployment ?? k.deployment, ...(k.standby.healthUrl ? { healthUrl: k.standby.healthUrl } : {}) } } : {}),
      secrets,
      rolloutTimeoutMs: k.rolloutTimeoutSeconds * 1000,
    });
  }
  const { envFile, port, command } = app;
  if (!envFile || !port) throw new Error('app.envFile and app.port: the local application runtime needs the env file holding DATABASE_URL and the port it listens on');
  if (!command) throw new Error('app.command: the local application runtime needs the command that starts the application (without its flags)');
  return createLocalAppRuntime({ ...app, envFile, port, command, secrets, dnsFile: dns?.mappingFile });
}

/** One adapter per configured notifier; all of them receive every notification. */
function notifierFor(configs: NotifierConfig[]): Notifier {
  const notifiers = configs.map((config): Notifier => {
    switch (config.type) {
      case 'console':
        return createConsoleNotifier();
    }
  });
  return fanOutNotifier(notifiers);
}
