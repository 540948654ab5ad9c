import type { Pool } from 'pg';
import { checkIdFrom, type CheckResult } from '../../contracts/validation';
import { mapWithConcurrency } from './bounded-concurrency';
import { compareDecimal, multiplyDecimal, withinRelativeTolerance } from './exact-decimal';
import { gateSessionSql, liveCheckMemoryMB } from './gate-session';
import { screenChecks, screenedTogether } from './screening';
import { beginReadOnly } from './shared-snapshot';
import { uniqueIndexProving } from './unique-proof';

/** Where a check reads: the gate's shared snapshot (undefined: its own transaction) and the memory its aggregates may use. */
export interface CheckSession {
  snapshot?: string;
  /** Default: what a check on a live database (the monitoring's) has always asked for. */
  aggregateMemoryMB?: number;
}

/**
 * What a check's query must show. Values are compared as exact decimals (counts, sums, seconds);
 * value checks read the first column of the first row, `zeroRows` passes when the query returns none.
 */
export type Expectation =
  | { kind: 'equals'; value: string }
  | { kind: 'withinRange'; min?: string; max?: string }
  | { kind: 'withinRelativeToleranceOfBaseline'; baseline: string; tolerance: number }
  | { kind: 'zeroRows' };

export interface CheckDefinition {
  /** Stable id of the check; from its name when absent. */
  id?: string;
  name: string;
  sql: string;
  params?: unknown[];
  expectation: Expectation;
  /** Server-side statement timeout for this check alone. */
  timeoutMs: number;
  /** For zero-row checks whose SQL ends in LIMIT n: n, so a full page reads "at least n". */
  rowLimit?: number;
  /** For a zero-row check of one table's rows: what it reads, so the table's screen can tell that it would find none. */
  screen?: CheckScreen;
  /**
   * For a check that finds rows sharing these columns: a unique index on them proves it passes without
   * reading the table (unique-proof.ts), read in the check's own transaction; without one the query runs.
   */
  uniqueProof?: { table: string; columns: string[] };
}

/**
 * What a zero-row check of one table's rows reads, so one pass over the table can answer it with the
 * table's other checks (screening.ts): the orphans of a foreign key, a column that must equal its
 * parent's, or a ledger (the entries are `table`, the balances `balances`).
 */
export type CheckScreen =
  | { kind: 'orphans'; table: string; columns: string[]; parent: string; parentColumns: string[] }
  | { kind: 'same-as-parent'; table: string; through: string; column: string; parent: string; parentKey: string; parentColumn: string }
  | { kind: 'ledger'; table: string; through: string; amount: string; balances: string; key: string; balance: string };

export type { CheckResult, Verdict } from '../../contracts/validation';

/** How many offending rows a failed zero-row check shows, and how many its message names. */
const sampleRows = 5;
const namedRows = 3;

/** "id 4001, reference pay-7f3a": an offending row in a message (keys and amounts only, as the check selects them). */
function describeRow(row: Record<string, unknown>): string {
  return Object.entries(row).map(([k, v]) => `${k} ${v instanceof Date ? v.toISOString() : String(v)}`).join(', ');
}

/** 0.07 -> "7%" (decimal arithmetic: 0.07 * 100 in floats is 7.000000000000001). */
function percent(fraction: number): string {
  const value = multiplyDecimal(String(fraction), '100');
  return (value.includes('.') ? value.replace(/0+$/, '').replace(/\.$/, '') : value) + '%';
}

export function describeExpectation(expectation: Expectation): string {
  switch (expectation.kind) {
    case 'equals':
      return `equals ${expectation.value}`;
    case 'withinRange':
      if (expectation.min !== undefined && expectation.max !== undefined) return `between ${expectation.min} and ${expectation.max}`;
      if (expectation.min !== undefined) return `at least ${expectation.min}`;
      if (expectation.max !== undefined) return `at most ${expectation.max}`;
      return 'any value';
    case 'withinRelativeToleranceOfBaseline':
      return `within ${percent(expectation.tolerance)} of baseline ${expectation.baseline}`;
    case 'zeroRows':
      return 'no rows';
  }
}

/** Pure: the verdict for a value the query returned. */
export function judge(expectation: Exclude<Expectation, { kind: 'zeroRows' }>, value: string | null): { pass: boolean; reason: string } {
  if (value === null) return { pass: false, reason: 'the query returned no value (NULL)' };
  switch (expectation.kind) {
    case 'equals':
      return compareDecimal(value, expectation.value) === 0 ? { pass: true, reason: `${value} equals ${expectation.value}` } : { pass: false, reason: `${value} is not ${expectation.value}` };
    case 'withinRange':
      if (expectation.min !== undefined && compareDecimal(value, expectation.min) < 0) return { pass: false, reason: `${value} is below the minimum ${expectation.min}` };
      if (expectation.max !== undefined && compareDecimal(value, expectation.max) > 0) return { pass: false, reason: `${value} is above the maximum ${expectation.max}` };
      return { pass: true, reason: `${value} is ${describeExpectation(expectation)}` };
    case 'withinRelativeToleranceOfBaseline':
      return withinRelativeTolerance(value, expectation.baseline, expectation.tolerance)
        ? { pass: true, reason: `${value} is ${describeExpectation(expectation)}` }
        : { pass: false, reason: `${value} is not ${describeExpectation(expectation)}` };
  }
}

function firstColumn(row: Record<string, unknown> | undefined): string | null {
  if (!row) return null;
  const value = Object.values(row)[0];
  if (value === null || value === undefined) return null;
  return value instanceof Date ? value.toISOString() : String(value);
}

/**
 * Runs one check read-only in its own transaction with its own statement timeout, so one slow
 * query cannot hold the gate and a check can never write.
 */
export async function runCheck(pool: Pool, check: CheckDefinition, session: CheckSession = {}): Promise<CheckResult> {
  const started = Date.now();
  const expectation = describeExpectation(check.expectation);
  const base = { id: check.id ?? checkIdFrom(check.name), name: check.name, expectation };
  const client = await pool.connect();
  try {
    await beginReadOnly(client, session.snapshot);
    await client.query(`SELECT set_config('statement_timeout', $1, true)`, [String(Math.max(1, Math.round(check.timeoutMs)))]);
    // Joins and groupings over the whole ledger: in memory rather than spilled, and no JIT compile per query.
    await client.query(gateSessionSql(session.aggregateMemoryMB ?? liveCheckMemoryMB, { screen: false }));
    const proof = check.uniqueProof ? await uniqueIndexProving(client, check.uniqueProof.table, check.uniqueProof.columns) : undefined;
    if (proof) {
      await client.query('COMMIT');
      return { ...base, value: '0 rows', verdict: 'pass', message: `no offending rows: the unique index ${proof} (valid, immediate, over the whole table) admits none`, durationMs: Date.now() - started };
    }
    const result = await client.query<Record<string, unknown>>(check.sql, check.params);
    await client.query('COMMIT');
    const durationMs = Date.now() - started;
    if (check.expectation.kind === 'zeroRows') {
      const count = result.rows.length;
      if (count === 0) return { ...base, value: '0 rows', verdict: 'pass', message: 'no offending rows', durationMs };
      const atLeast = check.rowLimit !== undefined && count >= check.rowLimit ? 'at least ' : '';
      const shown = count > sampleRows ? `, first ${sampleRows} shown` : '';
      const named = result.rows.slice(0, namedRows).map(describeRow).join('; ');
      return { ...base, value: `${atLeast}${count} rows`, verdict: 'fail', message: `${atLeast}${count} offending row${count === 1 ? '' : 's'}${shown}: ${named}${count > namedRows ? '; …' : ''}`, sample: result.rows.slice(0, sampleRows), durationMs };
    }
    const value = firstColumn(result.rows[0]);
    const verdict = judge(check.expectation, value);
    return { ...base, value, verdict: verdict.pass ? 'pass' : 'fail', message: verdict.reason, durationMs };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    return { ...base, value: null, verdict: 'error', message: (error as Error).message, durationMs: Date.now() - started };
  } finally {
    client.release();
  }
}

/** What a zero-row check reports when its screen found nothing: its own query would have returned no row. */
function screenedClean(check: CheckDefinition, durationMs: number): CheckResult {
  return { id: check.id ?? checkIdFrom(check.name), name: check.name, expectation: describeExpectation(check.expectation), value: '0 rows', verdict: 'pass', message: 'no offending rows', durationMs };
}

/**
 * Runs every check, at most `concurrency` at once; `onDone` is called as each finishes (for heartbeats).
 * Checks screened on one table share one pass over it (screening.ts); a check whose screen finds
 * something, or whose screen fails, runs its own query.
 */
export async function runChecks(
  pool: Pool,
  checks: readonly CheckDefinition[],
  options: CheckSession & { concurrency: number; beforeEach?: () => void | Promise<void>; onDone?: (result: CheckResult, done: number) => void },
): Promise<CheckResult[]> {
  let done = 0;
  const results = new Array<CheckResult>(checks.length);
  const finish = (index: number, result: CheckResult) => {
    results[index] = result;
    options.onDone?.(result, ++done);
  };
  const together = screenedTogether(checks);
  const screened = new Set([...together.values()].flat());
  const tasks: number[][] = [...together.values(), ...checks.map((_, i) => i).filter((i) => !screened.has(i)).map((i) => [i])];
  await mapWithConcurrency(tasks, options.concurrency, async (members) => {
    await options.beforeEach?.();
    let found: boolean[] = members.map(() => true);
    const started = Date.now();
    if (members.length > 1) found = await screenChecks(pool, members.map((i) => checks[i]!), options).catch(() => found);
    const screenMs = Date.now() - started;
    for (const [n, index] of members.entries()) {
      if (n > 0) await options.beforeEach?.();
      finish(index, found[n] ? await runCheck(pool, checks[index]!, options) : screenedClean(checks[index]!, screenMs));
    }
  });
  return results;
}
