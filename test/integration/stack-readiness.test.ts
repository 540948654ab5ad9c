import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { checkReadinessNow, readinessScheduleId } from '../../client/readiness';
import { readinessFailures } from '../../contracts/stack-readiness';
import { createAdapters } from '../../worker/adapters';
import { startScenarioStack, type ScenarioStack } from '../support/scenario-stack';

// `dr readiness` on the embedded stack, for real: the Temporal dev server, the worker with every activity,
// production PostgreSQL archiving its WAL to pgBackRest. Healthy, it passes; with the RPO shorter than the
// newest backup's age, it fails naming backup-age; with archive_command failing, it fails naming wal-archive.
const root = path.join(__dirname, '..', '..');
const drBinary = path.join(root, 'client', 'bin', 'dr.js');
let s: ScenarioStack;

before(async () => {
  s = await startScenarioStack({ users: 20, transactionsPerUser: 3 });
});

after(async () => {
  await s?.stop();
});

function dr(taskQueue: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [drBinary, ...args], {
      cwd: root,
      timeout: 120_000,
      env: { ...process.env, TEMPORAL_ADDRESS: s.stack.temporal.address, TEMPORAL_NAMESPACE: s.stack.temporal.namespace, DR_TASK_QUEUE: taskQueue },
    }, (error, stdout, stderr) => resolve({ code: error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : 1) : 0, stdout, stderr }));
  });
}

test('the local stack schedules the readiness check every 15 minutes', async () => {
  const d = await s.client.schedule.getHandle(readinessScheduleId).describe();
  assert.equal(d.action.type, 'startWorkflow');
  assert.equal(d.action.workflowType, 'checkReadiness');
  assert.deepEqual(d.spec.intervals?.map((i) => i.every), [15 * 60_000]);
  assert.equal(d.state.paused, false);
});

test('dr readiness passes on a healthy stack, and writes its report', async () => {
  const run = await dr(s.taskQueue, 'readiness');
  assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
  assert.match(run.stdout, /READY/);
  assert.match(run.stdout, /ok {3}backup-age \(production\)/);
  assert.match(run.stdout, /ok {3}wal-archive \(production\)/);
  assert.match(run.stdout, /ok {3}repository-space \(production\)/);
  assert.match(run.stdout, /ok {3}reachability \(database production\)/);
  assert.match(run.stdout, /ok {3}secrets \(audit-head-/);
  assert.match(run.stdout, /warn approvers \(/, 'the embedded stack\'s votes need no proof: a warning, not a failure');
  const report = run.stdout.match(/report (readiness\/\S+\.json)/)![1]!;
  const stored = JSON.parse((await createAdapters(s.config).objectStore.get(report))!.toString('utf8')) as { ready: boolean; lines: unknown[] };
  assert.equal(stored.ready, true);
  assert.ok(stored.lines.length >= 8);
});

test('dr readiness fails naming backup-age when the newest backup is older than the RPO', async () => {
  const taskQueue = await s.startWorker((c) => ({ ...c, objectives: { ...c.objectives, default: { rto: '1 hour', rpo: '2 seconds' } } }));
  await new Promise((r) => setTimeout(r, 2500));
  const run = await dr(taskQueue, 'readiness');
  assert.equal(run.code, 1, `${run.stdout}\n${run.stderr}`);
  assert.match(run.stderr, /not ready for a recovery: .*backup-age \(production\)/);
  assert.match(run.stdout, /FAIL backup-age \(production\): the newest good backup of production finished .* OLDER THAN the objective of 2 s/);
});

test('dr readiness fails naming wal-archive when archive_command fails on the real PostgreSQL', async () => {
  await s.production(async (db) => {
    await db.query(`ALTER SYSTEM SET archive_command = '/bin/false'`);
    await db.query('SELECT pg_reload_conf()');
  });
  try {
    await s.production(async (db) => {
      await db.query('CREATE TABLE IF NOT EXISTS readiness_probe (at timestamptz)');
      await db.query('INSERT INTO readiness_probe VALUES (now())');
      await db.query('SELECT pg_switch_wal()');
      const deadline = Date.now() + 30_000;
      while ((await db.query<{ failed: string }>('SELECT failed_count::text AS failed FROM pg_stat_archiver')).rows[0]!.failed === '0') {
        if (Date.now() > deadline) throw new Error('archive_command never failed');
        await new Promise((r) => setTimeout(r, 250));
      }
    });
    const result = await checkReadinessNow(s.client, s.taskQueue);
    assert.equal(result.ready, false);
    const failures = readinessFailures(result);
    assert.ok(failures.some((f) => /^wal-archive \(production\): archive_command is failing/.test(f)), failures.join('\n'));
    const run = await dr(s.taskQueue, 'readiness');
    assert.equal(run.code, 1);
    assert.match(run.stderr, /not ready for a recovery: .*wal-archive \(production\)/);
  } finally {
    await s.production(async (db) => {
      await db.query('ALTER SYSTEM RESET archive_command');
      await db.query('SELECT pg_reload_conf()');
      await db.query('DROP TABLE IF EXISTS readiness_probe');
    });
  }
});
