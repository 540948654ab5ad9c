import type { Pool } from 'pg';
import type { CheckDefinition, CheckSession, ScreenGroups } from './checks';
import { gateSessionSql, liveCheckMemoryMB } from './gate-session';
import { quoteIdentifier } from './schema-catalog';
import { beginReadOnly } from './shared-snapshot';

// Several checks read the same big table only through a few of its columns: the orphan check of each of
// its foreign keys, its ledger, the owner and currency it shares with a parent. Each on its own scans
// and joins every row. Grouped once by the columns they read (a table's rows fall into about as many
// groups as its parents have rows), the table answers all of them in one scan; only a check whose
// screen finds something runs its own query, which names the offending rows exactly as before.

/** The checks screened together: every screened check of one table, when it has at least two. */
export function screenedTogether(checks: readonly CheckDefinition[]): Map<string, number[]> {
  const byTable = new Map<string, number[]>();
  checks.forEach((check, i) => {
    if (check.screen) byTable.set(check.screen.table, [...(byTable.get(check.screen.table) ?? []), i]);
  });
  for (const [table, members] of byTable) if (members.length < 2) byTable.delete(table);
  return byTable;
}

/** One statement: the table grouped by every column its checks read, and per check whether it would find a row. */
export function screenSql(checks: readonly CheckDefinition[]): string {
  const table = checks[0]!.screen!.table;
  const columns = [...new Set(checks.flatMap((c) => c.screen!.columns))];
  const sums = [...new Set(checks.flatMap((c) => c.screen!.sums))];
  const groups: ScreenGroups = {
    name: 'dr_groups',
    column: (name) => `dr_groups.dr_c${columns.indexOf(name)}`,
    sum: (name) => `dr_groups.dr_s${sums.indexOf(name)}`,
  };
  const grouped = [...columns.map((c, i) => `${quoteIdentifier(c)} AS dr_c${i}`), ...sums.map((c, i) => `sum(${quoteIdentifier(c)}) AS dr_s${i}`)];
  return `WITH dr_groups AS MATERIALIZED (SELECT ${grouped.join(', ')} FROM ${table} GROUP BY ${columns.map((_, i) => i + 1).join(', ')})
    SELECT ${checks.map((c, i) => `EXISTS (${c.screen!.finds(groups)}) AS found${i}`).join(', ')}`;
}

/** Which of `checks` (all screened on one table) would find an offending row, in one read-only statement. */
export async function screenChecks(pool: Pool, checks: readonly CheckDefinition[], session: CheckSession): Promise<boolean[]> {
  const client = await pool.connect();
  try {
    await beginReadOnly(client, session.snapshot);
    await client.query(`SELECT set_config('statement_timeout', $1, true)`, [String(Math.max(1, Math.round(Math.max(...checks.map((c) => c.timeoutMs)))))]);
    await client.query(gateSessionSql(session.aggregateMemoryMB ?? liveCheckMemoryMB, { screen: true }));
    const row = (await client.query<Record<string, boolean>>(screenSql(checks))).rows[0]!;
    await client.query('COMMIT');
    return checks.map((_, i) => row[`found${i}`] === true);
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
