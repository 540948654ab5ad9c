import { Client, Connection } from '@temporalio/client';
import { PrerequisiteError, runMain } from '../lib/prerequisite-error';
import { clientConnectionOptions, connectOrExplain, loadTemporalConnectionSettings } from '../lib/temporal-connection';
import { secretStoreFor } from './adapters';
import { startAlertReceiver } from './alert-receiver';
import { loadWorkerConfig, taskQueueOf } from './config';

// `npm run alert-receiver`: Alertmanager's webhook receiver, its own process beside the workers (same
// config file, same image). It holds no database credential: it starts and signals runbooks through
// Temporal, and reads only its own authentication secret.
void runMain(async () => {
  const configFile = process.env.DR_CONFIG;
  if (!configFile) throw new PrerequisiteError('DR_CONFIG is not set', 'point DR_CONFIG at the worker config file whose alerts.receiver says where to listen and how Alertmanager authenticates');
  const config = loadWorkerConfig(configFile);
  if (!config.alerts.receiver) throw new PrerequisiteError(`${configFile} has no alerts.receiver`, 'add alerts.receiver: { listen: "0.0.0.0:9095", auth: { bearerTokenSecret: <secret name> } }');
  const settings = loadTemporalConnectionSettings();
  const taskQueue = taskQueueOf();
  const connection = await connectOrExplain(settings, () => Connection.connect(clientConnectionOptions(settings)));
  const receiver = await startAlertReceiver({ client: new Client({ connection, namespace: settings.namespace }), taskQueue: taskQueue, config, secrets: secretStoreFor(config) });
  console.log(`alert-receiver: listening on ${receiver.url}; starts runbooks on task queue ${taskQueue} (namespace ${settings.namespace}) for ${Object.keys(config.alerts.runbooks).join(', ') || 'no alert'}`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await receiver.close();
  await connection.close();
  console.log('alert-receiver: stopped');
});
