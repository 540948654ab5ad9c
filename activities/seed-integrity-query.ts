import type { Pool } from 'pg';

/** The seed runbook's critical data integrity query, verbatim: user count, transaction count, sum of amounts. */
export const seedIntegrityQuery = `
SELECT
    COUNT(*) as user_count,
    (SELECT COUNT(*) FROM transactions) as transaction_count,
    (SELECT SUM(amount) FROM transactions) as total_amount
FROM users`;

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
