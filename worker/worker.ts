import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { createLocalDatabasePlatform } from '../activities/platform/local/local-database-platform';
import type { WorkerConfig } from './config';
import { createDatabaseDirectory } from './database-directory';
import { createNotifier } from './notifiers';
import { createSecretResolver } from './secrets';
import { createLocalAppRuntime } from '../activities/platform/local/local-app-runtime';
import { createHostsFileDns } from '../activities/platform/local/hosts-file-dns';
import { createDatabaseTargetResolver } from './database-targets';
import { createDirectoryObjectStore } from '../activities/platform/local/directory-object-store';

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
  const local = options.config.platform?.local;
  const platform = local ? createLocalDatabasePlatform({ ...local, recoveryTimeoutMs: local.recoveryTimeoutSeconds * 1000 }) : undefined;
  const databases = createDatabaseDirectory(options.config, createSecretResolver(options.config.secretsDir), platform);
  const databaseTargets = createDatabaseTargetResolver(options.config, createSecretResolver(options.config.secretsDir), platform);
  const { app, dns } = options.config;
  const appRuntime = app && createLocalAppRuntime({ ...app, dnsFile: dns?.mappingFile });
  const objectStore = options.config.objectStore && createDirectoryObjectStore(options.config.objectStore.directory);
  const hostsDns = dns && createHostsFileDns({ mappingFile: dns.mappingFile, defaultTtlSeconds: dns.defaultTtlSeconds });
  const worker = await Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowsPath: require.resolve('../workflows'),
    activities: createActivities({ databases, databaseTargets, appRuntime, dns: hostsDns, auditDatabase: options.config.audit?.database, notifier: createNotifier(options.config, { secret: createSecretResolver(options.config.secretsDir), namespace: options.namespace }), runbookPlan: options.config, platform, objectStore, migrationsDirectory: options.config.migrations?.directory }),
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
