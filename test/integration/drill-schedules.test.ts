import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { startTemporalServer, type TemporalServer } from '../../stack/temporal-server';

// `dr drills …` against the real dev server: the schedule is a real Temporal Schedule.
const root = path.resolve(__dirname, '../..');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'dr-drills-'));
chmodSync(tmp, 0o755);
let server: TemporalServer;
let connection: Connection;
let client: Client;

before(async () => {
  server = await startTemporalServer({ stateDir: tmp });
  connection = await Connection.connect({ address: server.address });
  client = new Client({ connection });
});
after(async () => {
  await connection?.close();
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

function dr(...args: string[]) {
  const result = spawnSync(process.execPath, [path.join(root, 'client/bin/dr.js'), ...args], {
    cwd: root,
    env: { ...process.env, TEMPORAL_ADDRESS: server.address, DR_TASK_QUEUE: 'drill-test-queue' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

test('schedule, list, pause, unpause, trigger and delete a drill', async () => {
  const created = dr('drills', 'schedule', '--scenario', 'accidental-deletion', '--cron', '0 3 1 * *', '--as', 'alice');
  assert.equal(created.code, 0, created.err);
  assert.match(created.out, /scheduled dr-drill-accidental-deletion: runDrill accidental-deletion at "0 3 1 \* \*" \(UTC\)/);

  const description = await client.schedule.getHandle('dr-drill-accidental-deletion').describe();
  assert.equal(description.policies.overlap, 'SKIP');
  assert.equal(description.policies.pauseOnFailure, true);
  const action = description.action as { workflowType: string; taskQueue: string; args: Array<Record<string, unknown>> };
  assert.equal(action.workflowType, 'runDrill');
  assert.equal(action.taskQueue, 'drill-test-queue');
  assert.equal(action.args[0]?.scenario, 'accidental-deletion');
  assert.equal(description.info.nextActionTimes[0]?.getUTCHours(), 3);
  assert.equal(description.info.nextActionTimes[0]?.getUTCDate(), 1);

  const again = dr('drills', 'schedule', '--scenario', 'accidental-deletion', '--cron', '0 4 1 * *');
  assert.equal(again.code, 3, 'a second schedule for the same scenario is refused');
  assert.match(again.err, /already exists/);

  const listed = JSON.parse(dr('drills', 'list', '--json').out) as Array<{ scheduleId: string; cron: string; paused: boolean }>;
  assert.deepEqual(listed.map((v) => [v.scheduleId, v.cron, v.paused]), [['dr-drill-accidental-deletion', '0 3 1 * *', false]]);

  assert.equal(dr('drills', 'pause', '--scenario', 'accidental-deletion', '--as', 'bob').code, 0);
  let state = (await client.schedule.getHandle('dr-drill-accidental-deletion').describe()).state;
  assert.equal(state.paused, true);
  assert.equal(state.note, 'paused by bob');
  assert.equal(dr('drills', 'unpause', '--scenario', 'accidental-deletion').code, 0);
  state = (await client.schedule.getHandle('dr-drill-accidental-deletion').describe()).state;
  assert.equal(state.paused, false);

  assert.equal(dr('drills', 'trigger', '--scenario', 'accidental-deletion').code, 0);
  let started: string | undefined;
  for (let i = 0; i < 40 && !started; i++) {
    const recent = (await client.schedule.getHandle('dr-drill-accidental-deletion').describe()).info.recentActions;
    started = recent[0]?.action.workflow.workflowId;
    if (!started) await new Promise((r) => setTimeout(r, 250));
  }
  assert.ok(started !== undefined && started.startsWith('drill-accidental-deletion'), `a runDrill workflow was started (${started})`);
  const run = await client.workflow.getHandle(started).describe();
  assert.equal(run.type, 'runDrill');
  await client.workflow.getHandle(started).terminate('test over: no worker runs drills here');

  assert.equal(dr('drills', 'delete', '--scenario', 'accidental-deletion').code, 0);
  assert.equal(JSON.parse(dr('drills', 'list', '--json').out).length, 0);
});

test('bad arguments are refused with the field named and exit code 2, nothing created', async () => {
  const badScenario = dr('drills', 'schedule', '--scenario', 'meteor', '--cron', '0 3 1 * *');
  assert.equal(badScenario.code, 2);
  assert.match(badScenario.err, /--scenario: "meteor" is not a scenario/);
  const badCron = dr('drills', 'schedule', '--scenario', 'server-failure', '--cron', 'monthly');
  assert.equal(badCron.code, 2);
  assert.match(badCron.err, /--cron: "monthly" must have five fields/);
  const missing = dr('drills', 'pause', '--scenario', 'region-outage');
  assert.equal(missing.code, 1);
  assert.match(missing.err, /no such drill schedule/);
  const schedules = [];
  for await (const s of client.schedule.list()) schedules.push(s.scheduleId);
  assert.deepEqual(schedules, []);
});

test('dr backups: schedule, list, pause, unpause, trigger and delete the backups of a database (a real Temporal Schedule of backupWithBaseline)', async () => {
  const created = dr('backups', 'schedule', '--database', 'production', '--cron', '0 * * * *', '--as', 'alice');
  assert.equal(created.code, 0, created.err);
  assert.match(created.out, /scheduled dr-backup-production: backupWithBaseline production \(incr\) at "0 \* \* \* \*" \(UTC\)/);
  const description = await client.schedule.getHandle('dr-backup-production').describe();
  assert.equal(description.policies.overlap, 'SKIP');
  assert.equal(description.policies.pauseOnFailure, false, 'a failed backup does not stop the next one');
  const action = description.action as { workflowType: string; taskQueue: string; args: Array<Record<string, unknown>> };
  assert.equal(action.workflowType, 'backupWithBaseline');
  assert.deepEqual(action.args[0], { database: 'production', type: 'incr', environment: 'local', startedBy: 'schedule:dr-backup-production' }, 'the environment a failed restore test\'s page names: local unless --environment says otherwise');
  assert.equal(dr('backups', 'schedule', '--database', 'production', '--cron', '0 * * * *').code, 3, 'a second schedule for the same database is refused');

  const listed = JSON.parse(dr('backups', 'list', '--json').out) as Array<{ scheduleId: string; database: string; cron: string; paused: boolean }>;
  assert.deepEqual(listed.map((v) => [v.scheduleId, v.database, v.cron, v.paused]), [['dr-backup-production', 'production', '0 * * * *', false]]);
  assert.equal(JSON.parse(dr('drills', 'list', '--json').out).length, 0, 'drills and backups are listed apart');
  assert.equal(dr('backups', 'pause', '--database', 'production', '--as', 'bob').code, 0);
  assert.equal((await client.schedule.getHandle('dr-backup-production').describe()).state.note, 'paused by bob');
  assert.equal(dr('backups', 'unpause', '--database', 'production').code, 0);
  assert.equal(dr('backups', 'trigger', '--database', 'production').code, 0);
  let started: string | undefined;
  for (let i = 0; i < 40 && !started; i++) {
    started = (await client.schedule.getHandle('dr-backup-production').describe()).info.recentActions[0]?.action.workflow.workflowId;
    if (!started) await new Promise((r) => setTimeout(r, 250));
  }
  assert.ok(started !== undefined && started.startsWith('backup-production'), `a backupWithBaseline run was started (${started})`);
  assert.equal((await client.workflow.getHandle(started).describe()).type, 'backupWithBaseline');
  await client.workflow.getHandle(started).terminate('test over: no worker takes backups here');
  assert.equal(dr('backups', 'delete', '--database', 'production').code, 0);

  const bad = dr('backups', 'schedule', '--database', 'Production!', '--cron', '0 * * * *');
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--database: "Production!" must be a config name/);
  assert.match(dr('backups', 'schedule', '--database', 'production', '--cron', 'hourly').err, /--cron: "hourly" must have five fields/);
  assert.match(dr('backups', 'schedule', '--database', 'production', '--cron', '0 * * * *', '--type', 'weekly').err, /--type: "weekly" must be full, diff or incr/);
  assert.equal(dr('backups', 'pause', '--database', 'production').code, 1, 'no such schedule any more');
  assert.equal(JSON.parse(dr('backups', 'list', '--json').out).length, 0);
});
