import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ClientBase } from 'pg';

export interface DatasetSize {
  users: number;
  /** Transactions per user, on average. */
  transactionsPerUser: number;
}

export const smallDataset: DatasetSize = { users: 200, transactionsPerUser: 20 };

const schemaSql = () => readFileSync(path.join(__dirname, 'financial-schema.sql'), 'utf8');

/**
 * Creates the schema and fills it deterministically from `seed`: the same seed and size give the
 * same rows, so tests and benchmarks can compare databases by content. Values come from hashes of
 * the row number, computed by the server, so even millions of rows never pass through Node.
 */
export async function seedFinancialDataset(db: ClientBase, size: DatasetSize = smallDataset, seed = 1): Promise<void> {
  await db.query(schemaSql());
  const h = (expr: string) => `abs(hashint8((${expr})::bigint * 1000003 + ${seed}))`;
  await db.query('BEGIN');
  try {
    await db.query(`INSERT INTO users (id, email, created_at)
      SELECT i, 'user' || i || '@example.test', timestamptz '2025-01-01' + (i || ' minutes')::interval
      FROM generate_series(1, $1::int) i ON CONFLICT DO NOTHING`, [size.users]);
    // One account per user, a second one for every third user.
    await db.query(`INSERT INTO accounts (id, user_id, currency, created_at)
      SELECT a, ((a - 1) % $1::int) + 1, 'USD', timestamptz '2025-01-01'
      FROM generate_series(1, $1::int + $1::int / 3) a ON CONFLICT DO NOTHING`, [size.users]);
    const accounts = size.users + Math.floor(size.users / 3);
    const total = size.users * size.transactionsPerUser;
    await db.query(`INSERT INTO transactions (id, account_id, user_id, amount, description, created_at)
      SELECT t, acc, ((acc - 1) % $3::int) + 1,
             ((${h('t')} % 200000) - 80000) / 100.0,
             (ARRAY['salary','rent','groceries','transfer','refund','card'])[1 + ${h('t + 7')} % 6],
             timestamptz '2025-01-01' + (t || ' seconds')::interval
      FROM (SELECT t, 1 + ${h('t + 3')} % $2::int AS acc FROM generate_series(1, $1::int) t) s
      ON CONFLICT DO NOTHING`, [total, accounts, size.users]);
    await db.query(`SELECT setval('transactions_id_seq', greatest((SELECT max(id) FROM transactions), 1))`);
    await db.query(`UPDATE accounts a SET balance = coalesce((SELECT sum(amount) FROM transactions t WHERE t.account_id = a.id), 0)`);
    await db.query(`INSERT INTO savings_goals (id, user_id, name, target_amount, current_amount)
      SELECT g, g, 'goal ' || g, 1000 + ${h('g + 11')} % 9000, (${h('g + 13')} % 100000) / 100.0
      FROM generate_series(1, $1::int / 2) g ON CONFLICT DO NOTHING`, [size.users]);
    await db.query(`INSERT INTO subscriptions (id, user_id, plan, monthly_fee)
      SELECT s, s, CASE WHEN s % 2 = 0 THEN 'premium' ELSE 'basic' END, CASE WHEN s % 2 = 0 THEN 9.99 ELSE 0 END
      FROM generate_series(1, $1::int / 4) s ON CONFLICT DO NOTHING`, [size.users]);
    await db.query('COMMIT');
  } catch (error) {
    await db.query('ROLLBACK');
    throw error;
  }
}
