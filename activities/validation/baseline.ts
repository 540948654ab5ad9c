import type { Pool } from 'pg';
import type { ObjectStore } from '../ports/object-store';
import { describeTable, listForeignKeys, listTables, quoteIdentifier, resolveTable, type Queryable } from './schema-catalog';

/** Counts and exact sums of one table; all numbers are decimal strings. */
export interface TableFigures {
  rows: string;
  /** Sum of every numeric (money) column, by column name. */
  sums: Record<string, string>;
  /** The single-column integer primary key, when there is one. */
  keyColumn: string | null;
  /** max(key): rows above a baseline's high-water mark were written after it. */
  keyHighWaterMark: string | null;
}

/** The ledger summed per range of account ids, so a difference can be narrowed to a few accounts. */
export interface AccountBucketFigures {
  firstAccountId: string;
  lastAccountId: string;
  accounts: string;
  balance: string;
  transactions: string;
  amount: string;
}

export interface DatabaseFigures {
  database: string;
  /** The server's clock when the consistent snapshot was taken, ISO 8601. */
  measuredAt: string;
  /** By table name as the server prints it. */
  tables: Record<string, TableFigures>;
  accountBuckets?: { width: string; buckets: AccountBucketFigures[] };
  /** Every foreign key as "table.constraint", so a recovered database missing one is caught. */
  foreignKeys?: string[];
}

export interface Baseline extends DatabaseFigures {
  formatVersion: 1;
  backupLabel: string;
}

const integerTypes = new Set(['bigint', 'integer', 'smallint']);
/** At most this many account buckets when the width is chosen from the data. */
const targetBuckets = 256n;

/**
 * Measures every application table in one REPEATABLE READ snapshot, so counts, sums and
 * high-water marks describe the same instant. `onTable` is called after each table (heartbeats).
 */
export async function measureDatabase(pool: Pool, database: string, options: { bucketWidth?: string; onTable?: (table: string) => void } = {}): Promise<DatabaseFigures> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const now = await client.query<{ now: Date }>('SELECT now()');
    const tables: Record<string, TableFigures> = {};
    for (const table of await listTables(client)) {
      tables[table] = await measureTable(client, table);
      options.onTable?.(table);
    }
    const accountBuckets = await measureAccountBuckets(client, options.bucketWidth);
    const foreignKeys = (await listForeignKeys(client)).map((fk) => `${fk.childTable}.${fk.name}`);
    await client.query('COMMIT');
    return { database, measuredAt: now.rows[0]!.now.toISOString(), tables, ...(accountBuckets ? { accountBuckets } : {}), foreignKeys };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

async function measureTable(db: Queryable, table: string): Promise<TableFigures> {
  const description = await describeTable(db, table);
  const moneyColumns = description.columns.filter((c) => c.type.startsWith('numeric')).map((c) => c.name);
  const keyColumn = description.primaryKey.length === 1 && integerTypes.has(description.columns.find((c) => c.name === description.primaryKey[0])?.type ?? '') ? description.primaryKey[0]! : null;
  const selects = [
    'count(*)::text AS rows',
    ...moneyColumns.map((c, i) => `coalesce(sum(${quoteIdentifier(c)}), 0)::text AS s${i}`),
    keyColumn ? `max(${quoteIdentifier(keyColumn)})::text AS hwm` : 'NULL::text AS hwm',
  ];
  const row = (await db.query<Record<string, string | null>>(`SELECT ${selects.join(', ')} FROM ${table}`)).rows[0]!;
  return {
    rows: row.rows!,
    sums: Object.fromEntries(moneyColumns.map((c, i) => [c, row[`s${i}`]!])),
    keyColumn,
    keyHighWaterMark: row.hwm ?? null,
  };
}

/** Only for the ledger schema (accounts.balance, transactions.account_id/amount); absent otherwise. */
async function measureAccountBuckets(db: Queryable, givenWidth?: string): Promise<DatabaseFigures['accountBuckets']> {
  const accounts = await resolveTable(db, 'accounts');
  const transactions = await resolveTable(db, 'transactions');
  if (!accounts || !transactions) return undefined;
  const maxId = (await db.query<{ max: string | null }>(`SELECT max(id)::text AS max FROM ${accounts}`)).rows[0]!.max;
  const width = givenWidth ?? String(maxId ? (BigInt(maxId) + targetBuckets - 1n) / targetBuckets || 1n : 1n);
  const result = await db.query<{ bucket: string; accounts: string; balance: string; transactions: string; amount: string }>(`
    SELECT bucket::text, sum(accounts)::text AS accounts, sum(balance)::text AS balance, sum(transactions)::text AS transactions, sum(amount)::text AS amount
    FROM (SELECT (id - 1) / $1::bigint AS bucket, count(*) AS accounts, coalesce(sum(balance), 0) AS balance, 0 AS transactions, 0 AS amount FROM ${accounts} GROUP BY 1
          UNION ALL
          SELECT (account_id - 1) / $1::bigint, 0, 0, count(*), coalesce(sum(amount), 0) FROM ${transactions} GROUP BY 1) per_bucket
    GROUP BY bucket ORDER BY bucket`, [width]);
  const w = BigInt(width);
  return {
    width,
    buckets: result.rows.map((r) => ({
      firstAccountId: String(BigInt(r.bucket) * w + 1n),
      lastAccountId: String((BigInt(r.bucket) + 1n) * w),
      accounts: r.accounts,
      balance: r.balance,
      transactions: r.transactions,
      amount: r.amount,
    })),
  };
}

const labelPattern = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

/** Where a backup's baseline lives in the ObjectStore. Throws on a label that could escape its folder. */
export function baselineKey(database: string, backupLabel: string): string {
  if (!labelPattern.test(backupLabel)) throw new Error(`backupLabel: "${backupLabel}" must be letters, digits, '.', '_', ':' or '-' (a pgBackRest label or snapshot id)`);
  if (!labelPattern.test(database)) throw new Error(`database: "${database}" is not a config name`);
  return `baselines/${database}/${backupLabel}.json`;
}

export async function saveBaseline(store: ObjectStore, key: string, baseline: Baseline): Promise<void> {
  await store.put(key, JSON.stringify(baseline, null, 2) + '\n', 'application/json');
}

export async function loadBaseline(store: ObjectStore, key: string): Promise<Baseline | undefined> {
  const body = await store.get(key);
  if (!body) return undefined;
  const baseline = JSON.parse(body.toString('utf8')) as Baseline;
  if (baseline.formatVersion !== 1) throw new Error(`baseline ${key} has format ${String(baseline.formatVersion)}; this worker reads format 1`);
  return baseline;
}
