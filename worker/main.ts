import { NativeConnection, Runtime } from '@temporalio/worker';
import { freePort } from '../lib/ports';
import { PrerequisiteError, runMain } from '../lib/prerequisite-error';
import { loadWorkerConfig, temporalSettings } from './config';
import { createRunbookWorker } from './worker';

void runMain(async () => {
  const settings = temporalSettings();
  const configFile = process.env.DR_CONFIG;
  if (!configFile) throw new PrerequisiteError('DR_CONFIG is not set', 'point DR_CONFIG at the environment file (YAML or JSON) with databases, approvers and objectives');
  const config = loadWorkerConfig(configFile);
  // The SDK's Core serves its runtime metrics on a loopback port of its own; the worker's /metrics
  // (config metrics.listen) serves them after ours, so Prometheus has one target per worker.
  const runtimeMetricsAddress = config.metrics ? `127.0.0.1:${await freePort()}` : undefined;
  if (runtimeMetricsAddress) {
    Runtime.install({ telemetryOptions: { metrics: { prometheus: { bindAddress: runtimeMetricsAddress, countersTotalSuffix: true, unitSuffix: true, useSecondsForDurations: true } } } });
  }
  let connection: NativeConnection;
  try {
    connection = await NativeConnection.connect({ address: settings.address });
  } catch (error) {
    throw new PrerequisiteError(`cannot reach Temporal at ${settings.address}: ${(error as Error).message}`, 'start the server (`npm run demo` starts one) or set TEMPORAL_ADDRESS');
  }
  const { run, metricsUrl } = await createRunbookWorker({ connection, namespace: settings.namespace, taskQueue: settings.taskQueue, config, runtimeMetricsAddress });
  console.log(`worker: polling task queue ${settings.taskQueue} on ${settings.address} (namespace ${settings.namespace})${metricsUrl ? `; metrics at ${metricsUrl}` : ''}`);
  await run();
  await connection.close();
  console.log('worker: stopped');
});
