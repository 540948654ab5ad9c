import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Pool } from 'pg';
import type { DatabaseDirectory } from '../../activities';
import { seedFinancialDataset, type DatasetSize } from '../../demo/financial-dataset';
import { startPostgresCluster, type PostgresCluster } from '../../activities/adapters/local/postgres/cluster';

export interface TestPostgres {
  cluster: PostgresCluster;
  /** Resolves the databases created with `createDatabase` by name, like the worker's directory. */
  databases: DatabaseDirectory;
  /** Creates an empty database, or one seeded with the financial dataset. */
  createDatabase(name: string, dataset?: { size: DatasetSize; seed: number }): Promise<Pool>;
  /** Runs SQL as the superuser on one database (for planting corruption); the last statement's rows. */
  sql(name: string, text: string, values?: unknown[]): Promise<Record<string, unknown>[]>;
  stop(): Promise<void>;
}

/** One real PostgreSQL 15 cluster in a temporary directory, for one test file. */
export async function startTestPostgres(): Promise<TestPostgres> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dr-pg-test-'));
  chmodSync(dir, 0o755); // the unprivileged PostgreSQL user must be able to enter it
  const cluster = await startPostgresCluster({ dir: path.join(dir, 'cluster') });
  const pools = new Map<string, Pool>();
  const databases: DatabaseDirectory = {
    async pool(name) {
      const pool = pools.get(name);
      if (!pool) throw new Error(`database "${name}" is not in the worker config (known: ${[...pools.keys()].join(', ') || 'none'})`);
      return pool;
    },
  };
  const admin = async <T>(database: string, fn: (c: Client) => Promise<T>): Promise<T> => {
    const client = new Client({ connectionString: cluster.url(database) });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  };
  return {
    cluster,
    databases,
    async createDatabase(name, dataset) {
      await admin('postgres', (c) => c.query(`CREATE DATABASE "${name}"`));
      if (dataset) await admin(name, (c) => seedFinancialDataset(c, dataset.size, dataset.seed));
      const pool = new Pool({ connectionString: cluster.url(name), max: 4 });
      pools.set(name, pool);
      return pool;
    },
    sql: (name, text, values) => admin(name, async (c) => {
      // Several statements give one result each: the last one's rows are the answer.
      const result: unknown = await c.query(text, values);
      const last = (Array.isArray(result) ? result[result.length - 1] : result) as { rows: Record<string, unknown>[] };
      return last.rows;
    }),
    async stop() {
      await Promise.all([...pools.values()].map((p) => p.end()));
      await cluster.stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
