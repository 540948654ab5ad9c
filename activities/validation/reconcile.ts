import type { DatabaseFigures } from './baseline';
import { compareDecimal, formatCount, formatMoney, withinRelativeTolerance } from './exact-decimal';

/**
 * Reconciliation against the baseline of the last known good backup, in the seed report's style:
 *   User Accounts: 15,234 (baseline: 15,230) ✅
 *   Transaction Sum: $12,456,789.45 (baseline: $12,456,123.21) ⚠️ REVIEW
 *
 * Counts drift with ordinary activity between the backup and now, so a count within the relative
 * tolerance is ✅. Money must reconcile to the cent: any difference is ⚠️ REVIEW for a person, and
 * beyond the tolerance it is ❌. Either kind beyond the tolerance is ❌.
 */
export type ReconciliationVerdict = 'match' | 'review' | 'mismatch';

export interface ReconciliationLine {
  metric: string;
  label: string;
  kind: 'count' | 'money';
  current: string | null;
  baseline: string | null;
  verdict: ReconciliationVerdict;
  line: string;
}

export interface Reconciliation {
  tolerance: number;
  /** The worst verdict of all lines. */
  verdict: ReconciliationVerdict;
  lines: ReconciliationLine[];
  /** The lines as text, one per line, for the incident report. */
  report: string;
}

interface Metric {
  metric: string;
  label: string;
  kind: 'count' | 'money';
  value: string;
}

const marks: Record<ReconciliationVerdict, string> = { match: '✅', review: '⚠️ REVIEW', mismatch: '❌' };

/** The seed report's names for the figures it lists, in its order. */
const seedMetrics: Array<{ metric: string; label: string }> = [
  { metric: 'users.rows', label: 'User Accounts' },
  { metric: 'transactions.rows', label: 'Total Transactions' },
  { metric: 'transactions.amount.sum', label: 'Transaction Sum' },
  { metric: 'savings_goals.current_amount.sum', label: 'Goals Total' },
];

function metricsOf(figures: DatabaseFigures): Map<string, Metric> {
  const metrics = new Map<string, Metric>();
  for (const [table, t] of Object.entries(figures.tables)) {
    metrics.set(`${table}.rows`, { metric: `${table}.rows`, label: `${table} rows`, kind: 'count', value: t.rows });
    for (const [column, sum] of Object.entries(t.sums)) {
      metrics.set(`${table}.${column}.sum`, { metric: `${table}.${column}.sum`, label: `${table}.${column} sum`, kind: 'money', value: sum });
    }
  }
  return metrics;
}

export function judgeFigure(kind: 'count' | 'money', current: string, baseline: string, tolerance: number): ReconciliationVerdict {
  if (compareDecimal(current, baseline) === 0) return 'match';
  if (!withinRelativeTolerance(current, baseline, tolerance)) return 'mismatch';
  return kind === 'count' ? 'match' : 'review';
}

function formatLine(label: string, kind: 'count' | 'money', current: string | null, baseline: string | null, verdict: ReconciliationVerdict): string {
  const format = kind === 'money' ? formatMoney : formatCount;
  return `${label}: ${current === null ? 'missing' : format(current)} (baseline: ${baseline === null ? 'none' : format(baseline)}) ${marks[verdict]}`;
}

function lineFor(metric: string, label: string, kind: 'count' | 'money', current: string | null, baseline: string | null, tolerance: number): ReconciliationLine {
  // A figure the recovered database lacks is lost data; one the baseline lacks is a new table to look at.
  const verdict = current === null ? 'mismatch' : baseline === null ? 'review' : judgeFigure(kind, current, baseline, tolerance);
  return { metric, label, kind, current, baseline, verdict, line: formatLine(label, kind, current, baseline, verdict) };
}

const severity: Record<ReconciliationVerdict, number> = { match: 0, review: 1, mismatch: 2 };

/** Pure: compares current figures with a baseline's. Seed metrics first, then every other table and money column, then differing account buckets. */
export function reconcile(current: DatabaseFigures, baseline: DatabaseFigures, tolerance: number): Reconciliation {
  if (!(tolerance >= 0)) throw new Error(`tolerance: must be a number >= 0 (seed: 0.01), got ${tolerance}`);
  const now = metricsOf(current);
  const then = metricsOf(baseline);
  const lines: ReconciliationLine[] = [];
  const seen = new Set<string>();
  for (const { metric, label } of seedMetrics) {
    const c = now.get(metric);
    const b = then.get(metric);
    if (!c && !b) continue;
    seen.add(metric);
    lines.push(lineFor(metric, label, (c ?? b)!.kind, c?.value ?? null, b?.value ?? null, tolerance));
  }
  const others = [...new Set([...now.keys(), ...then.keys()])].filter((m) => !seen.has(m)).sort();
  for (const metric of others) {
    const c = now.get(metric);
    const b = then.get(metric);
    const m = (c ?? b)!;
    lines.push(lineFor(metric, m.label, m.kind, c?.value ?? null, b?.value ?? null, tolerance));
  }
  lines.push(...bucketLines(current, baseline, tolerance));
  const verdict = lines.reduce<ReconciliationVerdict>((worst, l) => (severity[l.verdict] > severity[worst] ? l.verdict : worst), 'match');
  return { tolerance, verdict, lines, report: lines.map((l) => l.line).join('\n') };
}

/** Account buckets are listed only where the ledger differs, to point at the accounts to look at. */
function bucketLines(current: DatabaseFigures, baseline: DatabaseFigures, tolerance: number): ReconciliationLine[] {
  const now = current.accountBuckets;
  const then = baseline.accountBuckets;
  if (!now || !then || now.width !== then.width) return [];
  const byFirst = (buckets: NonNullable<DatabaseFigures['accountBuckets']>['buckets']) => new Map(buckets.map((b) => [b.firstAccountId, b]));
  const c = byFirst(now.buckets);
  const b = byFirst(then.buckets);
  const firsts = [...new Set([...c.keys(), ...b.keys()])].sort((x, y) => compareDecimal(x, y));
  const lines: ReconciliationLine[] = [];
  for (const first of firsts) {
    const cb = c.get(first);
    const bb = b.get(first);
    const last = (cb ?? bb)!.lastAccountId;
    const range = `Accounts ${formatCount(first)}–${formatCount(last)}`;
    const figures: Array<[string, string, 'count' | 'money', string | undefined, string | undefined]> = [
      ['transactions', `${range} transactions`, 'count', cb?.transactions, bb?.transactions],
      ['amount', `${range} transaction sum`, 'money', cb?.amount, bb?.amount],
      ['balance', `${range} balances`, 'money', cb?.balance, bb?.balance],
    ];
    for (const [name, label, kind, cv, bv] of figures) {
      const line = lineFor(`accountBuckets.${first}.${name}`, label, kind, cv ?? (kind === 'money' ? '0.00' : '0'), bv ?? (kind === 'money' ? '0.00' : '0'), tolerance);
      if (line.current !== line.baseline && compareDecimal(line.current!, line.baseline!) !== 0) lines.push(line);
    }
  }
  return lines;
}
