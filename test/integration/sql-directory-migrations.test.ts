import assert from 'node:assert/strict';
import { chmodSync, cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Pool } from 'pg';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { seedFinancialDataset } from '../../demo/financial-dataset';
import { createMigrationActivities } from '../../activities/migrations';
import { createSqlDirectoryMigrationTool } from '../../activities/adapters/local/sql-directory-migrations';
import { startPostgresCluster, type PostgresCluster } from '../../activities/adapters/local/postgres/cluster';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'dr-migrations-'));
chmodSync(tmp, 0o755);
const migrations = path.join(tmp, 'migrations');
cpSync(path.resolve(__dirname, '../../demo/migrations'), migrations, { recursive: true });
let cluster: PostgresCluster;
let pool: Pool;

before(async () => {
  cluster = await startPostgresCluster({ dir: path.join(tmp, 'pg') });
  pool = new Pool({ connectionString: cluster.url('postgres') });
  const client = await pool.connect();
  await seedFinancialDataset(client, { users: 20, transactionsPerUser: 3 }, 3);
  client.release();
});
after(async () => {
  await pool?.end();
  await cluster?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const tool = () => createSqlDirectoryMigrationTool(pool, migrations);
const activities = () => createMigrationActivities(async () => tool());
/** Runs an activity the way a worker would (activity context, heartbeats), keeping its result type. */
const run = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A) => new MockActivityEnvironment().run(fn, ...args) as Promise<R>;
const columnExists = async (column: string) =>
  (await pool.query(`SELECT 1 FROM information_schema.columns WHERE table_name = 'transactions' AND column_name = $1`, [column])).rowCount === 1;

test('migrate then roll back to the previous stable version with the down scripts', async () => {
  assert.deepEqual(await tool().migrate('0002'), ['0001', '0002']);
  assert.equal(await columnExists('category'), true);
  const plan = await run(activities().rollBackMigrations, { database: 'production', toVersion: '0001' });
  assert.deepEqual(plan.steps.map((s) => s.version), ['0002']);
  assert.equal(await columnExists('category'), false);
  const status = await run(activities().readMigrationStatus, { database: 'production' });
  assert.equal(status.current, '0001');
  assert.deepEqual(status.available.map((m) => [m.version, m.reversible]), [['0001', true], ['0002', true], ['0003', false]]);
});

test('a migration without a down script makes the rollback impossible, and nothing changes', async () => {
  await tool().migrate('0003');
  const before = (await pool.query('SELECT sum(amount)::text s FROM transactions')).rows[0].s;
  const plan = await run(activities().planMigrationRollback, { database: 'production', toVersion: '0001' });
  assert.deepEqual(plan.blockers, ['migration 0003 (convert_amounts_to_cents) has no down script']);
  const error = await run(activities().rollBackMigrations, { database: 'production', toVersion: '0001' }).then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof ApplicationFailure);
  assert.equal(error.type, 'RollbackImpossible');
  assert.equal(error.nonRetryable, true);
  assert.equal((await tool().status()).current, '0003');
  assert.equal(await columnExists('category'), true, '0002 was not undone either');
  assert.equal((await pool.query('SELECT sum(amount)::text s FROM transactions')).rows[0].s, before);
});

test('a down script that fails half-way leaves the schema exactly as it was', async () => {
  rmSync(path.join(migrations, '0003_convert_amounts_to_cents.up.sql'));
  await pool.query(`DELETE FROM schema_migrations WHERE version = '0003'`);
  // 0002's down drops the index, then fails: the whole rollback must be undone.
  writeFileSync(path.join(migrations, '0002_add_transaction_category.down.sql'), 'DROP INDEX transactions_category_idx;\nSELECT 1/0;\n');
  const error = await run(activities().rollBackMigrations, { database: 'production', toVersion: '0001' }).then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof ApplicationFailure);
  assert.match(error.message, /failed and was undone: division by zero/);
  assert.equal((await tool().status()).current, '0002');
  const index = await pool.query(`SELECT 1 FROM pg_indexes WHERE indexname = 'transactions_category_idx'`);
  assert.equal(index.rowCount, 1, 'the dropped index is back');
});

test('an unknown target version is a blocker, not a guess', async () => {
  const plan = await tool().planRollback('0042');
  assert.match(plan.blockers[0] ?? '', /target version 0042 was never applied/);
  assert.deepEqual(plan.steps, []);
});
