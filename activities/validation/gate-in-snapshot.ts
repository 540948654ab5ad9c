import type { Pool, PoolClient } from 'pg';
import { runChecks, type CheckDefinition, type CheckResult } from './checks';
import { withSharedSnapshot } from './shared-snapshot';

/**
 * The full gate's reads: every check (at most `concurrency` at once, each on its own connection) and,
 * beside them, `compare` (the measurement against the baseline) on the connection that exported the
 * snapshot, all in that one snapshot (shared-snapshot.ts). `sharedSnapshot` says whether the server
 * exported one; without it each check reads in its own transaction.
 */
export async function runGateReads<C>(
  pool: Pool,
  checks: readonly CheckDefinition[],
  options: { concurrency: number; aggregateMemoryMB: number; beforeEach?: () => void | Promise<void>; onDone?: (result: CheckResult, done: number) => void },
  compare?: (client: PoolClient) => Promise<C>,
): Promise<{ results: CheckResult[]; comparison: C | undefined; sharedSnapshot: boolean }> {
  return withSharedSnapshot(pool, async ({ client, id }) => {
    const [results, comparison] = await Promise.all([
      runChecks(pool, checks, { ...options, ...(id ? { snapshot: id } : {}) }),
      compare ? compare(client) : undefined,
    ]);
    return { results, comparison, sharedSnapshot: id !== undefined };
  });
}
