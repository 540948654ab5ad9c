import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { createAdapters, defaultAppConnectionSecret } from './adapters';
import type { WorkerConfig } from './config';
import { createDatabaseConnections } from './database-connections';

export interface RunbookWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  config: WorkerConfig;
}

/**
 * The worker that runs every runbook. On SIGTERM the SDK stops polling and waits up to
 * shutdownGraceTime for in-flight activities (a restore can take minutes) before cancelling them.
 */
export async function createRunbookWorker(options: RunbookWorkerOptions) {
  const { config } = options;
  const adapters = createAdapters(config);
  const databases = createDatabaseConnections(config, adapters.secrets, adapters.databasePlatform);
  const worker = await Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowsPath: require.resolve('../workflows'),
    activities: createActivities({
      ...adapters,
      databases,
      migrations: (name) => adapters.migrationTool(databases.pool(name)),
      appConnectionSecret: config.app?.connectionSecret ?? defaultAppConnectionSecret,
      applicationRole: config.app?.databaseRole,
      auditDatabase: config.audit?.database,
      runbookPlan: config,
    }),
    shutdownGraceTime: '5 minutes',
  });
  return {
    worker,
    /** Runs until shutdown (SIGTERM/SIGINT, or worker.shutdown()), then closes the pools. */
    async run() {
      try {
        await worker.run();
      } finally {
        await databases.close();
      }
    },
  };
}
