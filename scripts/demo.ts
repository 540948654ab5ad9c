import { randomUUID } from 'node:crypto';
import { Client as PgClient } from 'pg';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { seedFinancialDataset, smallDataset } from '../demo/financial-dataset';
import { defaultStateDir } from '../stack/paths';
import { runMain } from '../stack/prerequisite-error';
import { startLocalStack } from '../stack/local-stack';
import { loadWorkerConfig } from '../worker/config';
import { createRunbookWorker } from '../worker/worker';

// `npm run demo`: the whole embedded stack on this machine, a seeded financial database, and a runbook
// run end to end. `--once` stops everything at the end; otherwise the stack stays up until Ctrl-C so
// the Web UI and the `dr` CLI can be tried against it.
const once = process.argv.includes('--once');
const log = (line: string) => console.log(`demo: ${line}`);
const port = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);

void runMain(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const stack = await startLocalStack({
    stateDir: defaultStateDir(),
    temporalPort: port('DR_TEMPORAL_PORT', 7233),
    temporalUiPort: port('DR_TEMPORAL_UI_PORT', 8233),
    // PostgreSQL takes free ports unless told otherwise: only Temporal's addresses need to stay put.
    productionPort: process.env.DR_PG_PORT ? Number(process.env.DR_PG_PORT) : undefined,
    log,
  });
  let stopping: Promise<void> | undefined;
  const stopAll = () => (stopping ??= (async () => {
    log('stopping the stack');
    await stack.stop();
    log('stopped');
  })());
  process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
  process.once('SIGTERM', () => void stopAll().then(() => process.exit(143)));

  try {
    const db = new PgClient({ connectionString: stack.production.url(stack.databaseName) });
    await db.connect();
    const seeded = await db.query(`SELECT to_regclass('public.transactions') IS NOT NULL AS present`);
    if (!seeded.rows[0].present) {
      log(`seeding the financial database (${smallDataset.users} users, ~${smallDataset.users * smallDataset.transactionsPerUser} transactions)`);
      await seedFinancialDataset(db, smallDataset, 1);
    }
    await db.end();

    const connection = await NativeConnection.connect({ address: stack.temporal.address });
    const taskQueue = process.env.DR_TASK_QUEUE ?? 'dr-runbooks';
    const { worker, run } = await createRunbookWorker({ connection, namespace: stack.temporal.namespace, taskQueue, config: loadWorkerConfig(stack.configFile) });
    const running = run();
    log(`worker polling task queue ${taskQueue}`);

    const clientConnection = await Connection.connect({ address: stack.temporal.address });
    const client = new Client({ connection: clientConnection, namespace: stack.temporal.namespace });
    const workflowId = `demo-assess-${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID().slice(0, 8)}`;
    log(`starting runbook assessDatabaseHealth (${workflowId})`);
    const handle = await client.workflow.start('assessDatabaseHealth', {
      taskQueue,
      workflowId,
      args: [{ database: 'production', environment: 'local', incidentId: 'DEMO' }],
      staticSummary: 'Demo: assess the production database',
    });
    const result = await handle.result();
    console.log('\nResult of assessDatabaseHealth:');
    console.log(JSON.stringify(result, null, 2));
    console.log(`\nWeb UI:   ${stack.temporal.uiUrl}`);
    console.log(`This run: ${stack.temporal.uiUrl}/namespaces/${stack.temporal.namespace}/workflows/${workflowId}/${handle.firstExecutionRunId}/history`);
    console.log(`Temporal: ${stack.temporal.address} (namespace ${stack.temporal.namespace}, task queue ${taskQueue})`);
    await clientConnection.close();

    if (!once) {
      log('the stack stays up; press Ctrl-C to stop it');
      await running;
      return;
    }
    worker.shutdown();
    await running;
    await connection.close();
  } finally {
    await stopAll();
  }
});
