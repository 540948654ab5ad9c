import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Client } from 'pg';
import { ApplicationFailure } from '@temporalio/common';
import { seedFinancialDataset } from '../../demo/financial-dataset';
import { startTestStack } from '../support/stack';
import { startSteadyWriter } from '../support/steady-writer';
import { query, runActivity, testPlatform } from '../support/local-platform';
import { bytesBehind } from '../../contracts/replica-lag';

// A streaming replica built by pgBackRest (restore --type=standby) under write load, then promoted.
let stack: Awaited<ReturnType<typeof startTestStack>>;
let local: ReturnType<typeof testPlatform>;
let appUrl: string;
const built: string[] = [];

before(async () => {
  stack = await startTestStack();
  appUrl = stack.production.url(stack.databaseName);
  const db = new Client({ connectionString: appUrl });
  await db.connect();
  await seedFinancialDataset(db, { users: 20, transactionsPerUser: 10 }, 5);
  await db.end();
  local = testPlatform(stack.stateDir);
});

after(async () => {
  for (const id of built) await local?.platform.deleteInstance(id).catch(() => undefined);
  await stack?.stop();
});

test('a replica needs a backup first: refused clearly', async () => {
  const error = await runActivity(local.activities, 'createReplica', 'replica-no-backup', { database: 'production' }).result.then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof ApplicationFailure);
  assert.match(error.message, /has no backup yet: a replica is built from the newest backup/);
});

test('replica created under write load reports its lag, is promoted and accepts writes', async (t) => {
  await runActivity(local.activities, 'takeDatabaseBackup', 'replica-setup', { database: 'production', type: 'full' }).result;
  const writer = await startSteadyWriter(appUrl, 20);
  let replicaId: string;
  try {
    const created = await runActivity(local.activities, 'createReplica', 'server-failure-drill', { database: 'production' }).result;
    replicaId = created.instance.instanceId;
    built.push(replicaId);
    assert.equal(created.instance.role, 'replica');
    const described = await runActivity(local.activities, 'describeDatabaseInstance', 'server-failure-drill', { instanceId: replicaId }).result;
    assert.equal(described.role, 'replica');
    assert.equal(described.replication?.sourceInstanceId, 'production');
    assert.equal(described.replication?.streaming, true);
    assert.ok(bytesBehind(described.replication!.lag)! >= 0 && described.replication!.lagSeconds >= 0);
    assert.match(described.replayLsn ?? '', /^[0-9A-F]+\/[0-9A-F]+$/);
    t.diagnostic(`replica lag under ~20 commits/s: ${bytesBehind(described.replication!.lag)} bytes, ${described.replication!.lagSeconds.toFixed(3)} s`);
    const production = await local.platform.describeInstance('production');
    assert.equal(production.role, 'primary');
    assert.match(production.currentLsn ?? '', /^[0-9A-F]+\/[0-9A-F]+$/);
  } finally {
    await writer.stop();
  }
  const onPrimary = await query<{ n: string }>(appUrl, 'SELECT count(*)::text AS n FROM transactions');
  const connection = (await local.platform.connectionFor(replicaId))!;
  // Replication catches up once the writer stops: the replica holds every committed row.
  const deadline = Date.now() + 30_000;
  while ((await query<{ n: string }>(connection, 'SELECT count(*)::text AS n FROM transactions'))[0]!.n !== onPrimary[0]!.n) {
    assert.ok(Date.now() < deadline, 'the replica caught up with the primary');
    await new Promise((r) => setTimeout(r, 200));
  }
  await assert.rejects(query(connection, `INSERT INTO audit_logs (action) VALUES ('before promotion')`), /read-only transaction/);

  const promoted = await runActivity(local.activities, 'promoteReplica', 'server-failure-drill', { instanceId: replicaId }).result;
  assert.equal(promoted.role, 'primary');
  assert.equal(promoted.replication, undefined);
  await query(connection, `INSERT INTO audit_logs (action) VALUES ('after promotion')`);
  const rows = await query<{ action: string }>(connection, `SELECT action FROM audit_logs WHERE action = 'after promotion'`);
  assert.equal(rows.length, 1);
  // Promotion is idempotent: a retried promote returns the primary unchanged.
  const again = await runActivity(local.activities, 'promoteReplica', 'server-failure-drill', { instanceId: replicaId }).result;
  assert.equal(again.role, 'primary');

  const refused = await runActivity(local.activities, 'deleteDatabaseInstance', 'server-failure-drill', { instanceId: 'production' }).result.then(() => undefined, (e: unknown) => e);
  assert.ok(refused instanceof ApplicationFailure);
  assert.match(refused.message, /is protected/);
  const deleted = await runActivity(local.activities, 'deleteDatabaseInstance', 'server-failure-drill', { instanceId: replicaId }).result;
  assert.equal(deleted.deleted, true);
  assert.equal(await local.platform.connectionFor(replicaId), undefined);
});
