import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { Client, Pool } from 'pg';
import YAML from 'yaml';
import { installAuditSchema } from '../activities/audit';
import { enrolPrimaryInstance, prepareStanzaPrimary, startPostgresCluster, stopClusterIfRunning, stopPlatformInstances, superuser, type LocalPlatformOptions, type PostgresCluster } from '../activities/adapters/local/postgres';
import type { AppRuntime } from '../activities/ports/app-runtime';
import { applicationRole, createApplicationRole, createFinancialSchema } from '../demo/financial-dataset';
import { writeFileAtomic } from '../lib/atomic-file';
import { freePort } from '../lib/ports';
import { databaseUrl } from '../lib/postgres-url';
import { createAdapters, defaultAppConnectionSecret, type Adapters } from '../worker/adapters';
import { loadWorkerConfig } from '../worker/config';
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
  /** The demo financial service, when started (through the worker's AppRuntime adapter). */
  app?: AppRuntime & { port: number; url: string; stop(): Promise<void> };
  /** The name the application resolves through the DNS mapping file to reach its database. */
  databaseHostName: string;
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
    log(`starting Temporal dev server (state ${path.join(options.stateDir, 'temporal')})`);
    const temporal = await startTemporalServer({ stateDir: path.join(options.stateDir, 'temporal'), port: options.temporalPort, uiPort: options.temporalUiPort });
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

    log('starting PostgreSQL 15 cluster "control" (audit trail)');
    const control = await startPostgresCluster({ dir: path.join(options.stateDir, 'clusters', 'control'), port: options.controlPort });
    stopOnFailure.push(() => control.stop());
    const auditWriterPassword = await prepareAuditDatabase(control, options.stateDir);
    log(`PostgreSQL "control" is up on 127.0.0.1:${control.port} (database ${auditDatabaseName})`);

    const appPort = await freePort();
    const dnsMappingFile = path.join(options.stateDir, 'dns.json');
    const configFile = writeWorkerConfig(options.stateDir, production, databaseName, control, auditWriterPassword, {
      appEnvFile: path.join(options.stateDir, 'app', 'financial-service.env'), appPort, dnsMappingFile, approvers: options.approvers ?? ['alice', 'bob', 'carol'],
    });
    const adapters = createAdapters(loadWorkerConfig(configFile));
    await markBaselineMigration(adapters, production, databaseName);

    // The application reaches its database through a name (db.mita.internal), as it would in production:
    // the region-outage runbook switches that name; the server-failure runbook repoints the app itself.
    if ((await adapters.dns.currentTarget(databaseHostName))?.target !== `127.0.0.1:${production.port}`) await adapters.dns.switchTarget(databaseHostName, `127.0.0.1:${production.port}`, { ttlSeconds: 1 });
    const endpoint = { host: databaseHostName, port: production.port, database: databaseName };
    const connection = await adapters.secrets.write(defaultAppConnectionSecret, databaseUrl({ ...endpoint, user: applicationRole, password: appPassword }));
    await adapters.appRuntime.pointAppAt({ database: 'production', endpoint, secret: { name: connection.name, version: connection.version } });
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
      databaseHostName,
      dnsMappingFile,
      async stop() {
        await app?.stop().catch((error: Error) => log(`could not stop the demo financial service: ${error.message}`));
        await stopPlatformInstances(platform).catch((error) => log(`could not stop platform instances: ${(error as Error).message}`));
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
    if (entry === 'app') stopDemoServices(full);
    rmSync(full, { recursive: true, force: true });
  }
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
export const databaseHostName = 'db.mita.internal';
const auditWriterRole = 'dr_audit_writer';

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

interface AppWiring { appEnvFile: string; appPort: number; dnsMappingFile: string; approvers: string[] }

function writeWorkerConfig(stateDir: string, production: PostgresCluster, databaseName: string, control: PostgresCluster, auditWriterPassword: string, wiring: AppWiring): string {
  const secretsDir = path.join(stateDir, 'secrets');
  mkdirSync(secretsDir, { recursive: true, mode: 0o700 });
  writeSecret(secretsDir, 'production-db-password', production.password);
  writeSecret(secretsDir, 'audit-db-password', auditWriterPassword);
  const config = {
    environment: 'local',
    secretsDir: 'secrets',
    databases: {
      production: { host: '127.0.0.1', port: production.port, database: databaseName, user: superuser, passwordSecret: 'production-db-password' },
      audit: { host: '127.0.0.1', port: control.port, database: auditDatabaseName, user: auditWriterRole, passwordSecret: 'audit-db-password' },
    },
    audit: { database: 'audit' },
    platform: { local: { stateDir: 'platform', stanza: 'production' } },
    objectStore: { directory: 'objects' },
    migrations: { directory: path.relative(stateDir, demoMigrationsDirectory) },
    app: { envFile: path.relative(stateDir, wiring.appEnvFile), port: wiring.appPort, command: demoServiceCommand(), workingDirectory: repoRoot, connectionSecret: defaultAppConnectionSecret, databaseRole: applicationRole },
    dns: { mappingFile: path.relative(stateDir, wiring.dnsMappingFile), defaultTtlSeconds: 1 },
    // Every gate of every scenario: one approval of three listed people; cutover gates keep the two-person rule.
    approvals: {
      gates: Object.fromEntries(['cutover', 'repair', 'dns-failover', 'rollback'].map((gate) => [gate, { approvers: wiring.approvers, quorum: 1 }])),
    },
  };
  const file = path.join(stateDir, 'dr-config.yaml');
  writeFileAtomic(file, '# Written by the local stack; names the databases the worker may reach.\n' + YAML.stringify(config), 0o644);
  return file;
}
