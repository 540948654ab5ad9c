import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { InstanceRegistry } from '../../activities/adapters/local/postgres/instance-registry';
import { loadWorkerConfig, type WorkerConfig } from '../../worker/config';
import { createRunbookWorker } from '../../worker/worker';
import { scenarios } from '../../workflows/scenarios';
import { runbookOutcome } from '../support/scenario-stack';
import { startTestStack } from '../support/stack';

// Inputs that name things are checked against what exists before anything is built (issue 11): each
// scenario refuses an unknown database, replica, table or migration version, and the DR tool's own audit
// database (under its name or another), naming the field and the known values, before any step runs.
let stack: Awaited<ReturnType<typeof startTestStack>>;
let config: WorkerConfig;
let nativeConnection: NativeConnection;
let connection: Connection;
let client: Client;
let stopWorker: () => Promise<void>;
const taskQueue = `targets-${randomUUID()}`;

before(async () => {
  stack = await startTestStack();
  config = loadWorkerConfig(stack.configFile);
  // A second name for the audit database: it is still the DR tool's own.
  config.databases.reports = { ...config.databases.audit! };
  nativeConnection = await NativeConnection.connect({ address: stack.temporal.address });
  const { worker, run } = await createRunbookWorker({ connection: nativeConnection, namespace: stack.temporal.namespace, taskQueue, config });
  const running = run();
  stopWorker = async () => {
    worker.shutdown();
    await running;
  };
  connection = await Connection.connect({ address: stack.temporal.address });
  client = new Client({ connection, namespace: stack.temporal.namespace });
});

after(async () => {
  await stopWorker?.();
  await connection?.close();
  await nativeConnection?.close();
  await stack?.stop();
});

const instances = () => new InstanceRegistry(path.join(config.platform!.local!.stateDir, 'instances.json')).all().map((r) => r.instanceId).sort();
/** The activities a run scheduled, in order. */
async function activitiesOf(workflowId: string): Promise<string[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).flatMap((e) => (e.activityTaskScheduledEventAttributes?.activityType?.name ? [e.activityTaskScheduledEventAttributes.activityType.name] : []));
}

const base = { incidentId: 'INC-TARGET', startedBy: 'alice' };
const cases: Array<[keyof typeof scenarios, Record<string, unknown>, RegExp]> = [
  ['accidental-deletion', { targetTime: '2026-11-23T03:00:00Z', database: 'prodution' }, /database: "prodution" is not a database of this worker's config \(application databases: "production"\)/],
  ['accidental-deletion', { targetTime: '2026-11-23T03:00:00Z', database: 'audit' }, /database: "audit" is the DR tool's own audit database, never a runbook's target/],
  ['accidental-deletion', { targetTime: '2026-11-23T03:00:00Z', database: 'reports' }, /database: "reports" is the same database as "audit", the DR tool's own audit database/],
  ['accidental-deletion', { targetTime: '2026-11-23T03:00:00Z', tables: ['users', 'transactionz'] }, /tables: "transactionz" is not a table of production \(its tables: .*"transactions".*\)/],
  ['failed-migration', { toVersion: '0009', migrationStartedAt: '2026-11-23T03:00:00Z' }, /toVersion: "0009" is not a migration version of production \(known versions: "0001", "0002", "0003"; applied: 0001\)/],
  ['failed-migration', { toVersion: '0001', migrationStartedAt: '2026-11-23T03:00:00Z', database: 'audit' }, /database: "audit" is the DR tool's own audit database/],
  ['server-failure', { replica: 'standbye', checks: 2, checkIntervalSeconds: 1 }, /replica: "standbye" is not an instance of the database platform: instance "standbye" does not exist \(known: production\)/],
  ['server-failure', { database: 'audit', checks: 2, checkIntervalSeconds: 1 }, /database: "audit" is the DR tool's own audit database/],
  ['region-outage', { replica: 'dr-replika' }, /replica: "dr-replika" is not an instance of the database platform: instance "dr-replika" does not exist \(known: production\)/],
  ['region-outage', { replica: 'dr-replica', database: 'reports' }, /database: "reports" is the same database as "audit"/],
];

for (const [scenario, fields, reason] of cases) {
  test(`${scenario} refuses ${JSON.stringify(fields)} before any step runs, naming the field and the known values`, async () => {
    const workflowId = `targets-${scenario}-${randomUUID()}`;
    await client.workflow.start(scenarios[scenario].workflowType, { taskQueue, workflowId, args: [{ ...base, ...fields }] });
    const result = await runbookOutcome<unknown>(client, workflowId);
    assert.equal(result.verdict, 'failed');
    assert.match(result.verdictDetail!, reason);
    assert.match(result.verdictDetail!, /nothing was built$/);
    assert.deepEqual(result.timeline.map((e) => e.step), ['runbook ended'], 'no step ran');
    const ran = await activitiesOf(workflowId);
    assert.deepEqual(ran.filter((a) => !['loadRunbookPlan', 'checkRunbookTargets', 'appendAuditEntries', 'notify', 'publishRunbookReport'].includes(a)), [], `only the checks and the record: ${ran.join(', ')}`);
    assert.deepEqual(instances(), ['production'], 'nothing was built');
  });
}

test('an unknown extra field is named in the workflow\'s own failure, with the field meant', async () => {
  const workflowId = `targets-extra-${randomUUID()}`;
  const handle = await client.workflow.start('recoverFromServerFailure', { taskQueue, workflowId, args: [{ ...base, replcia: 'standby' }] });
  const error = await handle.result().then(() => undefined, (e: unknown) => e as { cause?: { type?: string; message?: string } });
  assert.equal(error?.cause?.type, 'InvalidInput');
  assert.match(error!.cause!.message!, /^"replcia": is not a field of this input \(did you mean replica\?\)$/);
  assert.deepEqual(await activitiesOf(workflowId), []);
});

test('a correct input passes the check, and the runbook goes on to its first step', async () => {
  const workflowId = `targets-ok-${randomUUID()}`;
  const handle = await client.workflow.start('recoverFromFailedMigration', { taskQueue, workflowId, args: [{ ...base, toVersion: '0001', migrationStartedAt: new Date(Date.now() - 60_000).toISOString() }] });
  let ran: string[] = [];
  for (let i = 0; i < 100 && !ran.includes('checkDatabaseHealth'); i++) {
    await new Promise((r) => setTimeout(r, 200));
    ran = await activitiesOf(workflowId);
  }
  assert.deepEqual(ran.slice(0, 3), ['loadRunbookPlan', 'checkRunbookTargets', 'checkDatabaseHealth']);
  await handle.cancel();
  await handle.result().catch(() => undefined);
});
