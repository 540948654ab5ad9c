// What the validation gate returns: every check with a stable id, its verdict and its own words. The one
// line per check (with its mark) is rendering only; runbooks decide on `passed` and the verdicts.

export type Verdict = 'pass' | 'fail' | 'error';

export interface CheckResult {
  /** Stable from run to run, e.g. "user-count", "orphans:transactions.transactions_account_id_fkey". */
  id: string;
  name: string;
  /** The measured value ("15234", "0 rows", "3 rows"), or null when the query failed. */
  value: string | null;
  /** The expectation in words, e.g. "between 15080 and 15390". */
  expectation: string;
  verdict: Verdict;
  /** One line for the report: why it passed or failed, or the database's error. */
  message: string;
  /** For zero-row checks that failed: the first offending rows (keys and amounts only). */
  sample?: Record<string, unknown>[];
  durationMs: number;
}

export interface SkippedCheck {
  id?: string;
  name: string;
  reason: string;
}

export interface ValidationGateResult {
  database: string;
  /** The server's clock when the checks started, ISO 8601. */
  checkedAt: string;
  /** True only when every check passed. */
  passed: boolean;
  checks: CheckResult[];
  /** Checks that could not run for lack of input (e.g. no baseline), with why. */
  skipped: SkippedCheck[];
  /** One line per check (checkLine), for people and reports. */
  summary: string[];
}

const marks: Record<Verdict, string> = { pass: '✅', fail: '❌', error: '⚠️ ERROR' };

/** "❌ No orphaned records: …: 1 rows (expected no rows) — 1 offending row": one check for a person. */
export function checkLine(check: Pick<CheckResult, 'verdict' | 'name' | 'value' | 'expectation' | 'message'>): string {
  const detail = check.verdict === 'pass' ? '' : ` — ${check.message}`;
  return `${marks[check.verdict]} ${check.name}: ${check.value ?? 'no value'} (expected ${check.expectation})${detail}`;
}

/** The checks that did not pass, as lines joined with "; ": what a runbook says when the gate blocks. */
export function describeFailedChecks(result: Pick<ValidationGateResult, 'checks'>): string {
  return result.checks.filter((c) => c.verdict !== 'pass').map(checkLine).join('; ');
}

/** "9/10 checks passed": the count for the timeline. */
export function countPassed(result: Pick<ValidationGateResult, 'checks'>): string {
  return `${result.checks.filter((c) => c.verdict === 'pass').length}/${result.checks.length} checks passed`;
}

/** A check's id from its name when a definition gives none: lowercase words joined by dashes. */
export function checkIdFrom(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 80);
}
