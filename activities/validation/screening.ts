import { randomInt } from 'node:crypto';
import type { Pool } from 'pg';
import type { CheckDefinition, CheckScreen, CheckSession } from './checks';
import { gateSessionSql, liveCheckMemoryMB } from './gate-session';
import { compareDecimal } from './exact-decimal';
import { quoteIdentifier, type Queryable } from './schema-catalog';
import { beginReadOnly } from './shared-snapshot';
import { uniqueIndexProving } from './unique-proof';

// Several checks read the same big table only through a few of its columns: the orphan check of each of
// its foreign keys, its ledger, the owner and currency it shares with a parent. Each on its own scans and
// joins every row. The screen answers all of them in one pass over the table: the table LEFT JOINed once
// to each parent it is checked against (on a key a unique index proves, so no row is counted twice) with
// one plain aggregate and no GROUP BY, which the server runs as a parallel hash join with partial
// aggregates. The ledger needs no per-owner sums: every balance equals its entries' sum exactly when, for
// weights w drawn at random per key, Σ amount·w(owner) over the entries equals Σ balance·w(key) over the
// balances (a linear sketch), which one more plain aggregate over the balance table answers. An owner
// column the table shares with another parent (a transaction's user is its account's) needs no join of
// its own for its orphan check: the owner check and the accounts' own owners decide it (screenPlan).
//
// The screen is one-sided: it says "clean" or "maybe". A check it cannot prove clean runs its own query,
// which names the offending rows exactly as before; a screen that fails runs them all.
//
// Why nobody can steer the sketch: its seed is drawn here, in the activity, from the operating system's
// CSPRNG for every gate, sent to the server as a bind parameter and never returned, so it reaches neither
// the workflow's history nor a report. Whoever plants a corruption has done so before it is drawn, so the
// errors are fixed before the weights. The sums are exact (numeric: no modulus, no overflow), so a nonzero
// error vector e sums to zero only if, for one owner k with e_k ≠ 0, its weight w(k) is the one value that
// cancels the rest: with 62-bit weights, about 2^-62. NULL balances and balances without a key are
// counted exactly beside the sketch. (No plain Σ amount = Σ balance: it is the sketch with every weight 1,
// so it adds no power.) One numeric product per row costs less than the two int8 terms modulo secret
// primes it replaces: those converted every amount to whole cents twice (the server evaluates each
// aggregate's argument on its own), and that conversion was most of the sketch's time at 10M rows.

/** The checks screened together: every screened check of one table, when it has at least two. */
export function screenedTogether(checks: readonly CheckDefinition[]): Map<string, number[]> {
  const byTable = new Map<string, number[]>();
  checks.forEach((check, i) => {
    if (check.screen) byTable.set(check.screen.table, [...(byTable.get(check.screen.table) ?? []), i]);
  });
  for (const [table, members] of byTable) if (members.length < 2) byTable.delete(table);
  return byTable;
}

/** A parent and the columns a child joins it on. */
interface Join {
  parent: string;
  childColumns: string[];
  parentColumns: string[];
}

/** What the screen needs from the catalog, read in the gate's own snapshot. */
export interface ScreenCatalog {
  /** "parent(col,…)" for every join whose parent columns a unique index proves (unique-proof.ts). */
  unique: Set<string>;
  /** "table.column" → its type as format_type prints it, for the ledgers' columns. */
  types: Map<string, string>;
}

/** Per gate: the weights' seed, never leaving the activity. */
export interface SketchSecrets {
  seed: bigint;
}

const uniqueKey = (table: string, columns: readonly string[]) => `${table}(${columns.join(',')})`;
const joinOf = (screen: CheckScreen): Join | undefined =>
  screen.kind === 'orphans' ? { parent: screen.parent, childColumns: screen.columns, parentColumns: screen.parentColumns }
    : screen.kind === 'same-as-parent' ? { parent: screen.parent, childColumns: [screen.through], parentColumns: [screen.parentKey] }
      : undefined;

/** Reads, inside the screen's transaction, which joined parent keys are unique and the ledgers' column types. */
export async function readScreenCatalog(db: Queryable, screens: readonly CheckScreen[]): Promise<ScreenCatalog> {
  const keys = new Map<string, [string, string[]]>();
  for (const s of screens) {
    const j = joinOf(s);
    if (j) keys.set(uniqueKey(j.parent, j.parentColumns), [j.parent, j.parentColumns]);
    // The balances' key must be unique too: two rows of one key could carry compensating balances.
    if (s.kind === 'ledger') keys.set(uniqueKey(s.balances, [s.key]), [s.balances, [s.key]]);
  }
  const unique = new Set<string>();
  for (const [k, [table, columns]] of keys) if (await uniqueIndexProving(db, table, columns)) unique.add(k);
  const types = new Map<string, string>();
  for (const s of screens) {
    if (s.kind !== 'ledger') continue;
    for (const [table, column] of [[s.table, s.through], [s.table, s.amount], [s.balances, s.key], [s.balances, s.balance]] as const) {
      const row = (await db.query<{ type: string }>(`SELECT format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = $1::regclass AND attname = $2 AND NOT attisdropped`, [table, column])).rows[0];
      if (row) types.set(`${table}.${column}`, row.type);
    }
  }
  return { unique, types };
}

const integerTypes = new Set(['smallint', 'integer', 'bigint']);

/** A money column the sketch sums exactly: an integer type or numeric (with or without a scale); not a float or money. */
export function exactMoney(type: string | undefined): boolean {
  return type !== undefined && (integerTypes.has(type) || /^numeric(\(\d+(,\d+)?\))?$/.test(type));
}

/** 62 bits of a weight: w · amount never leaves numeric's exact range, and a collision is ≈ 2^-62. */
const weightBits = '4611686018427387903';

/** How a key is hashed into a weight: both sides integers (as int8) or both of one type (as its text). Undefined: no sketch. */
function hashOf(through: string | undefined, key: string | undefined): ((column: string) => string) | undefined {
  if (through === undefined || key === undefined) return undefined;
  if (integerTypes.has(through) && integerTypes.has(key)) return (c) => `(hashint8extended((${c})::int8, $1::int8) & ${weightBits})`;
  if (through === key) return (c) => `(hashtextextended((${c})::text, $1::int8) & ${weightBits})`;
  return undefined;
}

/** One ledger's sketch: its term over the entries (in the child's pass) and its aggregate over the balances. */
interface LedgerSketch {
  entryColumns: string[];
  balanceSql: string;
}

/**
 * The ledger's sketch, or undefined when it cannot be exact (a money column of a float or money type,
 * keys of types that hash differently, a balance key no unique index proves): then the exact check runs.
 * Parameter $1: the seed. The products and sums are numeric, so they are exact at any scale.
 */
export function ledgerSketch(screen: Extract<CheckScreen, { kind: 'ledger' }>, catalog: ScreenCatalog, alias: string, n: number): LedgerSketch | undefined {
  const t = (table: string, column: string) => catalog.types.get(`${table}.${column}`);
  const hash = hashOf(t(screen.table, screen.through), t(screen.balances, screen.key));
  if (!exactMoney(t(screen.table, screen.amount)) || !exactMoney(t(screen.balances, screen.balance)) || !hash || !catalog.unique.has(uniqueKey(screen.balances, [screen.key]))) return undefined;
  // ::numeric is free on a numeric column and keeps an integer column's products from overflowing int8.
  const term = (value: string, key: string) => `sum((${value})::numeric * ${hash(key)})`;
  const through = `${alias}.${quoteIdentifier(screen.through)}`;
  const key = `b.${quoteIdentifier(screen.key)}`;
  const balance = `b.${quoteIdentifier(screen.balance)}`;
  return {
    entryColumns: [`${term(`${alias}.${quoteIdentifier(screen.amount)}`, through)} FILTER (WHERE ${through} IS NOT NULL) AS l${n}_w`],
    balanceSql: `SELECT ${term(balance, key)} AS w,
        count(*) FILTER (WHERE ${balance} IS NULL OR (${key} IS NULL AND ${balance} <> 0)) AS unmatched
      FROM ${screen.balances} b`,
  };
}

export interface ScreenPlan {
  /** One statement over the child table; parameter $1 (the sketch's seed) where a ledger is sketched. */
  sql: string;
  /** Per check that needs one: a cheap statement over a parent (a ledger's balances, a derived orphan check's middle table). */
  sides: Array<{ sql: string; n: number }>;
  /**
   * Per check: the columns of `sql` (and whether its side statement) that must all be zero for it to be
   * clean, or undefined (not screened: its own query runs).
   */
  answers: Array<{ zero: string[]; side: boolean } | undefined>;
}

type SameAsParentScreen = Extract<CheckScreen, { kind: 'same-as-parent' }>;

/** The screen of `checks` (all screened on one table): pure, from the catalog's facts. */
export function screenPlan(checks: readonly CheckDefinition[], catalog: ScreenCatalog): ScreenPlan {
  const table = checks[0]!.screen!.table;
  const joins: Join[] = [];
  const aliasOf = (j: Join) => {
    let i = joins.findIndex((x) => x.parent === j.parent && x.childColumns.join() === j.childColumns.join() && x.parentColumns.join() === j.parentColumns.join());
    if (i < 0) i = joins.push(j) - 1;
    return `j${i}`;
  };
  const proven = (j: Join) => catalog.unique.has(uniqueKey(j.parent, j.parentColumns));
  const columns: string[] = [];
  const sides: ScreenPlan['sides'] = [];
  const count = (i: number, condition: string) => {
    columns.push(`count(*) FILTER (WHERE ${condition}) AS found${i}`);
    return `found${i}`;
  };
  const answers = checks.map((check, i): ScreenPlan['answers'][number] => {
    const s = check.screen!;
    if (s.kind === 'ledger') {
      const sketch = ledgerSketch(s, catalog, 'c', i);
      if (!sketch) return undefined;
      columns.push(...sketch.entryColumns);
      sides.push({ sql: sketch.balanceSql, n: i });
      return { zero: [], side: true };
    }
    const join = joinOf(s)!;
    if (s.kind === 'orphans' && s.columns.length === 1) {
      // An owner column the table also shares with another parent needs no join of its own: where every
      // row's owner equals the owner of the row its other reference points at (the same-as-parent check,
      // screened here) and every such owner exists (a cheap check of that smaller table), every owner exists.
      const owner = s.columns[0]!;
      // Only a same-as-parent check whose join is proven: that one is always screened here, so its count exists.
      const viaIndex = checks.findIndex((o) => o.screen?.kind === 'same-as-parent' && o.screen.column === owner && proven(joinOf(o.screen)!));
      if (viaIndex >= 0) {
        const via = checks[viaIndex]!.screen as SameAsParentScreen;
        const p = aliasOf(joinOf(via)!);
        const unmatched = count(i, `c.${quoteIdentifier(owner)} IS NOT NULL AND ${p}.${quoteIdentifier(via.parentKey)} IS NULL`);
        const same = `found${viaIndex}`;
        sides.push({
          n: i,
          sql: `SELECT count(*) AS unmatched FROM ${via.parent} m WHERE m.${quoteIdentifier(via.parentColumn)} IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM ${s.parent} p WHERE p.${quoteIdentifier(s.parentColumns[0]!)} = m.${quoteIdentifier(via.parentColumn)})`,
        });
        return { zero: [unmatched, same], side: true };
      }
    }
    // A parent key no unique index proves could match a row twice: its check runs on its own.
    if (!proven(join)) return undefined;
    const p = aliasOf(join);
    const matched = `${p}.${quoteIdentifier(join.parentColumns[0]!)}`;
    return {
      zero: [count(i, s.kind === 'orphans'
        ? `${s.columns.map((c) => `c.${quoteIdentifier(c)} IS NOT NULL`).join(' AND ')} AND ${matched} IS NULL`
        : `${matched} IS NOT NULL AND c.${quoteIdentifier(s.column)} IS DISTINCT FROM ${p}.${quoteIdentifier(s.parentColumn)}`)],
      side: false,
    };
  });
  const from = joins.map((j, i) => `LEFT JOIN ${j.parent} j${i} ON ${j.childColumns.map((c, k) => `j${i}.${quoteIdentifier(j.parentColumns[k]!)} = c.${quoteIdentifier(c)}`).join(' AND ')}`);
  const sql = columns.length ? `SELECT ${columns.join(', ')} FROM ${table} c ${from.join(' ')}` : '';
  return { sql, sides, answers };
}

/** A fresh seed for one gate, from the CSPRNG. */
export function drawSketchSecrets(): SketchSecrets {
  return { seed: BigInt(randomInt(2 ** 47)) };
}

const big = (v: unknown) => BigInt(String(v ?? 0));
const decimal = (v: unknown) => (v === null || v === undefined ? '0' : String(v));

/** Pure: per check, whether its own query could find a row (true: run it). */
export function judgeScreen(plan: ScreenPlan, row: Record<string, unknown>, sideRows: Map<number, Record<string, unknown>>): boolean[] {
  return plan.answers.map((answer, n) => {
    if (!answer) return true;
    if (answer.zero.some((column) => big(row[column]) !== 0n)) return true;
    if (!answer.side) return false;
    const side = sideRows.get(n);
    if (!side) return true;
    if (big(side.unmatched) !== 0n) return true;
    if (!('w' in side)) return false;
    return compareDecimal(decimal(row[`l${n}_w`]), decimal(side.w)) !== 0;
  });
}

/** Which of `checks` (all screened on one table) could find an offending row, read-only in the gate's snapshot. */
export async function screenChecks(pool: Pool, checks: readonly CheckDefinition[], session: CheckSession): Promise<boolean[]> {
  const client = await pool.connect();
  try {
    await beginReadOnly(client, session.snapshot);
    await client.query(`SELECT set_config('statement_timeout', $1, true)`, [String(Math.max(1, Math.round(Math.max(...checks.map((c) => c.timeoutMs)))))]);
    await client.query(gateSessionSql(session.aggregateMemoryMB ?? liveCheckMemoryMB, { screen: true }));
    const plan = screenPlan(checks, await readScreenCatalog(client, checks.map((c) => c.screen!)));
    const secrets = drawSketchSecrets();
    const params = [String(secrets.seed)];
    // Only the statements that use them get the secrets (a statement must use every parameter it is given).
    const uses = (sql: string) => (/\$1::/.test(sql) ? params : []);
    const row = plan.sql ? (await client.query<Record<string, unknown>>(plan.sql, uses(plan.sql))).rows[0]! : {};
    const sideRows = new Map<number, Record<string, unknown>>();
    for (const side of plan.sides) sideRows.set(side.n, (await client.query<Record<string, unknown>>(side.sql, uses(side.sql))).rows[0]!);
    await client.query('COMMIT');
    return judgeScreen(plan, row, sideRows);
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
