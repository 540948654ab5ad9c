import type { Pool } from 'pg';
import { createAwsClients, createRdsDatabasePlatform, createRoute53Dns, createS3ObjectStore, createSecretsManagerSecretStore, type AwsClients, type RdsEndpointResolver } from '../activities/adapters/aws';
import { createConsoleNotifier } from '../activities/adapters/local/console-notifier';
import { createDirectoryObjectStore } from '../activities/adapters/local/directory-object-store';
import { createLocalAppRuntime } from '../activities/adapters/local/local-app-runtime';
import { createMappingFileDns } from '../activities/adapters/local/mapping-file-dns';
import { createLocalDatabasePlatform } from '../activities/adapters/local/postgres';
import { createSecretsDirectory } from '../activities/adapters/local/secrets-directory';
import { createSqlDirectoryMigrationTool } from '../activities/adapters/local/sql-directory-migrations';
import { createWebhookNotifier, type DeliveryDependencies, type MessageContext } from '../activities/adapters/webhooks';
import type { AppRuntime } from '../activities/ports/app-runtime';
import type { DatabasePlatform } from '../activities/ports/database-platform';
import type { Dns } from '../activities/ports/dns';
import type { MigrationTool } from '../activities/ports/migration-tool';
import { notConfigured, notConfiguredDatabasePlatform } from '../activities/ports/not-configured';
import type { Notifier } from '../activities/ports/notifier';
import type { ObjectStore } from '../activities/ports/object-store';
import type { SecretStore } from '../activities/ports/secret-store';
import { channelNameOf, type NotifierConfig, type WorkerConfig } from './config';
import { createChannelRouter } from './notification-channels';

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

/** What the adapters need from the worker beyond its config file. */
export interface AdapterOptions {
  /** The worker's Temporal namespace: notifications link to the run in the Web UI. */
  namespace?: string;
  /** The notifiers' HTTP client and retry policy (tests). */
  delivery?: DeliveryDependencies;
  /** Where the worker connects to reach an RDS instance (default: the endpoint RDS reports; a tunnel, or a test's local database). */
  rdsEndpointResolver?: RdsEndpointResolver;
}

/** Where the runbooks write the application's database connection when they point it at a database. */
export const defaultAppConnectionSecret = 'app-database-connection';

/**
 * THE place that reads the worker config and picks one adapter family per port: the embedded default
 * (`local`) or `aws` (RDS, S3, Route 53, Secrets Manager; one folder, activities/adapters/aws/, and one
 * case per port here). A port the config does not set up gets a stand-in that refuses with the config
 * key to add, so the worker still registers every activity the workflows call.
 */
export function createAdapters(config: WorkerConfig, options: AdapterOptions = {}): Adapters {
  const aws = config.aws ? createAwsClients({ region: config.aws.region, endpoint: config.aws.endpoint, maxAttempts: config.aws.maxAttempts }) : undefined;
  const secrets = secretStoreFor(config, aws);
  return {
    secrets,
    databasePlatform: databasePlatformFor(config, secrets, aws, options),
    objectStore: objectStoreFor(config, aws),
    appRuntime: appRuntimeFor(config, secrets),
    dns: dnsFor(config, aws),
    notifier: createNotifier(config, secrets, options),
    migrationTool: (pool) => (config.migrations ? createSqlDirectoryMigrationTool(pool, config.migrations.directory) : notConfigured<MigrationTool>('the migration tool', 'migrations.directory')),
  };
}

const awsClients = (aws: AwsClients | undefined, key: string): AwsClients => {
  if (!aws) throw new Error(`aws: ${key} needs the aws section (at least { region })`); // the config schema refuses this first
  return aws;
};

function secretStoreFor(config: WorkerConfig, aws: AwsClients | undefined): SecretStore {
  const manager = config.secretStore?.secretsManager;
  if (manager) {
    const region = manager.region ?? config.aws!.region;
    return createSecretsManagerSecretStore({ client: awsClients(aws, 'secretStore.secretsManager').secretsManager(region), region, namePrefix: manager.namePrefix, kmsKeyId: manager.kmsKeyId, tags: manager.tags });
  }
  return createSecretsDirectory(config.secretsDir);
}

function databasePlatformFor(config: WorkerConfig, secrets: SecretStore, aws: AwsClients | undefined, options: AdapterOptions): DatabasePlatform {
  const { local, rds } = config.platform ?? {};
  if (local) return createLocalDatabasePlatform({ ...local, recoveryTimeoutMs: local.recoveryTimeoutSeconds * 1000 });
  if (rds) {
    const clients = awsClients(aws, 'platform.rds');
    return createRdsDatabasePlatform({
      rds: (region) => clients.rds(region),
      instances: Object.fromEntries(Object.entries(rds.instances).map(([id, i]) => [id, { identifier: i.identifier, ...(i.region ? { region: i.region } : {}) }])),
      // An enrolled instance is signed in to as its database of the config; what is built from it keeps its roles.
      credentials: async (instanceId) => {
        const name = rds.instances[instanceId]?.database ?? instanceId;
        const db = config.databases[name]!;
        return { user: db.user, database: db.database, password: (await secrets.read(db.passwordSecret)).value };
      },
      build: { instanceClass: rds.instanceClass, multiAz: rds.multiAz, regions: rds.regions, tags: rds.tags },
      deletion: { finalSnapshot: rds.finalSnapshot, protectedInstances: rds.protectedInstances },
      promotedBackupRetentionDays: rds.promotedBackupRetentionDays,
      waits: { pollIntervalMs: rds.pollIntervalSeconds * 1000, timeoutMs: rds.waitTimeoutSeconds * 1000 },
      connectTimeoutMs: rds.connectTimeoutSeconds * 1000,
      ...(options.rdsEndpointResolver ? { resolveEndpoint: options.rdsEndpointResolver } : {}),
    });
  }
  return notConfiguredDatabasePlatform();
}

function objectStoreFor(config: WorkerConfig, aws: AwsClients | undefined): ObjectStore {
  const store = config.objectStore;
  if (store?.directory) return createDirectoryObjectStore(store.directory);
  if (store?.s3) return createS3ObjectStore({ s3: awsClients(aws, 'objectStore.s3').s3(store.s3.region), bucket: store.s3.bucket, prefix: store.s3.prefix, kmsKeyId: store.s3.kmsKeyId, objectLock: store.s3.objectLock });
  return notConfigured<ObjectStore>('the object store (reports, baselines, diffs)', 'objectStore');
}

function dnsFor(config: WorkerConfig, aws: AwsClients | undefined): Dns {
  const dns = config.dns;
  if (dns?.mappingFile) return createMappingFileDns({ mappingFile: dns.mappingFile, defaultTtlSeconds: dns.defaultTtlSeconds });
  if (dns?.route53) {
    const { route53 } = dns;
    return createRoute53Dns({
      route53: awsClients(aws, 'dns.route53').route53(),
      hostedZoneId: route53.hostedZoneId.replace(/^\/hostedzone\//, ''),
      port: route53.port,
      record: route53.record,
      defaultTtlSeconds: dns.defaultTtlSeconds,
      waits: { pollIntervalMs: route53.pollIntervalSeconds * 1000, timeoutMs: route53.waitTimeoutSeconds * 1000 },
    });
  }
  return notConfigured<Dns>('DNS', 'dns');
}

function appRuntimeFor(config: WorkerConfig, secrets: SecretStore): AppRuntime {
  const { app, dns } = config;
  if (!app) return notConfigured<AppRuntime>('the application runtime', 'app');
  const { envFile, port, command } = app;
  if (!envFile || !port) throw new Error('app.envFile and app.port: the local application runtime needs the env file holding DATABASE_URL and the port it listens on');
  if (!command) throw new Error('app.command: the local application runtime needs the command that starts the application (without its flags)');
  return createLocalAppRuntime({ ...app, envFile, port, command, secrets, dnsFile: dns?.mappingFile });
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
