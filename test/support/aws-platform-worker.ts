import { NativeConnection, Worker, Runtime, DefaultLogger } from '@temporalio/worker';
import { createPlatformActivities } from '../../activities/platform-activities';
import { createLocalDatabasePlatform } from '../../activities/adapters/local/postgres';
import { createAdapters } from '../../worker/adapters';
import { loadWorkerConfig } from '../../worker/config';
import { localTwinResolver } from './rds-twin';

// A worker process for crash tests on the RDS platform: the restore fixture workflow and the platform
// activities, wired from DR_CONFIG (platform.rds on moto through aws.endpoint, credentials in Secrets
// Manager on moto). The data behind a moto instance is a real local PostgreSQL built by the local platform
// in DR_TEST_LOCAL_PLATFORM_DIR for the same operation; with DR_TEST_UNREACHABLE=1 no built instance
// answers (its database still starting), so the restore waits. Prints "worker ready" once it polls.
async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const config = loadWorkerConfig(process.env.DR_CONFIG!);
  const local = createLocalDatabasePlatform({ stateDir: process.env.DR_TEST_LOCAL_PLATFORM_DIR!, stanza: 'production', recoveryTimeoutMs: 120_000 });
  const resolver = localTwinResolver(local);
  const unreachable = process.env.DR_TEST_UNREACHABLE === '1';
  const platform = createAdapters(config, {
    rdsEndpointResolver: async (facts) => (unreachable && facts.instanceId !== 'production' ? { host: '127.0.0.1', port: 1 } : resolver(facts)),
  }).databasePlatform;
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
