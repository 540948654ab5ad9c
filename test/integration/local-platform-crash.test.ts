import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Client } from 'pg';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { seedFinancialDataset } from '../../demo/financial-dataset';
import { instanceIdFor } from '../../activities/platform-activities';
import { startTestStack } from '../support/stack';
import { startSteadyWriter } from '../support/steady-writer';
import { query, runActivity, testPlatform } from '../support/local-platform';
import { startPlatformWorker } from '../support/platform-worker';

// The worker dies (SIGKILL) in the middle of a point-in-time restore and a new worker takes over:
// the workflow completes with exactly one recovered instance, nothing left from the dead attempt.
let stack: Awaited<ReturnType<typeof startTestStack>>;
let env: TestWorkflowEnvironment;
let local: ReturnType<typeof testPlatform>;
const workers: ChildProcess[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  stack = await startTestStack();
  const db = new Client({ connectionString: stack.production.url(stack.databaseName) });
  await db.connect();
  await seedFinancialDataset(db, { users: 20, transactionsPerUser: 10 }, 9);
  await db.end();
  local = testPlatform(stack.stateDir);
  await runActivity(local.activities, 'takeDatabaseBackup', 'crash-setup', { database: 'production', type: 'full' }).result;
  env = await TestWorkflowEnvironment.createFromExistingServer({ address: stack.temporal.address, namespace: stack.temporal.namespace });
});

after(async () => {
  for (const worker of workers) if (worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
  for (const r of registry()) if (!r.protected) await local.platform.deleteInstance(r.instanceId).catch(() => undefined);
  await env?.teardown();
  await stack?.stop();
});

function registry(): Array<{ instanceId: string; status: string; protected: boolean; operationPgid?: number }> {
  const file = path.join(stack.stateDir, 'platform', 'instances.json');
  return existsSync(file) ? Object.values(JSON.parse(readFileSync(file, 'utf8')).instances) : [];
}

async function startWorker(taskQueue: string): Promise<ChildProcess> {
  const child = await startPlatformWorker({ temporalAddress: stack.temporal.address, taskQueue, configFile: stack.configFile });
  workers.push(child);
  return child;
}

/** Postmasters and pgBackRest commands running on behalf of the platform's instances. */
function processesUnder(dir: string): { postmasters: number; pgbackrest: number } {
  let postmasters = 0;
  let pgbackrest = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let args: string[];
    try { args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'); } catch { continue; }
    if (!args.some((a) => a.includes(dir))) continue;
    if (args[0]?.endsWith('/postgres') && args.includes('-D')) postmasters++;
    if (args[0]?.endsWith('pgbackrest')) pgbackrest++;
  }
  return { postmasters, pgbackrest };
}

test('SIGKILL of the worker mid-restore: the retry on a new worker replaces the half-built instance, exactly one remains', async (t) => {
  const appUrl = stack.production.url(stack.databaseName);
  const writer = await startSteadyWriter(appUrl, 20);
  await sleep(1500);
  const target = (await query<{ t: Date }>(appUrl, 'SELECT clock_timestamp() AS t'))[0]!.t;
  await sleep(1000);
  await writer.stop();

  const taskQueue = 'crash-restore';
  const workflowId = 'crash-restore-workflow';
  const instanceId = instanceIdFor(workflowId, 'restoreToPointInTime');
  const first = await startWorker(taskQueue);
  const handle = await env.client.workflow.start('restoreFixture', { taskQueue, workflowId, args: [{ database: 'production', target: { kind: 'time', time: target.toISOString() } }] });

  // Kill the worker while pgbackrest restore runs into the half-built instance.
  const deadline = Date.now() + 60_000;
  while (!registry().some((r) => r.instanceId === instanceId && r.status === 'creating' && r.operationPgid)) {
    assert.ok(Date.now() < deadline, 'the restore started');
    await sleep(10);
  }
  first.kill('SIGKILL');
  await new Promise((resolve) => first.once('exit', resolve));
  const instancesDir = path.join(stack.stateDir, 'platform', 'instances');
  const orphans = processesUnder(instancesDir);
  t.diagnostic(`at the kill: ${JSON.stringify(orphans)} left running by the dead worker; registry ${JSON.stringify(registry().find((r) => r.instanceId === instanceId))}`);

  await startWorker(taskQueue);
  const result = await handle.result();
  assert.equal(result.instance.instanceId, instanceId);
  assert.equal(result.reused, false, 'the half-built instance was replaced, not taken as finished');
  assert.ok(result.instance.acceptingConnections);
  assert.ok(result.recoveredTo.lastCommitAt && Date.parse(result.recoveredTo.lastCommitAt) <= target.getTime());

  const history = await handle.fetchHistory();
  const started = history.events!.filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes!.attempt);
  assert.ok(started.some((attempt) => (attempt ?? 0) >= 2), `the activity was retried after the crash (attempts ${started.join(', ')})`);

  const built = registry().filter((r) => !r.protected);
  assert.deepEqual(built.map((r) => [r.instanceId, r.status]), [[instanceId, 'available']], 'exactly one recovered instance');
  assert.deepEqual(readdirSync(instancesDir), [instanceId], 'exactly one instance directory');
  assert.deepEqual(processesUnder(instancesDir), { postmasters: 1, pgbackrest: 0 }, 'one postmaster, no pgBackRest left running');
  const rows = await query<{ late: number }>((await local.platform.connectionFor(instanceId))!, `SELECT count(*)::int AS late FROM transactions WHERE created_at > $1`, [target]);
  assert.equal(rows[0]!.late, 0, 'nothing inserted after the target');
});
