import type { Pool } from 'pg';
import { createConsoleNotifier } from '../activities/adapters/local/console-notifier';
import { createDirectoryObjectStore } from '../activities/adapters/local/directory-object-store';
import { createLocalAppRuntime } from '../activities/adapters/local/local-app-runtime';
import { createMappingFileDns } from '../activities/adapters/local/mapping-file-dns';
import { createLocalDatabasePlatform } from '../activities/adapters/local/postgres';
import { createSecretsDirectory } from '../activities/adapters/local/secrets-directory';
import { createSqlDirectoryMigrationTool } from '../activities/adapters/local/sql-directory-migrations';
import { createPrometheusMetrics } from '../activities/adapters/prometheus/prometheus-metrics';
import { createWebhookNotifier, type DeliveryDependencies, type MessageContext } from '../activities/adapters/webhooks';
import type { AppRuntime } from '../activities/ports/app-runtime';
import type { DatabasePlatform } from '../activities/ports/database-platform';
import type { Dns } from '../activities/ports/dns';
import type { MigrationTool } from '../activities/ports/migration-tool';
import { notConfigured, notConfiguredDatabasePlatform } from '../activities/ports/not-configured';
import type { Notifier } from '../activities/ports/notifier';
import type { ObjectStore } from '../activities/ports/object-store';
import { noOperationsMetrics, type OperationsMetrics } from '../activities/ports/operations-metrics';
import type { SecretStore } from '../activities/ports/secret-store';
import { channelNameOf, type NotifierConfig, type WorkerConfig } from './config';
import type { MetricsSource } from './metrics';
import { createChannelRouter } from './notification-channels';

/** One adapter per port, as the worker config chose them. */
export interface Adapters {
  databasePlatform: DatabasePlatform;
  objectStore: ObjectStore;
  appRuntime: AppRuntime;
  dns: Dns;
  secrets: SecretStore;
  notifier: Notifier;
  metrics: OperationsMetrics;
  /** What /metrics serves, when the config asks for metrics (`metrics.listen`). */
  metricsSource?: MetricsSource;
  /** The application's migrations on one database (through the worker's pool on it). */
  migrationTool(database: Pool): MigrationTool;
}

/** What the adapters need from the worker beyond its config file. */
export interface AdapterOptions {
  /** The worker's Temporal namespace: notifications link to the run in the Web UI. */
  namespace?: string;
  /** The notifiers' HTTP client and retry policy (tests). */
  delivery?: DeliveryDependencies;
}

/** Where the runbooks write the application's database connection when they point it at a database. */
export const defaultAppConnectionSecret = 'app-database-connection';

/**
 * THE place that reads the worker config and picks one adapter family per port. Today every family is
 * the embedded default (`local`); a cloud family is one folder under activities/adapters/ and one case
 * here. A port the config does not set up gets a stand-in that refuses with the config key to add, so
 * the worker still registers every activity the workflows call.
 */
export function createAdapters(config: WorkerConfig, options: AdapterOptions = {}): Adapters {
  const secrets = createSecretStore(config);
  const prometheus = config.metrics ? createPrometheusMetrics({ environment: config.environment }) : undefined;
  return {
    secrets,
    metrics: prometheus ?? noOperationsMetrics,
    ...(prometheus ? { metricsSource: prometheus } : {}),
    databasePlatform: databasePlatformFor(config),
    objectStore: config.objectStore ? createDirectoryObjectStore(config.objectStore.directory) : notConfigured<ObjectStore>('the object store (reports, baselines, diffs)', 'objectStore'),
    appRuntime: appRuntimeFor(config, secrets),
    dns: config.dns ? createMappingFileDns({ mappingFile: config.dns.mappingFile, defaultTtlSeconds: config.dns.defaultTtlSeconds }) : notConfigured<Dns>('DNS', 'dns'),
    notifier: createNotifier(config, secrets, options),
    migrationTool: (pool) => (config.migrations ? createSqlDirectoryMigrationTool(pool, config.migrations.directory) : notConfigured<MigrationTool>('the migration tool', 'migrations.directory')),
  };
}

/** The SecretStore alone, for a process that needs no other port (the alert receiver). */
export function createSecretStore(config: Pick<WorkerConfig, 'secretsDir'>): SecretStore {
  return createSecretsDirectory(config.secretsDir);
}

function databasePlatformFor(config: WorkerConfig): DatabasePlatform {
  const local = config.platform?.local;
  if (local) return createLocalDatabasePlatform({ ...local, recoveryTimeoutMs: local.recoveryTimeoutSeconds * 1000 });
  return notConfiguredDatabasePlatform();
}

function appRuntimeFor(config: WorkerConfig, secrets: SecretStore): AppRuntime {
  const { app, dns } = config;
  if (!app) return notConfigured<AppRuntime>('the application runtime', 'app');
  if (!app.command) throw new Error('app.command: the local application runtime needs the command that starts the application (without its flags)');
  return createLocalAppRuntime({ ...app, command: app.command, secrets, dnsFile: dns?.mappingFile });
}

/**
 * One channel per configured notifier, of the family its type names, behind the router that sends each
 * notification to the channels it is for (escalations by audience) and names the one that failed.
 */
export function createNotifier(config: Pick<WorkerConfig, 'notifiers' | 'audiences' | 'messages'>, secrets: SecretStore, options: AdapterOptions = {}): Notifier {
  const messages = { ...config.messages, ...(options.namespace ? { namespace: options.namespace } : {}) };
  const channels = config.notifiers.map((n) => ({ name: channelNameOf(n), notifier: notifierFor(n, { secrets, messages, ...(options.delivery ? { delivery: options.delivery } : {}) }), escalationsOnly: n.escalationsOnly }));
  return createChannelRouter(channels, config.audiences);
}

function notifierFor(n: NotifierConfig, common: { secrets: SecretStore; messages: MessageContext; delivery?: DeliveryDependencies }): Notifier {
  switch (n.type) {
    case 'console':
      return createConsoleNotifier();
    case 'slack':
    case 'pagerduty':
    case 'statuspage':
    case 'webhook':
      return createWebhookNotifier({ ...n, name: channelNameOf(n), ...common });
  }
}
