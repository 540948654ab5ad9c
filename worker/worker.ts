import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { auditHeadSigner } from '../activities/audit-heads';
import { createAdapters, defaultAppConnectionSecret, type AdapterOptions } from './adapters';
import { durationToMs } from '../contracts/durations';
import type { WorkerConfig } from './config';
import { payloadCodecFor, workerDataConverterFor } from './payload-encryption';
import { createDatabaseConnections } from './database-connections';

export interface RunbookWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  config: WorkerConfig;
  /** What the config cannot say (an RDS endpoint resolver). */
  adapterOptions?: AdapterOptions;
}

/**
 * The worker that runs every runbook. On SIGTERM the SDK stops polling and waits up to
 * shutdownGraceTime for in-flight activities (a restore can take minutes) before cancelling them.
 */
export async function createRunbookWorker(options: RunbookWorkerOptions) {
  const { config } = options;
  const adapters = createAdapters(config, { namespace: options.namespace, ...options.adapterOptions });
  await adapters.start();
  const databases = createDatabaseConnections(config, adapters.secrets, adapters.databasePlatform);
  const worker = await Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowsPath: require.resolve('../workflows'),
    dataConverter: workerDataConverterFor(payloadCodecFor(config, adapters.secrets)),
    activities: createActivities({
      ...adapters,
      databases,
      migrations: async (name) => adapters.migrationTool(await databases.pool(name)),
      appConnectionSecret: config.app?.connectionSecret ?? defaultAppConnectionSecret,
      applicationRole: config.app?.databaseRole,
      auditDatabase: config.audit?.database,
      ...(config.audit?.headSigning ? { auditHeads: { store: adapters.objectStore, signer: auditHeadSigner(config.audit.headSigning.kind, config.audit.headSigning.keySecret, adapters.secrets) } } : {}),
      runbookPlan: config,
      ...(config.cache ? { cache: { sessions: config.cache.sessions, connectionSecret: config.cache.connectionSecret } } : {}),
      configuredDatabases: config.databases,
      votes: { allowedSignersFile: config.approvals.allowedSigners, totpSecrets: config.approvals.totpSecrets, maxClockSkewMs: durationToMs(config.approvals.maxClockSkew) },
    }),
    shutdownGraceTime: '5 minutes',
    // Cancellation reaches an activity on its heartbeat: a restore being aborted hears of it within seconds.
    maxHeartbeatThrottleInterval: '2 seconds',
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
