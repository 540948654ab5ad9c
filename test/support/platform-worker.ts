import { NativeConnection, Worker, Runtime, DefaultLogger } from '@temporalio/worker';
import { createPlatformActivities } from '../../activities/platform-activities';
import { createAdapters } from '../../worker/adapters';
import { loadWorkerConfig } from '../../worker/config';

// A worker process for crash tests: the restore fixture workflow and the platform activities.
// Env: TEMPORAL_ADDRESS, DR_TASK_QUEUE, DR_CONFIG. Prints "worker ready" once it polls.
async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const config = loadWorkerConfig(process.env.DR_CONFIG!);
  const platform = createAdapters(config).databasePlatform;
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! });
  const worker = await Worker.create({
    connection,
    taskQueue: process.env.DR_TASK_QUEUE!,
    workflowsPath: require.resolve('../fixtures/workflows/restore-fixture'),
    activities: createPlatformActivities(platform),
  });
  console.log('worker ready');
  await worker.run();
  await connection.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
