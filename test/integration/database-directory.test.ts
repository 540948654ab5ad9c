import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Client } from 'pg';
import { startPostgresCluster, superuser, type PostgresCluster } from '../../activities/adapters/local/postgres/cluster';
import { workerConfigSchema } from '../../worker/config';
import { createDatabaseConnections } from '../../worker/database-connections';
import { createSecretsDirectory } from '../../activities/adapters/local/secrets-directory';

// The worker's pools outlive the servers they reach: a runbook deletes instances and fails over primaries.
const tmp = mkdtempSync(path.join(os.tmpdir(), 'dr-directory-'));
chmodSync(tmp, 0o755);
let cluster: PostgresCluster;
before(async () => { cluster = await startPostgresCluster({ dir: path.join(tmp, 'pg') }); });
after(async () => { await cluster?.stop(); rmSync(tmp, { recursive: true, force: true }); });

test('a server that kills a checked-out connection fails that query, and the worker process lives on', async () => {
  writeFileSync(path.join(tmp, 'db-password'), cluster.password);
  const config = workerConfigSchema.parse({ databases: { victim: { port: cluster.port, database: 'postgres', user: superuser, passwordSecret: 'db-password' } } });
  const directory = createDatabaseConnections(config, createSecretsDirectory(tmp));
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown) => uncaught.push(error);
  process.on('uncaughtException', onUncaught);
  try {
    const client = await (await directory.pool('victim')).connect();
    const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const sleeping = client.query('SELECT pg_sleep(30)').then(() => undefined, (e: Error) => e);
    const admin = new Client({ connectionString: cluster.url() });
    await admin.connect();
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    await admin.end();
    const error = await sleeping;
    assert.ok(error instanceof Error, 'the query in flight fails');
    await new Promise((r) => setTimeout(r, 200));
    client.release(true);
    assert.deepEqual(uncaught, [], 'no uncaught error event');
    assert.equal((await (await directory.pool('victim')).query('SELECT 1 AS one')).rows[0].one, 1, 'the pool serves the next query');
  } finally {
    process.off('uncaughtException', onUncaught);
    await directory.close();
  }
});
