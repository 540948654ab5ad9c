/**
 * The stack-wide readiness check (`dr readiness`, and its schedule): could a recovery start now and meet
 * its objectives? The check names are the fixed set config/alerts/METRICS.md gives dr_readiness_check_ok.
 */
export const readinessCheckNames = ['backup-age', 'wal-archive', 'repository-space', 'reachability', 'secrets', 'approvers', 'drill-schedules'] as const;
export type ReadinessCheckName = (typeof readinessCheckNames)[number];

/** One line: a check of one thing (a database, a secret, a gate, a schedule). */
export interface StackReadinessLine {
  check: ReadinessCheckName;
  /** What was checked: a database's config name, a secret's name, a gate, a schedule id. Never a value. */
  subject: string;
  passed: boolean;
  /** Passed, but worth a look (e.g. a gate whose votes need no proof, as configured). */
  warning?: boolean;
  /** What was found, and on failure what to do next. */
  detail: string;
}

export interface StackReadiness {
  environment: string;
  checkedAt: string;
  /** Every line passed. */
  ready: boolean;
  lines: StackReadinessLine[];
}

/** The lines that failed, one per line: "backup-age (production): …". */
export function readinessFailures(r: StackReadiness): string[] {
  return r.lines.filter((l) => !l.passed).map((l) => `${l.check} (${l.subject}): ${l.detail}`);
}
