import type { Client as TemporalClient } from '@temporalio/client';
import type { DatabasePlatform } from '../activities/ports/database-platform';
import type { PgBackRestSetup } from '../activities/adapters/local/postgres/pgbackrest';
import type { LocalStack } from '../stack/local-stack';
import type { WorkerConfig } from '../worker/config';

/** What every benchmark gets: the running stack, its config, the platform, and the dataset's facts. */
export interface BenchContext {
  stateDir: string;
  stack: LocalStack;
  config: WorkerConfig;
  platform: DatabasePlatform;
  pgbackrest: PgBackRestSetup;
  temporal: TemporalClient;
  taskQueue: string;
  /** Rows in transactions (the benchmarks' table). */
  transactions: number;
  log: (line: string) => void;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `fn` and returns its wall-clock duration in ms (with its result). */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await fn();
  return { ms: performance.now() - started, value };
}
