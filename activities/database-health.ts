import type { DatabaseDirectory } from './database-connections';
import { readIntegrityTotals } from './seed-integrity-query';

export interface DatabaseHealth {
  database: string;
  /** The server's own clock at the check, ISO 8601. */
  checkedAt: string;
  serverVersion: string;
  userCount: number;
  transactionCount: number;
  /** Sum of transaction amounts, as the exact decimal string PostgreSQL returns (never a float). */
  totalAmount: string;
}

/**
 * The seed runbook's first commands: connectivity (`SELECT now(), version()`) and the critical data
 * integrity query (user count, transaction count, sum of amounts).
 */
export function createDatabaseHealthActivities(databases: DatabaseDirectory) {
  return {
    async checkDatabaseHealth(input: { database: string }): Promise<DatabaseHealth> {
      const pool = await databases.pool(input.database);
      const connectivity = await pool.query<{ now: Date; version: string }>('SELECT now(), version()');
      const totals = await readIntegrityTotals(pool);
      return {
        database: input.database,
        checkedAt: connectivity.rows[0]!.now.toISOString(),
        serverVersion: connectivity.rows[0]!.version,
        ...totals,
      };
    },
  };
}
