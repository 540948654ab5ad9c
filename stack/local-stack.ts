import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import YAML from 'yaml';
import { installAuditSchema } from '../activities/audit';
import { startPostgresCluster, superuser, type PostgresCluster } from './postgres-cluster';
import { startTemporalServer, type TemporalServer } from './temporal-server';

export interface LocalStackOptions {
  stateDir: string;
  temporalPort?: number;
  temporalUiPort?: number;
  productionPort?: number;
  controlPort?: number;
  /** Name of the application database inside the production cluster. */
  databaseName?: string;
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
  stop(): Promise<void>;
}

/**
 * The embedded default: a real Temporal dev server and a real PostgreSQL 15 "production" cluster,
 * both on loopback, plus the worker config that names them. Stops only what it started.
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
    const production = await startPostgresCluster({ dir: path.join(options.stateDir, 'clusters', 'production'), port: options.productionPort });
    stopOnFailure.push(() => production.stop());
    await createDatabaseIfMissing(production, databaseName);
    log(`PostgreSQL "production" is up on 127.0.0.1:${production.port} (database ${databaseName})`);

    log('starting PostgreSQL 15 cluster "control" (audit trail)');
    const control = await startPostgresCluster({ dir: path.join(options.stateDir, 'clusters', 'control'), port: options.controlPort });
    stopOnFailure.push(() => control.stop());
    const auditWriterPassword = await prepareAuditDatabase(control, options.stateDir);
    log(`PostgreSQL "control" is up on 127.0.0.1:${control.port} (database ${auditDatabaseName})`);

    const configFile = writeWorkerConfig(options.stateDir, production, databaseName, control, auditWriterPassword);
    return {
      temporal,
      production,
      control,
      databaseName,
      configFile,
      async stop() {
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

export const auditDatabaseName = 'dr_audit';
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
  writeFileSync(path.join(secretsDir, name), value + '\n', { mode: 0o600 });
}

function writeWorkerConfig(stateDir: string, production: PostgresCluster, databaseName: string, control: PostgresCluster, auditWriterPassword: string): string {
  const secretsDir = path.join(stateDir, 'secrets');
  mkdirSync(secretsDir, { recursive: true, mode: 0o700 });
  writeSecret(secretsDir, 'production-db-password', decodeURIComponent(new URL(production.url()).password));
  writeSecret(secretsDir, 'audit-db-password', auditWriterPassword);
  const config = {
    environment: 'local',
    secretsDir: 'secrets',
    databases: {
      production: { host: '127.0.0.1', port: production.port, database: databaseName, user: superuser, passwordSecret: 'production-db-password' },
      audit: { host: '127.0.0.1', port: control.port, database: auditDatabaseName, user: auditWriterRole, passwordSecret: 'audit-db-password' },
    },
    audit: { database: 'audit' },
  };
  const file = path.join(stateDir, 'dr-config.yaml');
  writeFileSync(file, '# Written by the local stack; names the databases the worker may reach.\n' + YAML.stringify(config));
  return file;
}
