import type { Pool } from 'pg';

/**
 * The seed runbook's critical data integrity query (user count, transaction count, sum of amounts), its
 * three figures read in one pass over transactions: the seed's text scans that table twice (once per
 * subquery), and at 10M rows the second scan is seconds of disk and CPU taken from the point-in-time
 * restore the runbook runs beside it. Same figures, same NULL sum on an empty table.
 */
export const seedIntegrityQuery = `
SELECT
    (SELECT COUNT(*) FROM users) as user_count,
    COUNT(*) as transaction_count,
    SUM(amount) as total_amount
FROM transactions`;

export interface IntegrityTotals {
  userCount: number;
  transactionCount: number;
  /** The exact decimal string PostgreSQL returns (never a float). */
  totalAmount: string;
}

/** Runs the seed's integrity query; the runbook's first step and the demo service's health check share it. */
export async function readIntegrityTotals(db: Pick<Pool, 'query'>): Promise<IntegrityTotals> {
  const row = (await db.query<{ user_count: string; transaction_count: string; total_amount: string | null }>(seedIntegrityQuery)).rows[0]!;
  return { userCount: Number(row.user_count), transactionCount: Number(row.transaction_count), totalAmount: row.total_amount ?? '0.00' };
}
