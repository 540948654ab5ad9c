import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { startPostgresCluster, type PostgresCluster } from '../../activities/adapters/local/postgres/cluster';

/** Real PostgreSQL 15 clusters in a fresh temp directory, for tests that need no Temporal server. */
export async function startTestClusters(names: string[]): Promise<{ dir: string; clusters: Record<string, PostgresCluster>; stop(): Promise<void> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dr-clusters-'));
  chmodSync(dir, 0o755); // the unprivileged PostgreSQL user must be able to enter it
  const clusters: Record<string, PostgresCluster> = {};
  const stop = async () => {
    for (const cluster of Object.values(clusters)) await cluster.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const name of names) clusters[name] = await startPostgresCluster({ dir: path.join(dir, name) });
  } catch (error) {
    await stop();
    throw error;
  }
  return { dir, clusters, stop };
}

export async function withClient<T>(url: string, fn: (db: Client) => Promise<T>): Promise<T> {
  const db = new Client({ connectionString: url });
  await db.connect();
  try {
    return await fn(db);
  } finally {
    await db.end();
  }
}

