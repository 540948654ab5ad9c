import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ClientBase } from 'pg';

export interface DatasetSize {
  users: number;
  /** Transactions per user, on average. */
  transactionsPerUser: number;
}

/** Tests: thousands of rows, seeded in well under a second. */
export const smallDataset: DatasetSize = { users: 200, transactionsPerUser: 20 };
/** Benchmarks: 10M transactions, about 1.5 GB with indexes. Never seeded by tests. */
export const benchDataset: DatasetSize = { users: 500_000, transactionsPerUser: 20 };

export interface SeedProgress {
  table: 'users' | 'accounts' | 'transactions' | 'balances' | 'savings_goals' | 'subscriptions' | 'audit_logs';
  done: number;
  total: number;
}

export interface SeedOptions {
  /** Rows per committed chunk of the large tables; each chunk is one INSERT … SELECT generate_series. */
  chunkSize?: number;
  onProgress?: (progress: SeedProgress) => void;
}

const schemaSql = () => readFileSync(path.join(__dirname, 'financial-schema.sql'), 'utf8');

/** Creates the application's tables (empty) if they are missing: what a freshly deployed app has. */
export async function createFinancialSchema(db: ClientBase): Promise<void> {
  await db.query(schemaSql());
}

/** The role the demo application signs in as (config `app.databaseRole`): not a superuser, so rotating its password locks out nobody else. */
export const applicationRole = 'mita_app';

/**
 * Creates the application's login role with this password (or sets it) and lets it read and write the
 * application's tables, including tables created later by the same owner (migrations). A physical
 * restore or a replica of the database carries the role, its grants and its password with it.
 */
export async function createApplicationRole(db: ClientBase, password: string, role = applicationRole): Promise<void> {
  const name = db.escapeIdentifier(role);
  const exists = (await db.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).rowCount === 1;
  await db.query(`${exists ? 'ALTER' : 'CREATE'} ROLE ${name} LOGIN PASSWORD ${db.escapeLiteral(password)}`);
  const database = db.escapeIdentifier((await db.query<{ db: string }>('SELECT current_database() AS db')).rows[0]!.db);
  await db.query(`GRANT CONNECT ON DATABASE ${database} TO ${name}`);
  await db.query(`GRANT USAGE ON SCHEMA public TO ${name}`);
  await db.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${name}`);
  await db.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${name}`);
  await db.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${name}`);
  await db.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO ${name}`);
}

/**
 * Creates the schema and fills it deterministically from `seed`: the same seed and size give the
 * same rows, so tests and benchmarks can compare databases by content. Values come from hashes of
 * the row number, computed by the server, so even millions of rows never pass through Node. The
 * large tables go in committed chunks (ON CONFLICT DO NOTHING), so an interrupted seed resumes.
 * Balances are set from the ledger at the end: every account's balance is the sum of its transactions.
 */
export async function seedFinancialDataset(db: ClientBase, size: DatasetSize = smallDataset, seed = 1, options: SeedOptions = {}): Promise<void> {
  if (!Number.isInteger(size.users) || size.users < 1) throw new Error(`size.users must be a positive integer, got ${size.users}`);
  if (!Number.isInteger(size.transactionsPerUser) || size.transactionsPerUser < 0) throw new Error(`size.transactionsPerUser must be a non-negative integer, got ${size.transactionsPerUser}`);
  if (!Number.isInteger(seed)) throw new Error(`seed must be an integer, got ${seed}`);
  const chunkSize = options.chunkSize ?? 250_000;
  const progress = options.onProgress ?? (() => undefined);
  // hashint8 is an int4 whose abs() overflows at INT_MIN: widen first.
  const h = (expr: string) => `abs(hashint8((${expr})::bigint * 1000003 + ${seed})::bigint)`;
  const accounts = size.users + Math.floor(size.users / 3);
  const total = size.users * size.transactionsPerUser;

  async function inChunks(table: SeedProgress['table'], count: number, insert: (from: number, to: number) => Promise<unknown>) {
    for (let from = 1; from <= count; from += chunkSize) {
      const to = Math.min(from + chunkSize - 1, count);
      await transaction(db, () => insert(from, to));
      progress({ table, done: to, total: count });
    }
  }

  await db.query(schemaSql());
  await inChunks('users', size.users, (from, to) => db.query(`INSERT INTO users (id, email, created_at)
    SELECT i, 'user' || i || '@example.test', timestamptz '2024-12-01' + (i || ' seconds')::interval
    FROM generate_series($1::int, $2::int) i ON CONFLICT DO NOTHING`, [from, to]));
  // One account per user, a second one for every third user.
  await inChunks('accounts', accounts, (from, to) => db.query(`INSERT INTO accounts (id, user_id, currency, created_at)
    SELECT a, ((a - 1) % $3::int) + 1, 'USD', timestamptz '2024-12-01' + (((a - 1) % $3::int) + 1 || ' seconds')::interval
    FROM generate_series($1::int, $2::int) a ON CONFLICT DO NOTHING`, [from, to, size.users]));
  await inChunks('transactions', total, (from, to) => db.query(`INSERT INTO transactions (id, account_id, user_id, amount, currency, description, reference, created_at)
    SELECT t, acc, ((acc - 1) % $4::int) + 1,
           ((${h('t')} % 200000) - 80000) / 100.0, 'USD',
           (ARRAY['salary','rent','groceries','transfer','refund','card'])[1 + ${h('t + 7')} % 6],
           'seed-' || t,
           timestamptz '2025-01-01' + (t || ' seconds')::interval
    FROM (SELECT t, 1 + ${h('t + 3')} % $3::int AS acc FROM generate_series($1::int, $2::int) t) s
    ON CONFLICT DO NOTHING`, [from, to, accounts, size.users]));
  await transaction(db, async () => {
    await db.query(`SELECT setval('transactions_id_seq', greatest((SELECT max(id) FROM transactions), 1))`);
    // One pass over the ledger (a grouped join), not one subquery per account.
    await db.query(`UPDATE accounts a SET balance = coalesce(s.total, 0)
      FROM accounts x LEFT JOIN (SELECT account_id, sum(amount) AS total FROM transactions GROUP BY account_id) s ON s.account_id = x.id
      WHERE a.id = x.id AND a.balance IS DISTINCT FROM coalesce(s.total, 0)`);
  });
  progress({ table: 'balances', done: accounts, total: accounts });
  await inChunks('savings_goals', Math.floor(size.users / 2), (from, to) => db.query(`INSERT INTO savings_goals (id, user_id, name, target_amount, current_amount)
    SELECT g, g, 'goal ' || g, 1000 + ${h('g + 11')} % 9000, (${h('g + 13')} % 100000) / 100.0
    FROM generate_series($1::int, $2::int) g ON CONFLICT DO NOTHING`, [from, to]));
  await inChunks('subscriptions', Math.floor(size.users / 4), (from, to) => db.query(`INSERT INTO subscriptions (id, user_id, plan, monthly_fee)
    SELECT s, s, CASE WHEN s % 2 = 0 THEN 'premium' ELSE 'basic' END, CASE WHEN s % 2 = 0 THEN 9.99 ELSE 0 END
    FROM generate_series($1::int, $2::int) s ON CONFLICT DO NOTHING`, [from, to]));
  // One sign-up entry per user, and a login for every other user. Users, their accounts and these
  // entries are dated in December 2024, before the ledger's first transaction (2025-01-01).
  await inChunks('audit_logs', size.users + Math.floor(size.users / 2), (from, to) => db.query(`INSERT INTO audit_logs (id, user_id, action, at)
    SELECT l, CASE WHEN l <= $3::int THEN l ELSE (l - $3::int) * 2 END,
           CASE WHEN l <= $3::int THEN 'signup' ELSE 'login' END,
           timestamptz '2024-12-01' + (l || ' seconds')::interval
    FROM generate_series($1::int, $2::int) l ON CONFLICT DO NOTHING`, [from, to, size.users]));
  await db.query(`SELECT setval('audit_logs_id_seq', greatest((SELECT max(id) FROM audit_logs), 1))`);
}

async function transaction(db: ClientBase, work: () => Promise<unknown>): Promise<void> {
  await db.query('BEGIN');
  try {
    await work();
    await db.query('COMMIT');
  } catch (error) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** The tables in dependency order, with the columns that define their content. */
const contentTables = ['users', 'accounts', 'transactions', 'savings_goals', 'subscriptions', 'audit_logs'] as const;

/**
 * An md5 of every row of every table, in primary-key order: equal hashes mean equal content.
 * Meant for test-sized datasets (it reads every row on the server, but returns only the hash).
 */
export async function financialContentHash(db: ClientBase): Promise<string> {
  const parts = contentTables.map((t) => `(SELECT coalesce(md5(string_agg(x::text, '|' ORDER BY x.id)), '') FROM ${t} x)`);
  const r = await db.query<{ hash: string }>(`SELECT md5(${parts.join(` || '/' || `)}) AS hash`);
  return r.rows[0]!.hash;
}
