import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { InstanceRegistry } from '../../activities/adapters/local/postgres/instance-registry';
import { Client as PgClient } from 'pg';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { DatabasePlatform } from '../../activities/ports/database-platform';
import { seedFinancialDataset } from '../../demo/financial-dataset';
import { loadWorkerConfig, type WorkerConfig } from '../../worker/config';
import { createAdapters, type AdapterOptions } from '../../worker/adapters';
import { createRunbookWorker } from '../../worker/worker';
import { statusQuery } from '../../workflows/messages';
import type { RunbookResult, RunbookStatus } from '../../contracts/runbook-status';
import { withClient } from './clusters';
import { startTestStack } from './stack';

/**
 * Everything a scenario's end-to-end test needs, for real: the local stack (Temporal, production with
 * WAL archiving to pgBackRest, the control cluster, the demo financial service, DNS), a seeded dataset,
 * a full backup, and the real worker with every activity on its own task queue.
 */
export async function startScenarioStack(options: { users?: number; transactionsPerUser?: number } = {}) {
  const stack = await startTestStack();
  const config: WorkerConfig = loadWorkerConfig(stack.configFile);
  const productionUrl = stack.production.url(stack.databaseName);
  await withClient(productionUrl, (db) => seedFinancialDataset(db, { users: options.users ?? 60, transactionsPerUser: options.transactionsPerUser ?? 10 }, 11));

  const local = config.platform!.local!;
  const platform: DatabasePlatform = createAdapters(config).databasePlatform;
  await platform.takeBackup({ sourceInstanceId: 'production', type: 'full' });

  const nativeConnection = await NativeConnection.connect({ address: stack.temporal.address });
  const workers: Array<{ shutdown(): void; running: Promise<void> }> = [];
  /** A real worker on its own task queue; `change` adjusts a copy of the config (e.g. drill policy off, another adapter family). */
  async function startWorker(change: (config: WorkerConfig) => WorkerConfig = (c) => c, adapterOptions?: AdapterOptions): Promise<string> {
    const taskQueue = `scenario-${randomUUID()}`;
    const { worker, run } = await createRunbookWorker({ connection: nativeConnection, namespace: stack.temporal.namespace, taskQueue, config: change(structuredClone(config)), adapterOptions });
    workers.push({ shutdown: () => worker.shutdown(), running: run() });
    return taskQueue;
  }
  const taskQueue = await startWorker();
  const connection = await Connection.connect({ address: stack.temporal.address });
  const client = new Client({ connection, namespace: stack.temporal.namespace });

  return {
    stack,
    config,
    platform,
    client,
    taskQueue,
    startWorker,
    productionUrl,
    /** A client on production, for the test's own reads and writes. */
    production: <T>(fn: (db: PgClient) => Promise<T>): Promise<T> => withClient(productionUrl, fn),
    /** Instances the platform has registered now (production included), read fresh from its registry file. */
    instanceIds(): string[] {
      return new InstanceRegistry(path.join(local.stateDir, 'instances.json')).all().map((r) => r.instanceId).sort();
    },
    async stop() {
      for (const w of workers) w.shutdown();
      await Promise.all(workers.map((w) => w.running.catch(() => undefined)));
      await connection.close();
      await nativeConnection.close();
      await stack.stop();
    },
  };
}
export type ScenarioStack = Awaited<ReturnType<typeof startScenarioStack>>;

/** Polls the status query until the predicate holds (e.g. a gate is open). */
export async function waitForRunbookStatus(client: Client, workflowId: string, predicate: (s: RunbookStatus) => boolean, timeoutMs = 120_000): Promise<RunbookStatus> {
  const deadline = Date.now() + timeoutMs;
  let last: RunbookStatus | undefined;
  while (Date.now() < deadline) {
    try {
      last = await client.workflow.getHandle(workflowId).query(statusQuery);
      if (predicate(last)) return last;
    } catch {
      // not started yet, or between tasks
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`runbook ${workflowId} did not reach the expected state within ${timeoutMs / 1000} s; last status: ${JSON.stringify(last?.timeline.at(-1))} phase ${last?.phase}`);
}

export const gateIsOpen = (gate: string) => (s: RunbookStatus) => s.openGates.some((g) => g.gate === gate);

/** The result of a runbook, or of a failed one the RunbookFailed details (so tests can read the timeline). */
export async function runbookOutcome<O>(client: Client, workflowId: string): Promise<RunbookResult<O>> {
  try {
    return await client.workflow.getHandle(workflowId).result();
  } catch (error) {
    if (error instanceof WorkflowFailedError) {
      const details = (error.cause as { details?: unknown[] } | undefined)?.details;
      if (details?.[0]) return details[0] as RunbookResult<O>;
    }
    throw error;
  }
}
