import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { randomUUID } from 'node:crypto';
import { Client as PgClient } from 'pg';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowFailedError } from '@temporalio/client';
import { seedFinancialDataset } from '../../demo/financial-dataset';
import { loadWorkerConfig } from '../../worker/config';
import { createRunbookWorker } from '../../worker/worker';
import { startTestStack } from '../support/stack';

// The first runbook step, for real: the real Temporal dev server, a real PostgreSQL 15, the real worker.
let stack: Awaited<ReturnType<typeof startTestStack>>;
let env: TestWorkflowEnvironment;

before(async () => {
  stack = await startTestStack();
  const db = new PgClient({ connectionString: stack.production.url(stack.databaseName) });
  await db.connect();
  await seedFinancialDataset(db, { users: 50, transactionsPerUser: 4 }, 7);
  await db.end();
  env = await TestWorkflowEnvironment.createFromExistingServer({ address: stack.temporal.address, namespace: stack.temporal.namespace });
});

after(async () => {
  await env?.teardown();
  await stack?.stop();
});

async function withWorker<T>(fn: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = `first-step-${randomUUID()}`;
  const { worker, run } = await createRunbookWorker({ connection: env.nativeConnection, namespace: stack.temporal.namespace, taskQueue, config: loadWorkerConfig(stack.configFile) });
  return worker.runUntil(fn(taskQueue)).finally(() => run);
}

test('assessDatabaseHealth reads now(), version() and the integrity totals from the real database', async () => {
  const expected = await (async () => {
    const db = new PgClient({ connectionString: stack.production.url(stack.databaseName) });
    await db.connect();
    const r = await db.query('SELECT (SELECT count(*) FROM users)::int u, (SELECT count(*) FROM transactions)::int t, (SELECT sum(amount) FROM transactions)::text s');
    await db.end();
    return r.rows[0] as { u: number; t: number; s: string };
  })();
  const workflowId = `assess-${randomUUID()}`;
  const result = await withWorker((taskQueue) =>
    env.client.workflow.execute('assessDatabaseHealth', { taskQueue, workflowId, args: [{ database: 'production', incidentId: 'INC-1' }] }),
  );
  assert.equal(result.database, 'production');
  assert.match(result.serverVersion, /^PostgreSQL 15\./);
  assert.equal(result.userCount, 50);
  assert.equal(result.userCount, expected.u);
  assert.equal(result.transactionCount, expected.t);
  assert.equal(result.totalAmount, expected.s);
  assert.ok(Math.abs(Date.parse(result.checkedAt) - Date.now()) < 60_000, 'checkedAt is the server clock, now');

  const description = await env.client.workflow.getHandle(workflowId).describe();
  assert.deepEqual(description.searchAttributes.DrScenario, ['assessment']);
  assert.deepEqual(description.searchAttributes.DrStatus, ['completed']);
  assert.deepEqual(description.searchAttributes.DrIncidentId, ['INC-1']);
  // The password lives in a secret file; it must not appear anywhere in the history.
  const history = JSON.stringify(await env.client.workflow.getHandle(workflowId).fetchHistory());
  const password = stack.production.password;
  assert.ok(!history.includes(password), 'the database password leaked into workflow history');
});

test('a bad input fails at once with InvalidInput naming the field, before any activity', async () => {
  const workflowId = `assess-bad-${randomUUID()}`;
  await withWorker(async (taskQueue) => {
    const error = await env.client.workflow
      .execute('assessDatabaseHealth', { taskQueue, workflowId, args: [{ database: 'postgres://user:pw@host/db' } as never] })
      .then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof WorkflowFailedError);
    const cause = error.cause as { type?: string; message: string };
    assert.equal(cause.type, 'InvalidInput');
    assert.match(cause.message, /^database: must be a config name/);
  });
  const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
  assert.ok(!history.events?.some((e) => e.activityTaskScheduledEventAttributes), 'no activity ran');
});

test('an assessment an alert asks for (page: true) pages people first, then assesses; without page no notification is sent', async () => {
  const paged = `assess-page-${randomUUID()}`;
  const quiet = `assess-quiet-${randomUUID()}`;
  await withWorker(async (taskQueue) => {
    await env.client.workflow.execute('assessDatabaseHealth', { taskQueue, workflowId: paged, args: [{ database: 'production', incidentId: 'ALERT-1', page: true, startedBy: 'alertmanager' }] });
    await env.client.workflow.execute('assessDatabaseHealth', { taskQueue, workflowId: quiet, args: [{ database: 'production' }] });
  });
  const scheduled = async (workflowId: string) => ((await env.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [])
    .map((e) => e.activityTaskScheduledEventAttributes)
    .filter((a): a is NonNullable<typeof a> => Boolean(a))
    .map((a) => ({ type: a.activityType?.name, input: JSON.parse(Buffer.from(a.input!.payloads![0]!.data!).toString('utf8')) as Record<string, unknown> }));
  const activities = await scheduled(paged);
  assert.deepEqual(activities.map((a) => a.type), ['notify', 'checkDatabaseHealth']);
  assert.deepEqual(activities[0]!.input, { kind: 'incident-opened', runbook: { workflowId: paged, scenario: 'assessment', environment: 'local', incidentId: 'ALERT-1', mode: 'real' }, startedBy: 'alertmanager' });
  assert.deepEqual((await scheduled(quiet)).map((a) => a.type), ['checkDatabaseHealth']);
});
