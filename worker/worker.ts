import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { auditHeadSigner } from '../activities/audit-heads';
import { createMonitoring } from '../activities/monitoring';
import { createAdapters, defaultAppConnectionSecret, type AdapterOptions } from './adapters';
import { durationToMs } from '../contracts/durations';
import type { WorkerConfig } from './config';
import { payloadCodecFor, workerDataConverterFor } from './payload-encryption';
import { createDatabaseConnections } from './database-connections';
import { stackReadinessPlan } from './readiness-plan';
import { monitoringSettings, problemLogger, startMetricsEndpoint, startMonitoring, type MetricsEndpoint } from './metrics';

/**
 * Workflow-side limits of the runbook worker, measured by `npm run bench -- --only concurrency`
 * (see the README's Benchmarks section for what was measured and why these values).
 */
export const runbookWorkerTuning = {
  maxConcurrentWorkflowTaskExecutions: 100,
  maxConcurrentWorkflowTaskPolls: 20,
  maxCachedWorkflows: 1000,
  stickyQueueScheduleToStartTimeout: '30 seconds',
} satisfies Partial<Parameters<typeof Worker.create>[0]>;

export interface RunbookWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  config: WorkerConfig;
  /** What the config cannot say (an RDS endpoint resolver, the notifiers' HTTP client and retry policy in tests). */
  adapterOptions?: AdapterOptions;
  /** host:port where the SDK's Core serves its runtime metrics (Runtime.install); /metrics appends them. */
  runtimeMetricsAddress?: string;
  log?: (line: string) => void;
}

/**
 * The worker that runs every runbook. On SIGTERM the SDK stops polling and waits up to
 * shutdownGraceTime for in-flight activities (a restore can take minutes) before cancelling them.
 * With `metrics` in its config it also watches the application databases and serves /metrics.
 */
export async function createRunbookWorker(options: RunbookWorkerOptions) {
  const { config } = options;
  const log = options.log ?? ((line: string) => console.log(line));
  const adapters = createAdapters(config, { namespace: options.namespace, ...options.adapterOptions });
  await adapters.start();
  const databases = createDatabaseConnections(config, adapters.secrets, adapters.databasePlatform);
  const monitoring = createMonitoring({
    databases,
    platform: adapters.databasePlatform,
    metrics: adapters.metrics,
    settings: monitoringSettings(config),
    ...(config.application ? { application: config.application } : {}),
    onProblem: problemLogger(log),
  });
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
      recordBackupValidation: (database, result) => monitoring.backupValidated(database, result),
      stackReadiness: { ...stackReadinessPlan(config), failedItsTest: monitoring.failedItsTest },
      ...(config.cache ? { cache: { sessions: config.cache.sessions, connectionSecret: config.cache.connectionSecret } } : {}),
      configuredDatabases: config.databases,
      votes: { allowedSignersFile: config.approvals.allowedSigners, totpSecrets: config.approvals.totpSecrets, maxClockSkewMs: durationToMs(config.approvals.maxClockSkew) },
      application: config.application,
    }),
    ...runbookWorkerTuning,
    shutdownGraceTime: '5 minutes',
    // Cancellation reaches an activity on its heartbeat: a restore being aborted hears of it within seconds.
    maxHeartbeatThrottleInterval: '2 seconds',
  });
  let endpoint: MetricsEndpoint | undefined;
  let stopMonitoring: (() => Promise<void>) | undefined;
  if (config.metrics && adapters.metricsSource) {
    endpoint = await startMetricsEndpoint({ listen: config.metrics.listen, source: adapters.metricsSource, runtimeMetricsAddress: options.runtimeMetricsAddress });
    stopMonitoring = startMonitoring(monitoring, config.metrics);
  }
  return {
    worker,
    /** Where Prometheus scrapes this worker (config metrics.listen), when it serves metrics. */
    metricsUrl: endpoint?.url,
    /** Runs until shutdown (SIGTERM/SIGINT, or worker.shutdown()), then stops the monitoring and closes the pools. */
    async run() {
      try {
        await worker.run();
      } finally {
        await stopMonitoring?.();
        await endpoint?.close();
        await databases.close();
      }
    },
  };
}
