import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { Client as TemporalClient, Connection } from '@temporalio/client';
import { Client, Pool } from 'pg';
import { scheduleReadiness } from '../client/readiness';
import YAML from 'yaml';
import { installAuditSchema } from '../activities/audit';
import { backupScheduleId, scheduleBackups } from '../client/backups';
import { enrolPrimaryInstance, prepareStanzaPrimary, startPostgresCluster, stopClusterIfRunning, stopPlatformInstances, superuser, type LocalPlatformOptions, type PostgresCluster } from '../activities/adapters/local/postgres';
import { stopCacheInstances } from '../activities/adapters/local/redis/local-cache-platform';
import { withRedis } from '../activities/adapters/local/redis/redis-client';
import { startRedisServer, stopRedisServer } from '../activities/adapters/local/redis/redis-server';
import type { AppRuntime } from '../activities/ports/app-runtime';
import { financialApplication } from '../demo/financial-application';
import { writeDemoAppFiles, demoVerificationCommands } from '../demo/app-files';
import { seedCacheDataset } from '../demo/cache-dataset';
import { applicationRole, createApplicationRole, createFinancialSchema } from '../demo/financial-dataset';
import { writeFileAtomic } from '../lib/atomic-file';
import { freePort } from '../lib/ports';
import { databaseUrl } from '../lib/postgres-url';
import { startCodecServer, type RunningCodecServer } from '../lib/codec-server';
import { createAdapters, defaultAppConnectionSecret, secretStoreFor, type Adapters } from '../worker/adapters';
import { payloadCodecFor } from '../worker/payload-encryption';
import { loadWorkerConfig, taskQueueOf } from '../worker/config';
import { repoRoot } from './paths';
import { startTemporalServer, type TemporalServer } from './temporal-server';

/** The demo application's versioned migrations; the schema the stack creates is their version 0001. */
export const demoMigrationsDirectory = path.join(repoRoot, 'demo', 'migrations');

/** How the local application runtime starts the demo financial service (config `app.command`). */
export const demoServiceCommand = () => [process.execPath, '--import', 'tsx', path.join(repoRoot, 'demo', 'financial-service.ts')];

export interface LocalStackOptions {
  stateDir: string;
  temporalPort?: number;
  temporalUiPort?: number;
  productionPort?: number;
  controlPort?: number;
  /** Name of the application database inside the production cluster. */
  databaseName?: string;
  /** Start the demo financial service (the application the runbooks cut over); default true. */
  withApp?: boolean;
  /** Approvers per gate written into the worker config; default: alice, bob and carol for every gate. */
  approvers?: string[];
  /**
   * Create the Temporal Schedule that runs backupWithBaseline on production (the demo's backups); a
   * schedule an earlier run left in the kept Temporal state is replaced, so nothing it missed catches up.
   */
  backupSchedule?: { cron: string; taskQueue: string };
  /**
   * Encrypt payloads (AES-256-GCM, a key the stack makes in its secret store) and start the codec server
   * the Web UI decodes them through (the dev server's --ui-codec-endpoint; needs temporalUiPort).
   */
  encryptPayloads?: boolean;
  log?: (line: string) => void;
}

export interface LocalStack {
  temporal: TemporalServer;
  production: PostgresCluster;
  /** The DR tool's own cluster: the audit trail lives here, so it survives the loss of production. */
  control: PostgresCluster;
  databaseName: string;
  /** Worker config file (YAML) naming the production database; its password is a secret file beside it. */
  configFile: string;
  /** The codec server the Web UI decodes payloads through, when payloads are encrypted. */
  codecServer?: RunningCodecServer;
  /** The demo financial service, when started (through the worker's AppRuntime adapter). */
  app?: AppRuntime & { port: number; url: string; stop(): Promise<void> };
  /** The name the application resolves through the DNS mapping file to reach its database. */
  databaseHostName: string;
  /** Production Redis 7 (AOF on): the application's cache and sessions, the enrolled instance "production" of the cache platform. */
  cache: { port: number; dir: string; password: string };
  /** The application's files (documents/, configs/, code/): the archive kinds of the file backups. */
  appFilesDir: string;
  dnsMappingFile: string;
  stop(): Promise<void>;
}

/**
 * The embedded default: a real Temporal dev server and a real PostgreSQL 15 "production" cluster,
 * both on loopback, plus the worker config that names them. The application, its DNS name and its
 * baseline migration are set up through the adapters the worker's wiring point picks from that config.
 * Stops only what it started.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const log = options.log ?? (() => undefined);
  const databaseName = options.databaseName ?? 'mita';
  const stopOnFailure: Array<() => Promise<void>> = [];
  try {
    let codecServer: RunningCodecServer | undefined;
    if (options.encryptPayloads) {
      codecServer = await startPayloadCodecServer(options.stateDir, options.temporalUiPort);
      stopOnFailure.push(() => codecServer!.close());
      log(`payloads are encrypted (key ${payloadKeyId}); the Web UI decodes them through ${codecServer.url}`);
    }
    log(`starting Temporal dev server (state ${path.join(options.stateDir, 'temporal')})`);
    const temporal = await startTemporalServer({ stateDir: path.join(options.stateDir, 'temporal'), port: options.temporalPort, uiPort: options.temporalUiPort, uiCodecEndpoint: codecServer?.url });
    stopOnFailure.push(() => temporal.stop());
    log(`Temporal is up on ${temporal.address}${temporal.uiUrl ? `, Web UI ${temporal.uiUrl}` : ''}`);

    log('starting PostgreSQL 15 cluster "production"');
    // Production archives its WAL to pgBackRest and is the enrolled primary of the local DatabasePlatform.
    const platform: LocalPlatformOptions = { stateDir: path.join(options.stateDir, 'platform'), stanza: 'production' };
    const productionDir = path.join(options.stateDir, 'clusters', 'production');
    const production = await startPostgresCluster({ dir: productionDir, port: options.productionPort, settings: await prepareStanzaPrimary(platform, productionDir) });
    stopOnFailure.push(() => production.stop());
    await createDatabaseIfMissing(production, databaseName);
    const appPassword = await createApplicationSchema(production, databaseName);
    await enrolPrimaryInstance(platform, { instanceId: 'production', cluster: production, database: databaseName });
    log(`PostgreSQL "production" is up on 127.0.0.1:${production.port} (database ${databaseName})`);

    log('starting Redis 7 "production" (the application\'s cache and sessions, AOF on)');
    const cacheDir = path.join(options.stateDir, 'cache', 'production');
    const cachePassword = existsSync(path.join(options.stateDir, 'secrets', cachePasswordSecret)) ? readFileSync(path.join(options.stateDir, 'secrets', cachePasswordSecret), 'utf8').trim() : randomBytes(18).toString('base64url');
    const redis = await startRedisServer({ dir: cacheDir, password: cachePassword, appendonly: true });
    stopOnFailure.push(() => stopRedisServer(cacheDir, 'graceful'));
    await withRedis({ host: '127.0.0.1', port: redis.port, password: cachePassword }, (r) => seedCacheDataset(r, { sessions: 40, users: 60 }));
    const appFilesDir = path.join(options.stateDir, 'app-files');
    if (!existsSync(appFilesDir)) writeDemoAppFiles(appFilesDir);
    log(`Redis "production" is up on 127.0.0.1:${redis.port}; the application's files are in ${appFilesDir}`);

    log('starting PostgreSQL 15 cluster "control" (audit trail)');
    const control = await startPostgresCluster({ dir: path.join(options.stateDir, 'clusters', 'control'), port: options.controlPort });
    stopOnFailure.push(() => control.stop());
    const auditWriterPassword = await prepareAuditDatabase(control, options.stateDir);
    log(`PostgreSQL "control" is up on 127.0.0.1:${control.port} (database ${auditDatabaseName})`);

    const appPort = await freePort();
    const dnsMappingFile = path.join(options.stateDir, 'dns.json');
    const configFile = writeWorkerConfig(options.stateDir, production, databaseName, control, auditWriterPassword, {
      appEnvFile: path.join(options.stateDir, 'app', 'financial-service.env'), appPort, dnsMappingFile, approvers: options.approvers ?? ['alice', 'bob', 'carol'], encryptPayloads: options.encryptPayloads === true,
      cache: { port: redis.port, password: cachePassword }, appFilesDir,
    });
    const adapters = createAdapters(loadWorkerConfig(configFile));
    await adapters.start();
    await markBaselineMigration(adapters, production, databaseName);
    if (options.backupSchedule) {
      await createBackupSchedule(temporal, options.backupSchedule);
      log(`Temporal Schedule ${backupScheduleId('production')}: backupWithBaseline of production at "${options.backupSchedule.cron}"`);
    }

    // The application reaches its database through a name (db.mita.internal), as it would in production:
    // the region-outage runbook switches that name; the server-failure runbook repoints the app itself.
    if ((await adapters.dns.currentTarget(databaseHostName))?.target !== `127.0.0.1:${production.port}`) await adapters.dns.switchTarget(databaseHostName, `127.0.0.1:${production.port}`, { ttlSeconds: 1 });
    const endpoint = { host: databaseHostName, port: production.port, database: databaseName };
    const connection = await adapters.secrets.write(defaultAppConnectionSecret, databaseUrl({ ...endpoint, user: applicationRole, password: appPassword }));
    await adapters.appRuntime.pointAppAt({ database: 'production', endpoint, secret: { name: connection.name, version: connection.version } });
    const cacheConnection = await adapters.secrets.write(defaultAppCacheSecret, `redis://:${encodeURIComponent(cachePassword)}@127.0.0.1:${redis.port}/0`);
    await adapters.appRuntime.pointAppAtCache({ cache: 'production', endpoint: { host: '127.0.0.1', port: redis.port, tls: false }, secret: { name: cacheConnection.name, version: cacheConnection.version } });
    // Readiness every 15 minutes, on the task queue the stack's worker polls (issue 13; `dr readiness schedule` elsewhere).
    const temporalConnection = await Connection.connect({ address: temporal.address });
    try {
      await scheduleReadiness(new TemporalClient({ connection: temporalConnection, namespace: temporal.namespace }), { taskQueue: taskQueueOf(), createdBy: 'the local stack' });
    } finally {
      await temporalConnection.close();
    }
    let app: LocalStack['app'];
    if (options.withApp !== false) {
      const runtime = adapters.appRuntime;
      log(`starting the demo financial service on 127.0.0.1:${appPort}`);
      const stopApp = () => runtime.scale(0).then(() => undefined);
      // Registered before the wait: a service that never gets healthy is stopped too, not left running.
      stopOnFailure.push(stopApp);
      await runtime.restart();
      await runtime.waitHealthy({ timeoutMs: 30_000 });
      app = Object.assign(runtime, { port: appPort, url: `http://127.0.0.1:${appPort}`, stop: stopApp });
    }

    return {
      temporal,
      production,
      control,
      databaseName,
      configFile,
      app,
      codecServer,
      databaseHostName,
      dnsMappingFile,
      cache: { port: redis.port, dir: cacheDir, password: cachePassword },
      appFilesDir,
      async stop() {
        await app?.stop().catch((error: Error) => log(`could not stop the demo financial service: ${error.message}`));
        await codecServer?.close();
        await stopPlatformInstances(platform).catch((error) => log(`could not stop platform instances: ${(error as Error).message}`));
        await stopCacheInstances({ stateDir: path.join(options.stateDir, cachePlatformDir) }).catch((error) => log(`could not stop cache instances: ${(error as Error).message}`));
        await stopRedisServer(cacheDir, 'graceful').catch((error) => log(`could not stop Redis "production": ${(error as Error).message}`));
        await production.stop().catch((error) => log(`could not stop PostgreSQL "production": ${(error as Error).message}`));
        await control.stop().catch((error) => log(`could not stop PostgreSQL "control": ${(error as Error).message}`));
        await temporal.stop();
      },
    };
  } catch (error) {
    for (const stop of stopOnFailure.reverse()) await stop().catch(() => undefined);
    throw error;
  }
}

async function createBackupSchedule(temporal: TemporalServer, schedule: { cron: string; taskQueue: string }): Promise<void> {
  const connection = await Connection.connect({ address: temporal.address });
  try {
    const client = new TemporalClient({ connection, namespace: temporal.namespace });
    await client.schedule.getHandle(backupScheduleId('production')).delete().catch(() => undefined);
    // The kept Temporal state may hold a backup its old schedule started (a catch-up of a run missed while
    // the server was down fires at start): its databases are gone, and it would hold the stanza's backup
    // lock against the first backup of this stack.
    for await (const run of client.workflow.list({ query: `WorkflowType = 'backupWithBaseline' AND ExecutionStatus = 'Running'` })) {
      await client.workflow.getHandle(run.workflowId, run.runId).terminate('the local stack restarted: this backup was of databases that are gone').catch(() => undefined);
    }
    await scheduleBackups(client, { database: 'production', cron: schedule.cron, taskQueue: schedule.taskQueue, createdBy: 'local-stack', note: 'the local stack: backups of production, each with its baseline' });
  } finally {
    await connection.close();
  }
}

async function createDatabaseIfMissing(cluster: PostgresCluster, name: string): Promise<void> {
  const client = new Client({ connectionString: cluster.url('postgres') });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}

/**
 * The application's tables exist from the start, as after a deploy, and the role it signs in as; the
 * data comes later. Returns the role's password (the stack writes it into the application's connection
 * secret; every cutover replaces it on the instance the application moves to).
 */
async function createApplicationSchema(cluster: PostgresCluster, database: string): Promise<string> {
  const password = randomBytes(18).toString('base64url');
  const client = new Client({ connectionString: cluster.url(database) });
  await client.connect();
  try {
    await createFinancialSchema(client);
    await createApplicationRole(client, password);
  } finally {
    await client.end();
  }
  return password;
}

/**
 * Starts the local environment afresh: stops any PostgreSQL server or demo service a killed earlier run
 * left behind in the state directory, then removes everything but the directories kept (Temporal's
 * history, so the Web UI still shows earlier runs).
 */
export async function resetLocalState(stateDir: string, keep: string[] = ['temporal']): Promise<void> {
  if (!existsSync(stateDir)) return;
  const dataDirs = (dir: string, depth: number): string[] =>
    !existsSync(dir) || !statSync(dir).isDirectory() || depth < 0 ? [] : readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).flatMap((e) => {
      const full = path.join(dir, e.name);
      return existsSync(path.join(full, 'PG_VERSION')) ? [full] : dataDirs(full, depth - 1);
    });
  for (const entry of readdirSync(stateDir)) {
    if (keep.includes(entry)) continue;
    const full = path.join(stateDir, entry);
    for (const dataDir of dataDirs(full, 4)) await stopClusterIfRunning(dataDir);
    for (const redisDir of redisDirs(full, 4)) await stopRedisServer(redisDir, 'kill');
    if (entry === 'app') stopDemoServices(full);
    rmSync(full, { recursive: true, force: true });
  }
}

/** Directories a redis-server ran on (its redis.conf beside its data), up to `depth` levels down. */
function redisDirs(dir: string, depth: number): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory() || depth < 0) return [];
  return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).flatMap((e) => {
    const full = path.join(dir, e.name);
    return existsSync(path.join(full, 'redis.conf')) ? [full] : redisDirs(full, depth - 1);
  });
}

/** Stops demo financial services whose pid files are in the directory (only if the pid is still that service). */
function stopDemoServices(appDir: string): void {
  for (const file of readdirSync(appDir).filter((f) => f.endsWith('.pid'))) {
    const pid = Number(readFileSync(path.join(appDir, file), 'utf8').trim());
    const cmdline = Number.isInteger(pid) && pid > 0 && existsSync(`/proc/${pid}/cmdline`) ? readFileSync(`/proc/${pid}/cmdline`, 'utf8') : '';
    if (cmdline.includes('financial-service')) process.kill(pid, 'SIGTERM');
  }
}

/** Records version 0001 in schema_migrations, so the failed-migration runbook has a version to return to. */
async function markBaselineMigration(adapters: Adapters, cluster: PostgresCluster, database: string): Promise<void> {
  const pool = new Pool({ connectionString: cluster.url(database), max: 1 });
  try {
    await adapters.migrationTool(pool).migrate('0001');
  } finally {
    await pool.end();
  }
}

export const auditDatabaseName = 'dr_audit';
/** The secret the runbooks write the application's cache connection to (config cache.connectionSecret). */
export const defaultAppCacheSecret = 'app-cache-connection';
const cachePasswordSecret = 'cache-production-password';
const cachePlatformDir = path.join('cache', 'platform');
/** The key the demo's file backups are sealed with (a secret of that name: 32 bytes, base64). */
export const demoFilesKeyId = 'files-key-1';
export const databaseHostName = 'db.mita.internal';
const auditWriterRole = 'dr_audit_writer';
const auditHeadKeySecret = 'audit-head-signing-key';

/** Creates dr_audit with its append-only table and a writer role that may only INSERT and SELECT. */
async function prepareAuditDatabase(control: PostgresCluster, stateDir: string): Promise<string> {
  await createDatabaseIfMissing(control, auditDatabaseName);
  const secretFile = path.join(stateDir, 'secrets', 'audit-db-password');
  const password = existsSync(secretFile) ? readFileSync(secretFile, 'utf8').trim() : randomBytes(18).toString('base64url');
  const client = new Client({ connectionString: control.url(auditDatabaseName) });
  await client.connect();
  try {
    await installAuditSchema(client, { writerRole: auditWriterRole, writerPassword: password });
  } finally {
    await client.end();
  }
  return password;
}

function writeSecret(secretsDir: string, name: string, value: string): void {
  writeFileAtomic(path.join(secretsDir, name), value + '\n', 0o600);
}

interface AppWiring { appEnvFile: string; appPort: number; dnsMappingFile: string; approvers: string[]; encryptPayloads: boolean; cache: { port: number; password: string }; appFilesDir: string }

/** The id of the payload key the stack makes (rotating: a new id, the old key kept). */
export const payloadKeyId = 'local-1';

/**
 * Makes the stack's payload key (once) and starts the codec server the Web UI calls, for the UI's origin
 * only. The key is in the stack's secret store; the worker, the clients and this server read it there.
 */
async function startPayloadCodecServer(stateDir: string, uiPort: number | undefined): Promise<RunningCodecServer> {
  const secretsDir = path.join(stateDir, 'secrets');
  mkdirSync(secretsDir, { recursive: true, mode: 0o700 });
  const keySecret = `payload-key-${payloadKeyId}`;
  if (!existsSync(path.join(secretsDir, keySecret))) writeSecret(secretsDir, keySecret, randomBytes(32).toString('base64'));
  const codec = payloadCodecFor({ payloadEncryption: { currentKeyId: payloadKeyId, keySecretPrefix: 'payload-key-' } }, secretStoreFor({ secretsDir }))!;
  const origins = uiPort ? [`http://127.0.0.1:${uiPort}`, `http://localhost:${uiPort}`] : [];
  return startCodecServer({ codec, allowedOrigins: origins });
}

function writeWorkerConfig(stateDir: string, production: PostgresCluster, databaseName: string, control: PostgresCluster, auditWriterPassword: string, wiring: AppWiring): string {
  const secretsDir = path.join(stateDir, 'secrets');
  mkdirSync(secretsDir, { recursive: true, mode: 0o700 });
  writeSecret(secretsDir, 'production-db-password', production.password);
  writeSecret(secretsDir, 'audit-db-password', auditWriterPassword);
  writeSecret(secretsDir, cachePasswordSecret, wiring.cache.password);
  if (!existsSync(path.join(secretsDir, demoFilesKeyId))) writeSecret(secretsDir, demoFilesKeyId, randomBytes(32).toString('base64'));
  // The key the audit trail's heads are signed with: in the secret store, never in the control database.
  if (!existsSync(path.join(secretsDir, auditHeadKeySecret))) writeSecret(secretsDir, auditHeadKeySecret, generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString().trim());
  const verify = demoVerificationCommands();
  const config = {
    environment: 'local',
    secretsDir: 'secrets',
    databases: {
      production: { host: '127.0.0.1', port: production.port, database: databaseName, user: superuser, passwordSecret: 'production-db-password' },
      audit: { host: '127.0.0.1', port: control.port, database: auditDatabaseName, user: auditWriterRole, passwordSecret: 'audit-db-password' },
    },
    audit: { database: 'audit', headSigning: { kind: 'ed25519', keySecret: auditHeadKeySecret } },
    ...(wiring.encryptPayloads ? { payloadEncryption: { currentKeyId: payloadKeyId } } : {}),
    platform: { local: { stateDir: 'platform', stanza: 'production' } },
    objectStore: { directory: 'objects' },
    migrations: { directory: path.relative(stateDir, demoMigrationsDirectory) },
    app: {
      envFile: path.relative(stateDir, wiring.appEnvFile), port: wiring.appPort, command: demoServiceCommand(), workingDirectory: repoRoot, connectionSecret: defaultAppConnectionSecret, databaseRole: applicationRole,
      environment: { DR_APP_FILES_DIR: wiring.appFilesDir },
    },
    cache: {
      connectionSecret: defaultAppCacheSecret,
      local: { stateDir: cachePlatformDir, instances: { production: { port: wiring.cache.port, passwordFile: path.join('secrets', cachePasswordSecret) } } },
    },
    files: {
      keyId: demoFilesKeyId,
      stateDir: 'files',
      archives: {
        documents: { sourceDir: path.relative(stateDir, path.join(wiring.appFilesDir, 'documents')), drillDir: path.join('drill', 'documents') },
        configs: { sourceDir: path.relative(stateDir, path.join(wiring.appFilesDir, 'configs')), drillDir: path.join('drill', 'configs'), verify: { argv: verify.configs, timeoutSeconds: 60 } },
        code: { sourceDir: path.relative(stateDir, path.join(wiring.appFilesDir, 'code')), drillDir: path.join('drill', 'code'), verify: { argv: verify.code, timeoutSeconds: 60 } },
      },
    },
    dns: { mappingFile: path.relative(stateDir, wiring.dnsMappingFile), defaultTtlSeconds: 1 },
    // The demo financial application as it declares itself to the validation gate.
    application: financialApplication,
    // Every gate of every scenario: one approval of three listed people, never the runbook's starter.
    // The embedded environment is a laptop demo: votes by name, said here explicitly (a real environment
    // needs an SSH signature or a one-time code, the default).
    approvals: {
      authentication: 'none',
      gates: Object.fromEntries(['cutover', 'repair', 'dns-failover', 'rollback'].map((gate) => [gate, { approvers: wiring.approvers, quorum: 1 }])),
    },
  };
  const file = path.join(stateDir, 'dr-config.yaml');
  writeFileAtomic(file, '# Written by the local stack; names the databases the worker may reach.\n' + YAML.stringify(config), 0o644);
  return file;
}
