import { NativeConnection } from '@temporalio/worker';
import { PrerequisiteError, runMain } from '../lib/prerequisite-error';
import { connectOrExplain, loadTemporalConnectionSettings, workerConnectionOptions } from '../lib/temporal-connection';
import { loadWorkerConfig, taskQueueOf } from './config';
import { createRunbookWorker } from './worker';

// The worker process: its Temporal connection from a temporal.toml profile or TEMPORAL_* variables (as the
// `temporal` CLI reads them: Temporal Cloud, an mTLS cluster, the dev server), its config from DR_CONFIG.
void runMain(async () => {
  const configFile = process.env.DR_CONFIG;
  if (!configFile) throw new PrerequisiteError('DR_CONFIG is not set', 'point DR_CONFIG at the environment file (YAML or JSON) with databases, approvers and objectives');
  const config = loadWorkerConfig(configFile);
  const settings = loadTemporalConnectionSettings();
  const taskQueue = taskQueueOf();
  const connection = await connectOrExplain(settings, () => NativeConnection.connect(workerConnectionOptions(settings)));
  const { run } = await createRunbookWorker({ connection, namespace: settings.namespace, taskQueue, config });
  console.log(`worker: polling task queue ${taskQueue} on ${settings.address} (namespace ${settings.namespace}; ${settings.source})`);
  await run();
  await connection.close();
  console.log('worker: stopped');
});
