// What the validation gate returns: every check with a stable id, its verdict and its own words. The one
// line per check (with its mark) is rendering only; runbooks decide on `passed` and the verdicts.

/** review: nothing is known to be wrong, but a person must see it before approving the next gate. */
export type Verdict = 'pass' | 'review' | 'fail' | 'error';

export interface CheckResult {
  /** Stable from run to run, e.g. "history:transactions", "orphans:transactions.transactions_account_id_fkey". */
  id: string;
  name: string;
  /** The measured value ("15234", "0 rows", "3 rows"), or null when the query failed. */
  value: string | null;
  /** The expectation in words, e.g. "between 15080 and 15390". */
  expectation: string;
  verdict: Verdict;
  /** One line for the report: why it passed or failed, or the database's error. */
  message: string;
  /** For checks that failed: the first offending rows or key ranges (keys and amounts only). */
  sample?: Record<string, unknown>[];
  durationMs: number;
}

export interface SkippedCheck {
  id?: string;
  name: string;
  reason: string;
}

/**
 * One line of the reconciliation against the baseline, in the seed's form
 * ("User Accounts: 15,234 (baseline: 15,230) ✅"); `detail` explains the difference.
 */
export type ReconciliationVerdict = 'match' | 'review' | 'mismatch';

export interface ReconciliationLine {
  /** Stable: "<table>.rows" or "<table>.<column>.sum". */
  metric: string;
  label: string;
  kind: 'count' | 'money';
  current: string | null;
  baseline: string | null;
  verdict: ReconciliationVerdict;
  /** The seed's form: label, figure, baseline figure, mark. */
  line: string;
  /** Why: the growth since the baseline in rows and money against the tolerance, or what differs. */
  detail?: string;
}

/** The baseline a gate compared with: the one taken with the last known good backup at or before the recovery target. */
export interface BaselineRef {
  key: string;
  database: string;
  backupLabel: string;
  /** The backup's consistent point (at least): what the baseline describes. */
  consistentAt: string;
  /** Rows of append-only tables created up to here are history that must not change. */
  historyUpTo: string;
}

export interface ValidationGateResult {
  database: string;
  /** The server's clock when the checks started, ISO 8601. */
  checkedAt: string;
  /** True when no check failed or errored (REVIEW lines do not fail the gate; the next gate shows them). */
  passed: boolean;
  checks: CheckResult[];
  /** Checks that could not run for lack of input (e.g. no baseline), with why. */
  skipped: SkippedCheck[];
  /** The path the gate took (pathLine; absent before it was reported), then one line per check (checkLine), for people and reports. */
  summary: string[];
  /** The baseline compared with; absent when there was none (then `noBaseline` says why). */
  baseline?: BaselineRef;
  noBaseline?: string;
  /** Every table and money column against the baseline. */
  reconciliation?: ReconciliationLine[];
  /** What a person must see before approving the next gate: REVIEW lines, schema additions, a missing baseline. */
  review?: string[];
  /**
   * How the gate reached its verdict: the full gate (every check over whole tables), or incrementally
   * against the baseline (only what the WAL says changed since its LSN); with why, for the report.
   * Absent in results recorded before the incremental path.
   */
  path?: ValidationPath;
}

export interface ValidationPath {
  kind: 'full' | 'incremental';
  /** For people: what was re-checked, or why the full gate ran. */
  detail: string;
}

/** "Validated incrementally: …" / "Full gate: …": the path as one report line. */
export const pathLine = (path: ValidationPath) => `${path.kind === 'incremental' ? 'Validated incrementally against the baseline' : 'Full validation gate'}: ${path.detail}`;

const marks: Record<Verdict, string> = { pass: '✅', review: '⚠️ REVIEW', fail: '❌', error: '⚠️ ERROR' };

/** "❌ No orphaned records: …: 1 rows (expected no rows) — 1 offending row": one check for a person. */
export function checkLine(check: Pick<CheckResult, 'verdict' | 'name' | 'value' | 'expectation' | 'message'>): string {
  const detail = check.verdict === 'pass' ? '' : ` — ${check.message}`;
  return `${marks[check.verdict]} ${check.name}: ${check.value ?? 'no value'} (expected ${check.expectation})${detail}`;
}

const blocking = (c: Pick<CheckResult, 'verdict'>) => c.verdict === 'fail' || c.verdict === 'error';

/** The checks that block, as lines joined with "; ": what a runbook says when the gate blocks. */
export function describeFailedChecks(result: Pick<ValidationGateResult, 'checks'>): string {
  return result.checks.filter(blocking).map(checkLine).join('; ');
}

/** "9/10 checks passed" (", 1 to review"): the count for the timeline. */
export function countPassed(result: Pick<ValidationGateResult, 'checks'>): string {
  const toReview = result.checks.filter((c) => c.verdict === 'review').length;
  const passed = result.checks.filter((c) => c.verdict === 'pass').length + toReview;
  return `${passed}/${result.checks.length} checks passed${toReview ? `, ${toReview} to review` : ''}`;
}

/** True when no check blocks. */
export function gatePasses(checks: readonly Pick<CheckResult, 'verdict'>[]): boolean {
  return !checks.some(blocking);
}

/**
 * The reconciliation as the report shows it: the seed's lines with what explains them, or, without a
 * baseline, one plain sentence saying that nothing was compared. Results recorded before the gate
 * reconciled give no lines.
 */
export function reconciliationReport(result: Pick<ValidationGateResult, 'reconciliation' | 'noBaseline' | 'baseline'>): string[] {
  if (result.noBaseline) return [`No baseline: ${result.noBaseline}. The recovered data was not reconciled with a known good state (history, schema and totals were not compared).`];
  if (!result.reconciliation) return [];
  const header = result.baseline ? [`Against baseline of backup ${result.baseline.backupLabel} (consistent at ${result.baseline.consistentAt}; history up to ${result.baseline.historyUpTo}):`] : [];
  return [...header, ...result.reconciliation.map((l) => (l.detail ? `${l.line} — ${l.detail}` : l.line))];
}

/** A check's id from its name when a definition gives none: lowercase words joined by dashes. */
export function checkIdFrom(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 80);
}
