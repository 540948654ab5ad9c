import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
  /**
   * Creates an empty database, or one seeded with the financial dataset, or a copy of `template` (a byte
   * copy, as a restore would give). A template must have no pool (`pool: false`): PostgreSQL copies only
   * a database nobody is connected to.
   */
  createDatabase(name: string, dataset?: { size: DatasetSize; seed: number }, options?: { template?: string; pool?: boolean }): Promise<Pool | undefined>;
  /** Closes a database's pool and drops it (a test with many copies stays under max_connections). */
  dropDatabase(name: string): Promise<void>;
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
  // As the worker's pools do (worker/database-connections.ts): a connection the server drops while
  // idle, or between two queries of a checked-out client, must not crash the test file with an
  // unhandled 'error' event after its test ended. A query on it still rejects and fails its test;
  // the drops are printed when the cluster stops, with the server's log, so a crash stays visible.
  const dropped: string[] = [];
  const noteDrop = (error: Error) => void dropped.push(error.message);
  const databases: DatabaseDirectory = {
    async pool(name) {
      const pool = pools.get(name);
      if (!pool) throw new Error(`database "${name}" is not in the worker config (known: ${[...pools.keys()].join(', ') || 'none'})`);
      return pool;
    },
  };
  const admin = async <T>(database: string, fn: (c: Client) => Promise<T>): Promise<T> => {
    const client = new Client({ connectionString: cluster.url(database) });
    client.on('error', noteDrop);
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
    async createDatabase(name, dataset, options = {}) {
      await admin('postgres', (c) => c.query(`CREATE DATABASE "${name}"${options.template ? ` TEMPLATE "${options.template}"` : ''}`));
      if (dataset) await admin(name, (c) => seedFinancialDataset(c, dataset.size, dataset.seed));
      if (options.pool === false) return undefined;
      const pool = new Pool({ connectionString: cluster.url(name), max: 4 });
      pool.on('error', noteDrop);
      pool.on('connect', (client) => client.on('error', noteDrop));
      pools.set(name, pool);
      return pool;
    },
    async dropDatabase(name) {
      await pools.get(name)?.end();
      pools.delete(name);
      await admin('postgres', (c) => c.query(`DROP DATABASE IF EXISTS "${name}"`));
    },
    sql: (name, text, values) => admin(name, async (c) => {
      // Several statements give one result each: the last one's rows are the answer.
      const result: unknown = await c.query(text, values);
      const last = (Array.isArray(result) ? result[result.length - 1] : result) as { rows: Record<string, unknown>[] };
      return last.rows;
    }),
    async stop() {
      await Promise.all([...pools.values()].map((p) => p.end()));
      if (dropped.length) console.error(`test PostgreSQL on port ${cluster.port} dropped ${dropped.length} connection(s): ${[...new Set(dropped)].join('; ')}\n${serverLogTail(cluster.dir)}`);
      await cluster.stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function serverLogTail(clusterDir: string): string {
  const log = path.join(clusterDir, 'postgres.log');
  return existsSync(log) ? readFileSync(log, 'utf8').trimEnd().split('\n').slice(-20).join('\n') : '(no server log)';
}
