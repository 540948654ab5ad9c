import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { createLocalDatabasePlatform, enrolPrimaryInstance, prepareStanzaPrimary, startPostgresCluster, stopPlatformInstances, type LocalPlatformOptions, type PostgresCluster } from '../../activities/adapters/local/postgres';
import type { DatabasePlatform } from '../../activities/ports/database-platform';
import { createFinancialSchema, seedFinancialDataset } from '../../demo/financial-dataset';

export interface LocalPlatformStack {
  dir: string;
  /** The enrolled primary "production", archiving its WAL to pgBackRest. */
  production: PostgresCluster;
  databaseName: string;
  platform: DatabasePlatform;
  options: LocalPlatformOptions;
  stop(): Promise<void>;
}

/**
 * The local DatabasePlatform alone (no Temporal, no app): a real PostgreSQL 15 "production" archiving
 * to pgBackRest, enrolled under that name, with the financial schema (seeded when asked). For platform
 * tests and for the real databases that answer for a moto instance's endpoint.
 */
export async function startLocalPlatformStack(options: { seed?: { users: number; transactionsPerUser: number }; databaseName?: string } = {}): Promise<LocalPlatformStack> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dr-platform-'));
  chmodSync(dir, 0o755); // the unprivileged PostgreSQL user must be able to enter it
  const databaseName = options.databaseName ?? 'mita';
  const platformOptions: LocalPlatformOptions = { stateDir: path.join(dir, 'platform'), stanza: 'production', recoveryTimeoutMs: 120_000 };
  const productionDir = path.join(dir, 'clusters', 'production');
  let production: PostgresCluster | undefined;
  const stop = async () => {
    await stopPlatformInstances(platformOptions).catch(() => undefined);
    await production?.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    production = await startPostgresCluster({ dir: productionDir, settings: await prepareStanzaPrimary(platformOptions, productionDir) });
    const admin = new Client({ connectionString: production.url('postgres') });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${databaseName}"`).finally(() => admin.end());
    const db = new Client({ connectionString: production.url(databaseName) });
    await db.connect();
    try {
      await createFinancialSchema(db);
      if (options.seed) await seedFinancialDataset(db, options.seed, 5);
    } finally {
      await db.end();
    }
    await enrolPrimaryInstance(platformOptions, { instanceId: 'production', cluster: production, database: databaseName });
  } catch (error) {
    await stop();
    throw error;
  }
  return { dir, production, databaseName, platform: createLocalDatabasePlatform(platformOptions), options: platformOptions, stop };
}
