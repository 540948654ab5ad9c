import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { Client as PgClient } from 'pg';
import { seedFinancialDataset } from '../../demo/financial-dataset';
import { startSteadyWriter } from '../../demo/steady-writer';
import { freePort } from '../../lib/ports';
import { statusQuery } from '../../workflows/messages';
import type { RunbookResult } from '../../contracts/runbook-status';
import { loadWorkerConfig } from '../../worker/config';
import { createAdapters } from '../../worker/adapters';
import { createRunbookWorker } from '../../worker/worker';
import { startTestStack } from '../support/stack';
import {
  launchBrowser,
  readWorkflowPanelFromUi,
  readWorkflowStatusFromUi,
  signalWorkflowFromUi,
  skipWithoutChromium,
  startWorkflowFromUi,
  type WebUiBrowser,
} from '../support/temporal-web-ui';

// What an incident commander does at 3 a.m.: start a runbook from the Temporal Web UI's form and
// unblock its approval gate from the UI's signal dialog. Real dev server + UI, real worker, real Chromium.
const skip = skipWithoutChromium('the Web UI test');

describe('Temporal Web UI', { skip }, () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let browser: WebUiBrowser;
  let connection: NativeConnection;
  let clientConnection: Connection;
  let client: Client;
  const workers: Array<{ shutdown(): void; done: Promise<void> }> = [];
  const fixtureQueue = `web-ui-fixture-${randomUUID()}`;
  const runbookQueue = `web-ui-runbooks-${randomUUID()}`;
  const ui = () => ({ uiUrl: stack.temporal.uiUrl as string, namespace: stack.temporal.namespace });

  before(async () => {
    stack = await startTestStack({ temporalUiPort: await freePort() });
    connection = await NativeConnection.connect({ address: stack.temporal.address });
    clientConnection = await Connection.connect({ address: stack.temporal.address });
    client = new Client({ connection: clientConnection, namespace: stack.temporal.namespace });

    const fixture = await Worker.create({
      connection,
      namespace: stack.temporal.namespace,
      taskQueue: fixtureQueue,
      workflowsPath: require.resolve('../fixtures/workflows/web-ui-fixture'),
    });
    workers.push({ shutdown: () => fixture.shutdown(), done: fixture.run() });
    const runbooks = await createRunbookWorker({ connection, namespace: stack.temporal.namespace, taskQueue: runbookQueue, config: loadWorkerConfig(stack.configFile) });
    workers.push({ shutdown: () => runbooks.worker.shutdown(), done: runbooks.run() });

    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    for (const worker of workers) worker.shutdown();
    await Promise.allSettled(workers.map((worker) => worker.done));
    await connection?.close();
    await clientConnection?.close();
    await stack?.stop();
  });

  test('a workflow started from the UI form and approved from the UI signal dialog completes with both payloads', { timeout: 60_000 }, async () => {
    const workflowId = `web-ui-approval-${randomUUID()}`;
    const input = { incidentId: 'INC-2042', requestedBy: 'sre-on-call', steps: ['assess', 'approve'], note: 'quotes "survive" the form' };
    const approval = { gate: 'cutover', approver: 'dba-lead@example.com', comment: 'replica lag 2 s, within RPO' };

    const { runId } = await startWorkflowFromUi(browser.page, { ...ui(), workflowId, taskQueue: fixtureQueue, workflowType: 'awaitApprovalFixture', input });
    const handle = client.workflow.getHandle(workflowId, runId);
    assert.equal((await handle.describe()).type, 'awaitApprovalFixture');
    assert.equal(await readWorkflowStatusFromUi(browser.page, { ...ui(), workflowId }), 'Running', 'it waits at the approval gate');

    await signalWorkflowFromUi(browser.page, { ...ui(), workflowId, signalName: 'approve', input: approval });

    assert.deepEqual(await handle.result(), { input, approval });
    const description = await handle.describe();
    assert.equal(description.status.name, 'COMPLETED');
    assert.deepEqual(description.searchAttributes.DrScenario, ['web-ui-fixture']);
    assert.equal(await readWorkflowStatusFromUi(browser.page, { ...ui(), workflowId, until: ['Completed', 'Failed'] }), 'Completed');
    assert.deepEqual(JSON.parse(await readWorkflowPanelFromUi(browser.page, { ...ui(), workflowId, panel: 'Result' })), { input, approval });
  });

  test('recoverFromAccidentalDeletion started from the UI form, its repair gate approved from the signal dialog, restores the deleted rows', { timeout: 180_000 }, async () => {
    // The incident: a seeded production with a backup, then a DELETE after the target time.
    const db = new PgClient({ connectionString: stack.production.url(stack.databaseName) });
    await db.connect();
    try {
      await seedFinancialDataset(db, { users: 30, transactionsPerUser: 5 }, 5);
      const config = loadWorkerConfig(stack.configFile);
      await createAdapters(config).databasePlatform.takeBackup({ sourceInstanceId: 'production', type: 'full' });
      // The application is live: recent writes (the validation gate checks the newest is within the RPO).
      const writer = startSteadyWriter({ connectionString: stack.production.url(stack.databaseName), ratePerSecond: 10 });
      await new Promise((r) => setTimeout(r, 1500));
      await writer.stop();
      const targetTime = new Date().toISOString();
      await new Promise((r) => setTimeout(r, 1100));
      const deleted = (await db.query<{ id: string }>('DELETE FROM transactions WHERE id % 5 = 0 RETURNING id')).rows.map((r) => r.id);
      assert.ok(deleted.length > 10);

      const workflowId = `web-ui-deletion-${randomUUID()}`;
      const input = { incidentId: 'INC-UI-7', startedBy: 'alice', targetTime, resolution: 'repair' };
      const { runId } = await startWorkflowFromUi(browser.page, { ...ui(), workflowId, taskQueue: runbookQueue, workflowType: 'recoverFromAccidentalDeletion', input });
      const handle = client.workflow.getHandle(workflowId, runId);
      for (let i = 0; i < 240; i++) {
        const status = await handle.query(statusQuery).catch(() => undefined);
        if (status?.openGates.some((g) => g.gate === 'repair')) break;
        if (status?.verdict) assert.fail(`the runbook ended before its gate: ${status.verdict} ${status.verdictDetail}`);
        await new Promise((r) => setTimeout(r, 500));
      }
      await signalWorkflowFromUi(browser.page, { ...ui(), workflowId, signalName: 'approve', input: { gate: 'repair', approver: 'bob', comment: 'approved from the Web UI' } });

      const result = (await handle.result()) as RunbookResult<{ inserted: number }>;
      assert.equal(result.verdict, 'completed', result.verdictDetail);
      assert.ok(result.timeline.some((t) => t.step === 'gate repair' && t.outcome === 'approved' && t.detail?.includes('bob')));
      assert.equal(result.output?.inserted, deleted.length);
      const back = await db.query('SELECT count(*)::int n FROM transactions WHERE id = ANY($1)', [deleted]);
      assert.equal(back.rows[0].n, deleted.length, 'the deleted rows are back in production');
      assert.equal(await readWorkflowStatusFromUi(browser.page, { ...ui(), workflowId, until: ['Completed', 'Failed'] }), 'Completed');
    } finally {
      await db.end();
    }
  });

  test('assessDatabaseHealth started from the UI with a connection string for a name fails naming the field', { timeout: 60_000 }, async () => {
    const workflowId = `web-ui-bad-input-${randomUUID()}`;
    const { runId } = await startWorkflowFromUi(browser.page, { ...ui(), workflowId, taskQueue: runbookQueue, workflowType: 'assessDatabaseHealth', input: { database: 'postgres://x' } });

    const handle = client.workflow.getHandle(workflowId, runId);
    const error = await handle.result().then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof WorkflowFailedError, `expected the workflow to fail, got ${String(error)}`);
    const cause = error.cause as { type?: string; message: string };
    assert.equal(cause.type, 'InvalidInput');
    assert.match(cause.message, /^database: must be a config name/);
    const history = await handle.fetchHistory();
    assert.ok(!history.events?.some((e) => e.activityTaskScheduledEventAttributes), 'no activity ran on a bad input');
    assert.equal(await readWorkflowStatusFromUi(browser.page, { ...ui(), workflowId, until: ['Completed', 'Failed'] }), 'Failed');
    // What the person who typed the input sees: the failure names the field.
    assert.match(await readWorkflowPanelFromUi(browser.page, { ...ui(), workflowId, panel: 'Result' }), /"message": "database: must be a config name/);
  });
});
