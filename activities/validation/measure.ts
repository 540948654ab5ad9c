import type { Pool, PoolClient } from 'pg';
import type { ApplicationDeclaration } from './declaration';
import { addDecimal as addDecimalText, subtractDecimal } from './exact-decimal';
import { describeTable, listTables, quoteIdentifier, resolveTable, type Queryable } from './schema-catalog';
import { readSchemaFingerprint, type SchemaFingerprint } from './schema-fingerprint';
import { defaultAggregateMemoryMB, gateSessionSql } from './gate-session';
import { assertSameRowHash, chooseRowHash, rowHashSql, type RowHash } from './row-hash';

// Measuring a database for its baseline, or for comparison with one, in one consistent snapshot: per
// table its row count and the exact sums of its money columns (and of their absolute values, which
// give a money tolerance a scale), and for append-only tables the history: the rows created up to the
// baseline's point, in key ranges, each range with its count, its sums and an order-independent hash
// of its rows' keys and content. The server computes everything; no row passes through Node, only one
// aggregate per key range.

export interface MoneyFigures {
  sum: string;
  absSum: string;
}

/** What the history of one append-only table is compared by, fixed when its baseline is taken. */
export interface HistoryPlan {
  key: string;
  createdAt: string;
  /** Every column at the baseline, in table order: the content that is hashed. */
  columns: string[];
  money: string[];
  /** Rows created at or before this instant are history (ISO 8601). */
  upTo: string;
  /** Key ranges: [base + i·width, base + (i+1)·width − 1]. */
  base: string;
  width: string;
  /** How each row is hashed (baselines of format 2 have none: md5 of the row text). */
  rowHash?: RowHash;
}

/** One key range of history: how many rows, their money sums (in `money` order) and the sum of their row hashes. */
export interface HistoryRange {
  /** The range's number as a decimal string; "null" for rows whose key is NULL. */
  index: string;
  rows: string;
  sums: string[];
  /** The rows' hashes summed, order-independent, "h1:h2": md5's two 64-bit halves, or the extended hash and 0. */
  hash: string;
}

export interface HistoryFigures extends HistoryPlan {
  rows: string;
  sums: string[];
  hash: string;
  /** The largest key in the history, null when it is empty. */
  maxKey: string | null;
  /** Non-empty ranges only, by index. */
  ranges: HistoryRange[];
}

export interface TableFigures {
  rows: string;
  money: Record<string, MoneyFigures>;
  history?: HistoryFigures;
}

export interface TablePlan {
  table: string;
  money: string[];
  history?: Omit<HistoryPlan, 'base' | 'width' | 'rowHash'> & Partial<Pick<HistoryPlan, 'base' | 'width' | 'rowHash'>>;
}

export interface DatabaseMeasurement {
  /** The snapshot's clock (now() of its transaction), ISO 8601. */
  snapshotAt: string;
  /** On a restored copy: the newest commit recovery replayed (pg_last_xact_replay_timestamp), else null. */
  replayedUpTo: string | null;
  tables: Record<string, TableFigures>;
  /** Tables that could not be measured as planned, with the database's words (a dropped column, a missing table). */
  problems: Record<string, string>;
  schema: SchemaFingerprint;
}

/** At most this many key ranges per table (each is one aggregate row in the baseline). */
const maxRanges = 16_384n;
/** A range holds at least this many keys: narrow enough to name the rows. */
const minWidth = 16n;
const integerTypes = new Set(['bigint', 'integer', 'smallint']);

/**
 * Session settings that make a row's text the same on every server and in every session: the content
 * hash must not depend on the time zone or the date style of whoever measures.
 */
const stableTextSettings = [
  "SET LOCAL TimeZone = 'UTC'",
  "SET LOCAL DateStyle = 'ISO, YMD'",
  "SET LOCAL IntervalStyle = 'postgres'",
  'SET LOCAL extra_float_digits = 3',
  "SET LOCAL bytea_output = 'hex'",
];

/** The tables of `db` and how to measure each, from the application's declaration (for a baseline). */
export async function planFromDeclaration(db: Queryable, app: ApplicationDeclaration | undefined, historyUpTo: string): Promise<{ plans: TablePlan[]; problems: Record<string, string> }> {
  const declared = new Map<string, ApplicationDeclaration['tables'][string]>();
  const problems: Record<string, string> = {};
  for (const [name, table] of Object.entries(app?.tables ?? {})) {
    const resolved = await resolveTable(db, name);
    if (resolved) declared.set(resolved, table);
    else problems[name] = `declared in the application but not in the database`;
  }
  const plans: TablePlan[] = [];
  for (const table of await listTables(db)) {
    const description = await describeTable(db, table);
    const names = description.columns.map((c) => c.name);
    const declaration = declared.get(table);
    const money = declaration ? declaration.money : description.columns.filter((c) => c.type.startsWith('numeric')).map((c) => c.name);
    const missing = [...money, ...(declaration?.appendOnly ? [declaration.key, declaration.createdAt!] : [])].filter((c) => !names.includes(c));
    if (missing.length) {
      problems[table] = `declared column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not in the table`;
      continue;
    }
    let history: TablePlan['history'];
    if (declaration?.appendOnly) {
      const keyType = description.columns.find((c) => c.name === declaration.key)!.type;
      if (!integerTypes.has(keyType)) {
        problems[table] = `append-only table key ${declaration.key} is ${keyType}: history is narrowed to integer key ranges`;
        continue;
      }
      history = { key: declaration.key, createdAt: declaration.createdAt!, columns: names, money, upTo: historyUpTo, rowHash: await chooseRowHash(db, table, names) };
    }
    plans.push({ table, money, ...(history ? { history } : {}) });
  }
  return { plans, problems };
}

export interface MeasureOptions {
  statementTimeoutMs: number;
  onTable?: (table: string) => void;
  /** What the per-range aggregates may hold in memory (gate-session.ts). */
  aggregateMemoryMB?: number;
}

/**
 * Measures every planned table in one REPEATABLE READ snapshot, so all figures describe the same instant.
 * A table that cannot be measured as planned (a column gone since the baseline) is reported in `problems`
 * and the others are still measured. `onTable` is called after each table (heartbeats).
 */
export async function measureDatabase(pool: Pool, plans: readonly TablePlan[], options: MeasureOptions): Promise<DatabaseMeasurement> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const measured = await measureInTransaction(client, plans, options);
    await client.query('COMMIT');
    return measured;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** The same, on `client` already inside a REPEATABLE READ transaction (the gate's shared snapshot), which it leaves open. */
export async function measureInTransaction(client: PoolClient, plans: readonly TablePlan[], options: MeasureOptions): Promise<DatabaseMeasurement> {
  for (const setting of stableTextSettings) await client.query(setting);
  // The planner expects one group per row (it cannot know there are ≤ 16384 ranges) and would spill the
  // aggregate to disk at the default work_mem.
  await client.query(gateSessionSql(options.aggregateMemoryMB ?? defaultAggregateMemoryMB, { screen: false }));
  await client.query(`SELECT set_config('statement_timeout', $1, true)`, [String(Math.max(1, Math.round(options.statementTimeoutMs)))]);
  const clock = (await client.query<{ now: Date; replayed: Date | null }>('SELECT now(), pg_last_xact_replay_timestamp() AS replayed')).rows[0]!;
  const schema = await readSchemaFingerprint(client);
  const present = new Set(await listTables(client));
  const tables: Record<string, TableFigures> = {};
  const problems: Record<string, string> = {};
  for (const plan of plans) {
    if (!present.has(plan.table)) {
      problems[plan.table] = 'no such table';
      continue;
    }
    await client.query('SAVEPOINT dr_table');
    try {
      tables[plan.table] = await measureTable(client, plan);
      await client.query('RELEASE SAVEPOINT dr_table');
    } catch (error) {
      await client.query('ROLLBACK TO SAVEPOINT dr_table');
      problems[plan.table] = (error as Error).message;
    }
    options.onTable?.(plan.table);
  }
  return { snapshotAt: clock.now.toISOString(), replayedUpTo: clock.replayed?.toISOString() ?? null, tables, problems, schema };
}

async function measureTable(db: PoolClient, plan: TablePlan): Promise<TableFigures> {
  if (!plan.history) {
    const selects = ['count(*)::text AS rows', ...plan.money.flatMap((c, i) => [`coalesce(sum(${quoteIdentifier(c)}), 0)::text AS s${i}`, `coalesce(sum(abs(${quoteIdentifier(c)})), 0)::text AS a${i}`])];
    const row = (await db.query<Record<string, string>>(`SELECT ${selects.join(', ')} FROM ${plan.table}`)).rows[0]!;
    return { rows: row.rows!, money: Object.fromEntries(plan.money.map((c, i) => [c, { sum: row[`s${i}`]!, absSum: row[`a${i}`]! }])) };
  }
  const history = { ...plan.history, ...(await rangeGeometry(db, plan.table, plan.history)) };
  return measureHistoryTable(db, plan.table, plan.money, history);
}

/** A baseline chooses its key ranges from the keys it holds; a comparison uses the baseline's. */
async function rangeGeometry(db: Queryable, table: string, history: NonNullable<TablePlan['history']>): Promise<{ base: string; width: string }> {
  if (history.base !== undefined && history.width !== undefined) return { base: history.base, width: history.width };
  const key = quoteIdentifier(history.key);
  const { min, max } = (await db.query<{ min: string | null; max: string | null }>(`SELECT min(${key})::text AS min, max(${key})::text AS max FROM ${table}`)).rows[0]!;
  if (min === null || max === null) return { base: '1', width: String(minWidth) };
  const span = BigInt(max) - BigInt(min) + 1n;
  const width = (span + maxRanges - 1n) / maxRanges;
  return { base: min, width: String(width > minWidth ? width : minWidth) };
}

/** The key range of a key, with floor division so keys below the base fall in negative ranges. */
function rangeOf(key: string): string {
  return `CASE WHEN ${key}::bigint >= $2::bigint THEN (${key}::bigint - $2::bigint) / $3::bigint ELSE -((($2::bigint - ${key}::bigint) + $3::bigint - 1) / $3::bigint) END`;
}

/**
 * One scan of an append-only table: per key range, every row (for the totals) and the history rows
 * (created at or before `upTo`; a row without a creation time counts as history, so clearing it hides
 * nothing). Ranges are few (≤ 16384 plus any new ones); rows never leave the server.
 */
async function measureHistoryTable(db: PoolClient, table: string, money: string[], history: HistoryPlan): Promise<TableFigures> {
  const col = (c: string) => `t0.${quoteIdentifier(c)}`;
  await assertSameRowHash(db, history.rowHash);
  // The columns' types now, in this snapshot: they choose cheaper forms of the same hash (row-hash.ts).
  const types = new Map((await describeTable(db, table)).columns.map((c) => [c.name, c.type]));
  const hash = rowHashSql(history.rowHash, history.columns, col, types);
  const [digestSum1, digestSum2] = hash.sums('dr_digest');
  const selects = [
    'dr_range::text AS dr_range',
    'count(*)::text AS all_rows',
    'count(*) FILTER (WHERE dr_history)::text AS history_rows',
    ...money.flatMap((c, i) => [
      `coalesce(sum(${quoteIdentifier(c)}), 0)::text AS s${i}`,
      `coalesce(sum(abs(${quoteIdentifier(c)})), 0)::text AS a${i}`,
      // The history's sum as all rows' less the rest's: only rows written since the baseline (few) pay a second addition.
      `coalesce(sum(${quoteIdentifier(c)}) FILTER (WHERE NOT dr_history), 0)::text AS n${i}`,
    ]),
    `${digestSum1}::text AS digest1`,
    `${digestSum2}::text AS digest2`,
    `max(${quoteIdentifier(history.key)}) FILTER (WHERE dr_history)::text AS max_key`,
  ];
  const inner = `SELECT ${rangeOf(col(history.key))} AS dr_range, dr_history,
      ${[...new Set([history.key, ...money])].map(col).join(', ')},
      CASE WHEN dr_history THEN ${hash.row} END AS dr_digest
    FROM (SELECT t.*, coalesce(t.${quoteIdentifier(history.createdAt)} <= $1::timestamptz, true) AS dr_history FROM ${table} t) t0`;
  // The planner cannot know there are at most 16384 ranges: expecting a group per row it would sort every
  // row (on disk, past work_mem) rather than keep one aggregate per range in memory.
  await db.query('SET LOCAL enable_sort = off');
  const result = await db.query<Record<string, string | null>>(`SELECT ${selects.join(', ')} FROM (${inner}) x GROUP BY dr_range`, [history.upTo, history.base, history.width]);
  await db.query('SET LOCAL enable_sort = on');
  let rows = 0n;
  const totals = money.map(() => ({ sum: '0', absSum: '0' }));
  const historySums = money.map(() => '0');
  let digest1 = 0n;
  let digest2 = 0n;
  let historyRows = 0n;
  let maxKey: bigint | null = null;
  const ranges: HistoryRange[] = [];
  for (const r of result.rows) {
    rows += BigInt(r.all_rows!);
    const inRange = money.map((_, i) => subtractDecimal(r[`s${i}`]!, r[`n${i}`]!));
    money.forEach((_, i) => {
      totals[i] = { sum: addDecimalText(totals[i]!.sum, r[`s${i}`]!), absSum: addDecimalText(totals[i]!.absSum, r[`a${i}`]!) };
      historySums[i] = addDecimalText(historySums[i]!, inRange[i]!);
    });
    const inHistory = BigInt(r.history_rows!);
    if (inHistory === 0n) continue;
    historyRows += inHistory;
    digest1 += BigInt(r.digest1!);
    digest2 += BigInt(r.digest2!);
    const top = r.max_key;
    if (top !== null && top !== undefined && (maxKey === null || BigInt(top) > maxKey)) maxKey = BigInt(top);
    ranges.push({ index: r.dr_range ?? 'null', rows: r.history_rows!, sums: inRange, hash: `${r.digest1}:${r.digest2}` });
  }
  ranges.sort((a, b) => compareRangeIndex(a.index, b.index));
  return {
    rows: String(rows),
    money: Object.fromEntries(money.map((c, i) => [c, totals[i]!])),
    history: { ...history, money, rows: String(historyRows), sums: historySums, hash: `${digest1}:${digest2}`, maxKey: maxKey === null ? null : String(maxKey), ranges },
  };
}

/** Range indexes in numeric order, the key-less range last. */
export function compareRangeIndex(a: string, b: string): number {
  if (a === b) return 0;
  if (a === 'null') return 1;
  if (b === 'null') return -1;
  const [x, y] = [BigInt(a), BigInt(b)];
  return x < y ? -1 : 1;
}

/** The keys a range covers, as bigints: [first, last]. */
export function rangeBounds(history: Pick<HistoryPlan, 'base' | 'width'>, index: string): { first: bigint; last: bigint } | undefined {
  if (index === 'null') return undefined;
  const first = BigInt(history.base) + BigInt(index) * BigInt(history.width);
  return { first, last: first + BigInt(history.width) - 1n };
}
