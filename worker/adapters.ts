import type { Pool } from 'pg';
import type { KubeConfig } from '@kubernetes/client-node';
import { createKubernetesAppRuntime, createKubernetesSecretStore, kubeConfigFor } from '../activities/adapters/kubernetes';
import { createAwsClients, createRdsDatabasePlatform, createRoute53Dns, createS3ObjectStore, createSecretsManagerSecretStore, type AwsClients, type RdsEndpointResolver } from '../activities/adapters/aws';
import { createConsoleNotifier } from '../activities/adapters/local/console-notifier';
import { createDirectoryObjectStore } from '../activities/adapters/local/directory-object-store';
import { createLocalAppRuntime } from '../activities/adapters/local/local-app-runtime';
import { createMappingFileDns } from '../activities/adapters/local/mapping-file-dns';
import { createLocalDatabasePlatform } from '../activities/adapters/local/postgres';
import { createSecretsDirectory } from '../activities/adapters/local/secrets-directory';
import { createSqlDirectoryMigrationTool } from '../activities/adapters/local/sql-directory-migrations';
import { createPrometheusMetrics } from '../activities/adapters/prometheus/prometheus-metrics';
import { createWebhookNotifier, type DeliveryDependencies, type MessageContext } from '../activities/adapters/webhooks';
import { createElastiCacheClient, createElastiCachePlatform } from '../activities/adapters/aws/elasticache';
import { createLocalCachePlatform, enrolCacheInstance, removeCacheLeftovers } from '../activities/adapters/local/redis/local-cache-platform';
import { createLocalFileBackup } from '../activities/adapters/local/file-backup/local-file-backup';
import { createVersionedDirectoryObjectStore } from '../activities/adapters/local/versioned-directory-object-store';
import type { AppRuntime } from '../activities/ports/app-runtime';
import type { CachePlatform } from '../activities/ports/cache-platform';
import type { FileBackup } from '../activities/ports/file-backup';
import type { DatabasePlatform } from '../activities/ports/database-platform';
import type { Dns } from '../activities/ports/dns';
import type { MigrationTool } from '../activities/ports/migration-tool';
import { notConfigured, notConfiguredDatabasePlatform } from '../activities/ports/not-configured';
import type { Notifier } from '../activities/ports/notifier';
import type { ObjectStore } from '../activities/ports/object-store';
import { noOperationsMetrics, type OperationsMetrics } from '../activities/ports/operations-metrics';
import type { SecretStore } from '../activities/ports/secret-store';
import { channelNameOf, type CacheConfig, type FilesConfig, type NotifierConfig, type WorkerConfig } from './config';
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
  /** Seed 002's Redis (config `cache`). */
  cachePlatform: CachePlatform;
  /** Seed 002's file archives (config `files`). */
  fileBackup: FileBackup;
  /** Where restores write on this machine, for the readiness check's free-space line (cloud platforms have none). */
  storageLocations: Array<{ name: string; path: string }>;
  /** What the adapters do once before the worker takes work: enrol the configured instances, remove what a crashed worker left. */
  start(): Promise<void>;
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
 * (`local`), `aws` (RDS, S3, Route 53, Secrets Manager) or `kubernetes` (the application's Deployment and
 * Secret, a SecretStore in Secrets); a family is one folder under activities/adapters/ and one case per
 * port here. A port the config does not set up gets a stand-in that refuses with the config key to add,
 * so the worker still registers every activity the workflows call.
 */
export function createAdapters(config: WorkerConfig, options: AdapterOptions = {}): Adapters {
  const aws = awsClientsFor(config);
  const clusters = kubernetesClusters(config);
  const secrets = secretStoreFor(config, { aws, clusters });
  const objectStore = objectStoreFor(config, aws);
  const cache = cachePlatformFor(config.cache, objectStore, secrets);
  const prometheus = config.metrics ? createPrometheusMetrics({ environment: config.environment }) : undefined;
  return {
    secrets,
    metrics: prometheus ?? noOperationsMetrics,
    ...(prometheus ? { metricsSource: prometheus } : {}),
    cachePlatform: cache.platform,
    fileBackup: fileBackupFor(config.files, config.objectStore?.directory, secrets),
    storageLocations: [
      ...(config.platform?.local ? [{ name: 'database platform', path: config.platform.local.stateDir }] : []),
      ...(config.cache?.local ? [{ name: 'cache platform', path: config.cache.local.stateDir }] : []),
      ...(config.files ? [{ name: 'file restores', path: config.files.stateDir }, ...Object.entries(config.files.archives).map(([kind, a]) => ({ name: `${kind} (its parent directory)`, path: a.sourceDir }))] : []),
    ],
    start: cache.start,
    databasePlatform: databasePlatformFor(config, secrets, aws, options),
    objectStore,
    appRuntime: appRuntimeFor(config, secrets, clusters),
    dns: dnsFor(config, aws),
    notifier: createNotifier(config, secrets, options),
    migrationTool: (pool) => (config.migrations ? createSqlDirectoryMigrationTool(pool, config.migrations.directory) : notConfigured<MigrationTool>('the migration tool', 'migrations.directory')),
  };
}

const awsClients = (aws: AwsClients | undefined, key: string): AwsClients => {
  if (!aws) throw new Error(`aws: ${key} needs the aws section (at least { region })`); // the config schema refuses this first
  return aws;
};

/** The cache platform of `cache.local` (redis-server 7 on loopback) or `cache.elasticache`. */
function cachePlatformFor(config: CacheConfig | undefined, store: ObjectStore, secrets: SecretStore): { platform: CachePlatform; start(): Promise<void> } {
  const local = config?.local;
  if (local) {
    const options = { stateDir: local.stateDir, store, loadTimeoutMs: local.loadTimeoutSeconds * 1000 };
    return {
      platform: createLocalCachePlatform(options),
      async start() {
        for (const [instanceId, instance] of Object.entries(local.instances)) await enrolCacheInstance(options, { instanceId, ...instance });
        await removeCacheLeftovers(options);
      },
    };
  }
  const aws = config?.elasticache;
  if (aws) {
    const platform = createElastiCachePlatform({
      client: createElastiCacheClient({ region: aws.region, endpoint: aws.endpoint, credentials: aws.credentials }),
      region: aws.region,
      store,
      secrets,
      replicationGroups: aws.replicationGroups,
      nodeType: aws.nodeType,
      subnetGroupName: aws.subnetGroupName,
      securityGroupIds: aws.securityGroupIds,
      authTokenSecretPrefix: aws.authTokenSecretPrefix,
      pollIntervalMs: aws.pollIntervalSeconds * 1000,
      createTimeoutMs: aws.createTimeoutSeconds * 1000,
    });
    return { platform, start: async () => undefined };
  }
  return { platform: notConfigured<CachePlatform>('the cache platform', 'cache.local'), start: async () => undefined };
}

/** Keys by id from the SecretStore: a secret holding 32 bytes, base64 (`openssl rand -base64 32`). */
function keysFrom(secrets: SecretStore) {
  return async (keyId: string): Promise<Buffer> => Buffer.from((await secrets.read(keyId)).value.trim(), 'base64');
}

function fileBackupFor(config: FilesConfig | undefined, objectStoreDirectory: string | undefined, secrets: SecretStore): FileBackup {
  if (!config) return notConfigured<FileBackup>('the file backups', 'files');
  const directory = config.objectStore?.directory ?? objectStoreDirectory;
  // The archives need a versioned store; the S3 object store is not one (yet): name the key that gives one.
  if (!directory) return notConfigured<FileBackup>('the file backups (a versioned directory for the archives)', 'files.objectStore.directory');
  const archives = Object.fromEntries(Object.entries(config.archives).map(([kind, a]) => [kind, {
    sourceDir: a.sourceDir,
    ...(a.drillDir ? { drillDir: a.drillDir } : {}),
    ...(a.verify ? { verify: { argv: a.verify.argv, timeoutMs: a.verify.timeoutSeconds * 1000 } } : {}),
  }]));
  return createLocalFileBackup({
    store: createVersionedDirectoryObjectStore(directory),
    keyFor: keysFrom(secrets),
    keyId: config.keyId,
    stateDir: config.stateDir,
    archives,
  });
}

function awsClientsFor(config: Pick<WorkerConfig, 'aws'>): AwsClients | undefined {
  return config.aws ? createAwsClients({ region: config.aws.region, endpoint: config.aws.endpoint, maxAttempts: config.aws.maxAttempts }) : undefined;
}

/**
 * The SecretStore alone (clients need the payload keys, nothing else): Secrets Manager or Secrets of a
 * Kubernetes cluster when configured, else the secrets directory.
 */
export function secretStoreFor(
  config: Pick<WorkerConfig, 'secretsDir' | 'secretStore' | 'aws' | 'kubernetes'>,
  { aws = awsClientsFor(config), clusters = kubernetesClusters(config) }: { aws?: AwsClients; clusters?: (name: string) => KubeConfig } = {},
): SecretStore {
  const kubernetes = config.secretStore?.kubernetes;
  if (kubernetes) return createKubernetesSecretStore({ kubeConfig: clusters(kubernetes.cluster), namespace: kubernetes.namespace, namePrefix: kubernetes.namePrefix, keepVersions: kubernetes.keepVersions });
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

/** One client configuration per configured cluster, made when first asked for (a bad kubeconfig fails naming its key). */
function kubernetesClusters(config: Pick<WorkerConfig, 'kubernetes'>): (name: string) => KubeConfig {
  const made = new Map<string, KubeConfig>();
  return (name) => {
    const access = config.kubernetes?.clusters[name];
    if (!access) throw new Error(`"${name}" is not in kubernetes.clusters (known: ${Object.keys(config.kubernetes?.clusters ?? {}).join(', ') || 'none'})`);
    if (!made.has(name)) made.set(name, kubeConfigFor({ name, ...access }));
    return made.get(name)!;
  };
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
      ...(k.cacheSecretKey ? { cacheSecretKey: k.cacheSecretKey } : {}),
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
