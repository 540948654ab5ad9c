import { Client } from 'pg';
import type { PostgresCluster } from '../../activities/adapters/local/postgres/cluster';
import { applicationRole, createApplicationRole, seedFinancialDataset } from '../../demo/financial-dataset';
import { databaseUrl } from '../../lib/postgres-url';
import type { ContractDatabase } from '../contract/app-runtime-contract';
import { withClient } from './clusters';

/**
 * Two databases an application can be moved between, each a real cluster seeded differently, with the
 * application role and its own password: the AppRuntime contract's `a` and `b`.
 */
export async function appDatabases(clusters: Record<'a' | 'b', PostgresCluster>): Promise<Record<'a' | 'b', ContractDatabase>> {
  const databases = {} as Record<'a' | 'b', ContractDatabase>;
  for (const name of ['a', 'b'] as const) {
    const cluster = clusters[name];
    const password = `${name}-password-of-mita-app`;
    const systemIdentifier = await withClient(cluster.url(), async (db) => {
      await seedFinancialDataset(db, { users: 10, transactionsPerUser: 2 }, name === 'a' ? 1 : 2);
      await createApplicationRole(db, password);
      return (await db.query<{ id: string }>('SELECT system_identifier::text AS id FROM pg_control_system()')).rows[0]!.id;
    });
    const endpoint = { host: '127.0.0.1', port: cluster.port, database: 'postgres' };
    databases[name] = { name: `database-${name}`, endpoint, systemIdentifier, url: databaseUrl({ ...endpoint, user: applicationRole, password }) };
  }
  return databases;
}

/** What PostgreSQL answers to the application role signing in with this password: 'accepted', or its SQLSTATE (28P01: refused). */
export async function signInAsApplication(at: { host: string; port: number; database: string }, password: string): Promise<string> {
  const db = new Client({ ...at, user: applicationRole, password, connectionTimeoutMillis: 3000 });
  try {
    await db.connect();
    return 'accepted';
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  } finally {
    await db.end().catch(() => undefined);
  }
}
