import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Client } from 'pg';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { seedFinancialDataset } from '../../demo/financial-dataset';
import { createDatabaseHealthActivities } from '../../activities/database-health';
import { instanceIdFor } from '../../activities/platform-activities';
import { stopPlatformInstances } from '../../activities/adapters/local/postgres/local-database-platform';
import { loadWorkerConfig } from '../../worker/config';
import { createDatabaseConnections } from '../../worker/database-connections';
import { createSecretsDirectory } from '../../activities/adapters/local/secrets-directory';
import { startTestStack } from '../support/stack';
import { startSteadyWriter } from '../support/steady-writer';
import { query, runActivity, testPlatform } from '../support/local-platform';

// Point-in-time restore for real: PostgreSQL 15 archiving to pgBackRest 2.45, driven through the activities.
let stack: Awaited<ReturnType<typeof startTestStack>>;
let local: ReturnType<typeof testPlatform>;
let appUrl: string;
const built: string[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  stack = await startTestStack();
  appUrl = stack.production.url(stack.databaseName);
  const db = new Client({ connectionString: appUrl });
  await db.connect();
  await seedFinancialDataset(db, { users: 20, transactionsPerUser: 10 }, 3);
  await db.end();
  local = testPlatform(stack.stateDir);
  const { result } = runActivity(local.activities, 'takeDatabaseBackup', 'pitr-setup', { database: 'production', type: 'full' });
  const backup = await result;
  assert.match(backup.label, /^\d{8}-\d{6}F$/);
});

after(async () => {
  for (const id of built) await local?.platform.deleteInstance(id).catch(() => undefined);
  await stack?.stop();
});

async function serverNow(): Promise<Date> {
  return (await query<{ t: Date }>(appUrl, 'SELECT clock_timestamp() AS t'))[0]!.t;
}

async function commitTimes(): Promise<Map<number, number>> {
  // Exact commit times (track_commit_timestamp is on in production), as epoch microseconds.
  const rows = await query<{ id: string; us: string }>(appUrl, `SELECT id::text, (extract(epoch FROM pg_xact_commit_timestamp(xmin)) * 1000000)::bigint::text AS us FROM transactions`);
  return new Map(rows.map((r) => [Number(r.id), Number(r.us)]));
}

test('backup, steady writes, DELETE at T, PITR to T-1s into a new instance: exactly the commits before the target, deleted rows back', async (t) => {
  const writer = await startSteadyWriter(appUrl, 20);
  let deletedIds: number[];
  let deletedAt: Date;
  let before: Map<number, number>;
  try {
    await sleep(3000);
    before = await commitTimes();
    deletedAt = await serverNow();
    deletedIds = (await query<{ id: string }>(appUrl, `DELETE FROM transactions WHERE id BETWEEN 1 AND 40 RETURNING id::text`)).map((r) => Number(r.id));
    await sleep(2000);
  } finally {
    await writer.stop();
  }
  assert.equal(deletedIds.length, 40);
  const after = await commitTimes();
  const all = new Map([...before, ...after]);
  const target = new Date(deletedAt.getTime() - 1000);
  const targetUs = target.getTime() * 1000;
  const expected = [...all].filter(([, us]) => us <= targetUs).map(([id]) => id).sort((a, b) => a - b);
  const lost = [...all].filter(([, us]) => us > targetUs).map(([id]) => id);
  assert.ok(lost.some((id) => !deletedIds.includes(id) && all.get(id)! < deletedAt.getTime() * 1000), 'some commits fall between the target and the DELETE (they must be absent)');

  const workflowId = 'pitr-accidental-deletion';
  const { result, heartbeats } = runActivity(local.activities, 'restoreToPointInTime', workflowId, { database: 'production', target: { kind: 'time', time: target.toISOString() } });
  const restored = await result;
  built.push(restored.instance.instanceId);
  assert.equal(restored.instance.instanceId, instanceIdFor(workflowId, 'restoreToPointInTime'));
  assert.equal(restored.reused, false);
  assert.equal(restored.instance.role, 'primary');
  assert.ok(restored.instance.acceptingConnections);
  assert.match(restored.recoveredTo.stopReason ?? '', /recovery stopping before commit/);
  assert.ok(restored.recoveredTo.lastCommitAt && Date.parse(restored.recoveredTo.lastCommitAt) <= target.getTime());
  assert.ok(heartbeats.some((h) => h.phase === 'restoring' && (h.bytesDone ?? 0) > 0 && h.bytesTotal), 'bytes restored were heartbeated');
  t.diagnostic(`measured RPO: target ${target.toISOString()}, newest recovered commit ${restored.recoveredTo.lastCommitAt}, data-loss window ${restored.dataLossWindowSeconds?.toFixed(3)} s; lost ${lost.length} later commits by design`);

  const connection = (await local.platform.connectionFor(restored.instance.instanceId))!;
  const recovered = (await query<{ id: string }>(connection, 'SELECT id::text FROM transactions')).map((r) => Number(r.id)).sort((a, b) => a - b);
  assert.deepEqual(recovered, expected, 'exactly the rows committed at or before the target');
  for (const id of deletedIds) assert.ok(recovered.includes(id), `deleted row ${id} is back`);

  // The same validation SQL the runbooks run reaches the instance by id, through the worker's directory.
  const config = loadWorkerConfig(stack.configFile);
  const directory = createDatabaseConnections(config, createSecretsDirectory(config.secretsDir), local.platform);
  try {
    const health = await createDatabaseHealthActivities(directory).checkDatabaseHealth({ database: restored.instance.instanceId });
    assert.equal(health.transactionCount, expected.length);
  } finally {
    await directory.close();
  }

  // A retry of the same step (a worker died after the restore finished) returns the same instance.
  const again = await runActivity(local.activities, 'restoreToPointInTime', workflowId, { database: 'production', target: { kind: 'time', time: target.toISOString() } }).result;
  assert.equal(again.reused, true);
  assert.equal(again.instance.endpoint.port, restored.instance.endpoint.port);
  assert.deepEqual(again.recoveredTo, restored.recoveredTo);
});

async function refused(input: { time: string }, workflowId: string): Promise<ApplicationFailure> {
  const error = await runActivity(local.activities, 'restoreToPointInTime', workflowId, { database: 'production', target: { kind: 'time', time: input.time } }).result.then(
    () => assert.fail('the restore was not refused'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ApplicationFailure, String(error));
  assert.equal(error.nonRetryable, true);
  const id = instanceIdFor(workflowId, 'restoreToPointInTime');
  assert.equal(await local.platform.connectionFor(id), undefined, 'no instance registered');
  assert.equal(existsSync(path.join(stack.stateDir, 'platform', 'instances', id)), false, 'no instance directory');
  return error;
}

test('a target after the newest archived WAL is refused clearly and creates nothing', async () => {
  const future = new Date((await serverNow()).getTime() + 3600_000).toISOString();
  const error = await refused({ time: future }, 'pitr-future');
  assert.match(error.message, /is after the newest archived WAL .*nothing was created/);
});

test('a target before the oldest backup is refused clearly and creates nothing', async () => {
  const [oldest] = await local.platform.listBackups('production');
  const early = new Date(Date.parse(oldest!.startedAt) - 3600_000).toISOString();
  const error = await refused({ time: early }, 'pitr-too-early');
  assert.match(error.message, new RegExp(`is before the oldest backup: backup set ${oldest!.label} finished at`));
});

test('a restore that cannot reach its target fails the step, says why, and leaves nothing behind', async () => {
  const workflowId = 'pitr-unknown-point';
  const error = await runActivity(local.activities, 'restoreToPointInTime', workflowId, { database: 'production', target: { kind: 'name', name: 'never-created' } }).result.then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof ApplicationFailure, String(error));
  assert.equal(error.type, 'PlatformVerificationError');
  assert.match(error.message, /failed: the archived WAL ends before the recovery target .*never-created.*recovery ended before configured recovery target was reached/s);
  const id = instanceIdFor(workflowId, 'restoreToPointInTime');
  assert.equal(await local.platform.connectionFor(id), undefined);
  assert.equal(existsSync(path.join(stack.stateDir, 'platform', 'instances', id)), false);
});

test('restoring a backup set to a new instance gives the database as it was when the backup finished', async () => {
  const [backup] = await local.platform.listBackups('production');
  const restored = await runActivity(local.activities, 'restoreBackupToNewInstance', 'server-failure', { database: 'production', backupLabel: backup!.label }).result;
  built.push(restored.instance.instanceId);
  assert.equal(restored.backupLabel, backup!.label);
  assert.equal(restored.instance.role, 'primary');
  assert.deepEqual(restored.instance.origin, { kind: 'backup', sourceInstanceId: 'production', backupLabel: backup!.label });
  const rows = await query<{ n: number }>((await local.platform.connectionFor(restored.instance.instanceId))!, 'SELECT count(*)::int AS n FROM transactions');
  assert.equal(rows[0]!.n, 200, 'the seeded rows, none of the later writes');
  await query((await local.platform.connectionFor(restored.instance.instanceId))!, `INSERT INTO audit_logs (action) VALUES ('writable')`);

  // Stopped (the stack went down), then asked for again: it is started with the settings it was built with.
  await stopPlatformInstances({ stateDir: path.join(stack.stateDir, 'platform'), stanza: 'production' });
  assert.equal((await local.platform.describeInstance(restored.instance.instanceId)).acceptingConnections, false);
  const back = await runActivity(local.activities, 'waitUntilDatabaseAvailable', 'server-failure', { instanceId: restored.instance.instanceId }).result;
  assert.equal(back.acceptingConnections, true);
  const again = await query<{ n: number }>((await local.platform.connectionFor(restored.instance.instanceId))!, `SELECT count(*)::int AS n FROM audit_logs WHERE action = 'writable'`);
  assert.equal(again[0]!.n, 1);
});

test('pgbackrest verify checks the backups and the archive', async () => {
  const verification = await runActivity(local.activities, 'verifyDatabaseBackups', 'drill', { database: 'production' }).result;
  assert.equal(verification.ok, true, verification.report);
  assert.match(verification.report, /stanza: production\s+status: ok/);
});

test('cancelling a restore stops pgbackrest and removes the half-built instance', async () => {
  const workflowId = 'pitr-cancelled';
  const id = instanceIdFor(workflowId, 'restoreBackupToNewInstance');
  let sawHalfBuilt = false;
  const { result } = runActivity(local.activities, 'restoreBackupToNewInstance', workflowId, { database: 'production' }, (beat, env) => {
    // Mid-restore: pgbackrest has written at least one file.
    if (beat.phase === 'restoring' && (beat.bytesDone ?? 0) > 0 && !sawHalfBuilt) {
      sawHalfBuilt = existsSync(path.join(stack.stateDir, 'platform', 'instances', id, 'data'));
      env.cancel();
    }
  });
  const error = await result.then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof CancelledFailure, `expected a cancellation, got ${String(error)}`);
  assert.ok(sawHalfBuilt, 'the instance was half-built when cancelled');
  assert.equal(await local.platform.connectionFor(id), undefined, 'the half-built instance is no longer registered');
  assert.equal(existsSync(path.join(stack.stateDir, 'platform', 'instances', id)), false, 'its directory is removed');
  assert.deepEqual(processesMentioning(id), [], 'no pgbackrest or postgres process is left for it');
});

function processesMentioning(text: string): string[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).flatMap((pid) => {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      return cmdline.includes(text) ? [cmdline] : [];
    } catch {
      return [];
    }
  });
}

test('a named restore point before a bad migration: PITR to the name stops exactly there', async () => {
  const balances = async (url: string | Awaited<ReturnType<typeof local.platform.connectionFor>>) => (await query<{ s: string }>(url!, 'SELECT sum(balance)::text AS s FROM accounts'))[0]!.s;
  const beforeMigration = await balances(appUrl);
  const point = await runActivity(local.activities, 'createRestorePoint', 'failed-migration', { database: 'production', name: 'before-migration-42' }).result;
  assert.match(point.lsn, /^[0-9A-F]+\/[0-9A-F]+$/);
  const again = await runActivity(local.activities, 'createRestorePoint', 'failed-migration', { database: 'production', name: 'before-migration-42' }).result;
  assert.deepEqual(again, point, 'a retried step returns the same restore point');
  await query(appUrl, 'UPDATE accounts SET balance = 0'); // the "migration" that corrupts data
  assert.equal(await balances(appUrl), '0.00');

  const restored = await runActivity(local.activities, 'restoreToPointInTime', 'failed-migration', { database: 'production', target: { kind: 'name', name: 'before-migration-42' } }).result;
  built.push(restored.instance.instanceId);
  assert.match(restored.recoveredTo.stopReason ?? '', /recovery stopping at restore point "before-migration-42"/);
  assert.equal(await balances(await local.platform.connectionFor(restored.instance.instanceId)), beforeMigration);
});
