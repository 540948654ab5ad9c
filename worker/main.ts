import { NativeConnection } from '@temporalio/worker';
import { PrerequisiteError, runMain } from '../lib/prerequisite-error';
import { loadWorkerConfig, temporalSettings } from './config';
import { createRunbookWorker } from './worker';

void runMain(async () => {
  const settings = temporalSettings();
  const configFile = process.env.DR_CONFIG;
  if (!configFile) throw new PrerequisiteError('DR_CONFIG is not set', 'point DR_CONFIG at the environment file (YAML or JSON) with databases, approvers and objectives');
  const config = loadWorkerConfig(configFile);
  let connection: NativeConnection;
  try {
    connection = await NativeConnection.connect({ address: settings.address });
  } catch (error) {
    throw new PrerequisiteError(`cannot reach Temporal at ${settings.address}: ${(error as Error).message}`, 'start the server (`npm run demo` starts one) or set TEMPORAL_ADDRESS');
  }
  const { run } = await createRunbookWorker({ connection, namespace: settings.namespace, taskQueue: settings.taskQueue, config });
  console.log(`worker: polling task queue ${settings.taskQueue} on ${settings.address} (namespace ${settings.namespace})`);
  await run();
  await connection.close();
  console.log('worker: stopped');
});
