import { MockActivityEnvironment } from '@temporalio/testing';
import path from 'node:path';
import { Client } from 'pg';
import { createPlatformActivities, type PlatformActivities } from '../../activities/platform-activities';
import type { InstanceConnection } from '../../activities/ports/database-platform';
import { createLocalDatabasePlatform } from '../../activities/adapters/local/postgres/local-database-platform';
import type { OperationProgress } from '../../activities/ports/database-platform';

/** The local platform over a test stack's state dir (startLocalStack enrols "production" there). */
export function testPlatform(stateDir: string) {
  const platform = createLocalDatabasePlatform({ stateDir: path.join(stateDir, 'platform'), stanza: 'production', recoveryTimeoutMs: 120_000 });
  return { platform, activities: createPlatformActivities(platform) };
}

/**
 * Runs one platform activity the way a worker would for `workflowId`: with an activity context,
 * heartbeats collected, and the environment returned so a test can cancel it.
 */
export function runActivity<K extends keyof PlatformActivities>(
  activities: PlatformActivities,
  name: K,
  workflowId: string,
  input: Parameters<PlatformActivities[K]>[0],
  onHeartbeat?: (details: OperationProgress, env: MockActivityEnvironment) => void,
): { env: MockActivityEnvironment; heartbeats: OperationProgress[]; result: ReturnType<PlatformActivities[K]> } {
  const env = new MockActivityEnvironment({ activityType: name, workflowExecution: { workflowId, runId: 'run-1' } });
  const heartbeats: OperationProgress[] = [];
  env.on('heartbeat', (details: OperationProgress) => {
    heartbeats.push(details);
    onHeartbeat?.(details, env);
  });
  const fn = activities[name] as (arg: typeof input) => ReturnType<PlatformActivities[K]>;
  return { env, heartbeats, result: env.run(fn, input) as ReturnType<PlatformActivities[K]> };
}

export async function query<T extends object>(connection: InstanceConnection | string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client(typeof connection === 'string' ? { connectionString: connection } : connection);
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}
