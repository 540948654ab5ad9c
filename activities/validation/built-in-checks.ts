import type { Baseline } from './baseline';
import type { SkippedCheck } from '../../contracts/validation';
import type { CheckDefinition } from './checks';
import { roundDecimal, toleranceBounds } from './exact-decimal';
import { quoteIdentifier, type ForeignKey } from './schema-catalog';

export interface BuiltInCheckOptions {
  /** Every foreign key of the schema (from pg_constraint): one orphan check and one integrity check each. */
  foreignKeys: ForeignKey[];
  baseline?: Baseline;
  /** Relative tolerance against the baseline (seed: 0.01). */
  tolerance: number;
  /** Expected user count; when omitted, the baseline's count within the tolerance. */
  userCountRange?: { min?: string; max?: string };
  /** ISO 8601; the newest transaction must be at most `rpoSeconds` older. The server's now() when omitted. */
  incidentTime?: string;
  rpoSeconds: number;
  timeoutMs: number;
}


/** Offending rows a zero-row check lists at most. */
const offendingRowLimit = 1000;

/**
 * The seed's pre-cutover validation ("User count matches expected range", "Transaction totals within
 * acceptable variance", "No orphaned records found", "Financial calculations validate", "Recent data
 * integrity confirmed") plus "Referential Integrity: all foreign keys and constraints valid".
 */
export function builtInChecks(options: BuiltInCheckOptions): { checks: CheckDefinition[]; skipped: SkippedCheck[] } {
  const checks: CheckDefinition[] = [];
  const skipped: SkippedCheck[] = [];
  const timeoutMs = options.timeoutMs;

  const baselineUsers = options.baseline?.tables['users'] ? toleranceBounds(options.baseline.tables['users'].rows, options.tolerance) : undefined;
  const userRange = options.userCountRange ?? (baselineUsers ? { min: roundDecimal(baselineUsers.min, 'up'), max: roundDecimal(baselineUsers.max, 'down') } : { min: '1' });
  checks.push({ id: 'user-count', name: 'User count matches expected range', sql: 'SELECT count(*) FROM users', expectation: { kind: 'withinRange', ...userRange }, timeoutMs });

  const transactions = options.baseline?.tables['transactions'];
  if (transactions) {
    checks.push({ id: 'transaction-count', name: 'Transaction count within acceptable variance of the baseline', sql: 'SELECT count(*) FROM transactions', expectation: { kind: 'withinRelativeToleranceOfBaseline', baseline: transactions.rows, tolerance: options.tolerance }, timeoutMs });
    checks.push({ id: 'transaction-total', name: 'Transaction total within acceptable variance of the baseline', sql: 'SELECT coalesce(sum(amount), 0) FROM transactions', expectation: { kind: 'withinRelativeToleranceOfBaseline', baseline: transactions.sums['amount'] ?? '0', tolerance: options.tolerance }, timeoutMs });
  } else {
    const reason = options.baseline ? `baseline ${options.baseline.backupLabel} has no transactions table` : 'no baseline given (pass baselineKey from captureBaseline)';
    skipped.push({ id: 'transaction-count', name: 'Transaction count within acceptable variance of the baseline', reason }, { id: 'transaction-total', name: 'Transaction total within acceptable variance of the baseline', reason });
  }

  for (const fk of options.foreignKeys) checks.push(orphanCheck(fk, timeoutMs));

  checks.push({
    id: 'balances-match-ledger',
    name: 'Financial calculations validate: every account balance equals the sum of its transactions',
    sql: `SELECT a.id AS account_id, a.balance::text AS balance, coalesce(l.total, 0)::text AS ledger_sum
          FROM accounts a LEFT JOIN (SELECT account_id, sum(amount) AS total FROM transactions GROUP BY account_id) l ON l.account_id = a.id
          WHERE a.balance IS DISTINCT FROM coalesce(l.total, 0)
          ORDER BY a.id LIMIT ${offendingRowLimit}`,
    expectation: { kind: 'zeroRows' },
    rowLimit: offendingRowLimit,
    timeoutMs,
  });

  const at = options.incidentTime ? `the incident time ${options.incidentTime}` : 'now (no incident time given)';
  checks.push({
    id: 'recent-data',
    name: `Recent data integrity: newest transaction at most ${options.rpoSeconds} s (RPO) before ${at}`,
    // Seconds from the newest transaction to the incident; NULL (a failure) when there are no transactions.
    sql: `SELECT round(extract(epoch FROM (coalesce($1::timestamptz, now()) - max(created_at))), 3) AS seconds_before_incident FROM transactions`,
    params: [options.incidentTime ?? null],
    expectation: { kind: 'withinRange', max: String(options.rpoSeconds) },
    timeoutMs,
  });

  for (const fk of options.foreignKeys) checks.push(integrityCheck(fk, timeoutMs));
  if (options.baseline?.foreignKeys) {
    // A constraint dropped since the backup is invisible to the per-FK checks above, which read the live catalog.
    checks.push({
      id: 'baseline-foreign-keys-defined',
      name: 'Referential integrity: every foreign key of the baseline is still defined',
      sql: `SELECT expected AS missing_foreign_key FROM unnest($1::text[]) AS expected
            EXCEPT SELECT c.conrelid::regclass::text || '.' || c.conname FROM pg_constraint c WHERE c.contype = 'f'
            ORDER BY 1`,
      params: [options.baseline.foreignKeys],
      expectation: { kind: 'zeroRows' },
      timeoutMs,
    });
  } else {
    skipped.push({ id: 'baseline-foreign-keys-defined', name: 'Referential integrity: every foreign key of the baseline is still defined', reason: options.baseline ? `baseline ${options.baseline.backupLabel} predates foreign-key capture` : 'no baseline given (pass baselineKey from captureBaseline)' });
  }
  return { checks, skipped };
}

function arrow(fk: ForeignKey): string {
  return `${fk.childTable}.${fk.childColumns.join(',')} → ${fk.parentTable}.${fk.parentColumns.join(',')}`;
}

/** Rows whose foreign key points at nothing (MATCH SIMPLE: a row with a NULL in the key is not checked). */
function orphanCheck(fk: ForeignKey, timeoutMs: number): CheckDefinition {
  const named = (fk.childKeyColumns.length ? fk.childKeyColumns : fk.childColumns).concat(fk.childColumns.filter((c) => !fk.childKeyColumns.includes(c)));
  const notNull = fk.childColumns.map((c) => `c.${quoteIdentifier(c)} IS NOT NULL`).join(' AND ');
  const joins = fk.childColumns.map((c, i) => `p.${quoteIdentifier(fk.parentColumns[i]!)} = c.${quoteIdentifier(c)}`).join(' AND ');
  return {
    id: `orphans:${fk.childTable}.${fk.name}`,
    name: `No orphaned records: ${arrow(fk)}`,
    sql: `SELECT ${named.map((c) => `c.${quoteIdentifier(c)}::text AS ${quoteIdentifier(c)}`).join(', ')}
          FROM ${fk.childTable} c
          WHERE ${notNull} AND NOT EXISTS (SELECT 1 FROM ${fk.parentTable} p WHERE ${joins})
          LIMIT ${offendingRowLimit}`,
    expectation: { kind: 'zeroRows' },
    rowLimit: offendingRowLimit,
    timeoutMs,
  };
}

/** A constraint added NOT VALID, or with its RI triggers disabled, no longer guarantees anything. Read live from the catalog. */
function integrityCheck(fk: ForeignKey, timeoutMs: number): CheckDefinition {
  return {
    id: `foreign-key-enforced:${fk.childTable}.${fk.name}`,
    name: `Referential integrity: ${fk.name} (${arrow(fk)}) validated and enforced`,
    sql: `SELECT c.conname::text AS constraint_name, c.convalidated AS validated,
                 (SELECT count(*) FROM pg_trigger t WHERE t.tgconstraint = c.oid AND t.tgenabled = 'D')::int AS disabled_triggers
          FROM pg_constraint c
          WHERE c.contype = 'f' AND c.conname = $1 AND c.conrelid = $2::regclass
            AND (NOT c.convalidated OR EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgconstraint = c.oid AND t.tgenabled = 'D'))`,
    params: [fk.name, fk.childTable],
    expectation: { kind: 'zeroRows' },
    timeoutMs,
  };
}
