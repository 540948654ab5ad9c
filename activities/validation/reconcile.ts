import type { CheckResult, ReconciliationLine, ReconciliationVerdict } from '../../contracts/validation';
import { toleranceOf, type ApplicationDeclaration, type TableDeclaration } from './declaration';
import { compareDecimal, formatCount, formatMoney, multiplyDecimal, subtractDecimal, withinRelativeTolerance } from './exact-decimal';
import type { HistoryComparison } from './history';
import type { TableFigures } from './measure';

/**
 * Reconciliation against the baseline of the last known good backup, in seed 000's report form:
 *   User Accounts: 15,234 (baseline: 15,230) ✅
 *   Transaction Sum: $12,456,789.45 (baseline: $12,456,123.21) ⚠️ REVIEW
 * Every table of either side gets a rows line and a line per money column; money is exact to the cent.
 *
 * What a difference means depends on the table:
 * - append-only: its history (rows up to the baseline's point) must equal the baseline's, so a
 *   difference there is ❌; what came after is growth, ✅ within the tolerance, ⚠️ REVIEW beyond it;
 *   fewer rows than the baseline is ❌ (nothing is ever deleted from it).
 * - a ledger's balances move exactly as the ledger does since the baseline, to the cent, or ❌.
 * - mutable: a change within the tolerance is ordinary (✅, explained in rows and money); growth
 *   beyond it is ⚠️ REVIEW; a loss beyond it is ❌.
 * - a table the recovered copy lacks is ❌; one the baseline lacks is ⚠️ REVIEW.
 */
export interface ReconcileInput {
  baseline: Record<string, TableFigures>;
  current: Record<string, TableFigures>;
  /** Tables of the current side that could not be measured, with why. */
  problems?: Record<string, string>;
  app?: ApplicationDeclaration;
  /** Per append-only table, how its history compared. */
  history?: Record<string, HistoryComparison>;
}

export type { ReconciliationLine, ReconciliationVerdict };

const marks: Record<ReconciliationVerdict, string> = { match: '✅', review: '⚠️ REVIEW', mismatch: '❌' };
const severity: Record<ReconciliationVerdict, number> = { match: 0, review: 1, mismatch: 2 };

/** A table's declaration whether it was declared plainly or schema-qualified. */
export function declarationFor(app: ApplicationDeclaration | undefined, table: string): TableDeclaration | undefined {
  return app?.tables[table] ?? app?.tables[`public.${table}`];
}

const abs = (d: string) => (d.startsWith('-') ? d.slice(1) : d);
const signed = (d: string, format: (s: string) => string) => (d.startsWith('-') ? `-${format(abs(d))}` : `+${format(d)}`);
/** For people only (money and counts stay exact): "1.25 %". */
function percentOf(delta: string, of: string): string {
  if (compareDecimal(of, '0') === 0) return compareDecimal(delta, '0') === 0 ? '0 %' : 'new';
  const p = (Number(delta) / Number(of)) * 100;
  return `${Math.abs(p) < 0.01 && p !== 0 ? Number(p.toPrecision(1)) : Number(p.toFixed(2))} %`;
}
const pct = (fraction: number) => `${Number((fraction * 100).toFixed(4))} %`;

export function formatLine(label: string, kind: 'count' | 'money', current: string | null, baseline: string | null, verdict: ReconciliationVerdict): string {
  const format = kind === 'money' ? formatMoney : formatCount;
  return `${label}: ${current === null ? 'missing' : format(current)} (baseline: ${baseline === null ? 'none' : format(baseline)}) ${marks[verdict]}`;
}

interface Judged {
  verdict: ReconciliationVerdict;
  detail?: string;
}

/** Pure: every line of the reconciliation, labelled lines first (in the application's order), then the rest. */
export function reconcile(input: ReconcileInput): ReconciliationLine[] {
  const { baseline, current, app } = input;
  const declaredOrder = Object.keys(app?.tables ?? {});
  const order = (table: string) => {
    const i = declaredOrder.findIndex((t) => t === table || t === `public.${table}`);
    return i < 0 ? declaredOrder.length : i;
  };
  const tables = [...new Set([...Object.keys(baseline), ...Object.keys(current)])].sort((a, b) => order(a) - order(b) || a.localeCompare(b));
  const labelled: ReconciliationLine[] = [];
  const others: ReconciliationLine[] = [];
  const push = (line: ReconciliationLine, hasLabel: boolean) => (hasLabel ? labelled : others).push(line);
  for (const table of tables) {
    const decl = declarationFor(app, table);
    const b = baseline[table];
    const c = current[table];
    const rowsLabel = decl?.labels.rows;
    const rows = judgeRows(input, table, b, c);
    push(line(`${table}.rows`, rowsLabel ?? `${table} rows`, 'count', c?.rows ?? null, b?.rows ?? null, rows), rowsLabel !== undefined);
    const columns = [...new Set([...Object.keys(b?.money ?? {}), ...Object.keys(c?.money ?? {})])];
    for (const column of columns) {
      const label = decl?.labels[column];
      const judged = judgeMoney(input, table, column, b, c);
      push(line(`${table}.${column}.sum`, label ?? `${table}.${column} sum`, 'money', c?.money[column]?.sum ?? null, b?.money[column]?.sum ?? null, judged), label !== undefined);
    }
  }
  return [...labelled, ...others];
}

function line(metric: string, label: string, kind: 'count' | 'money', current: string | null, baseline: string | null, judged: Judged): ReconciliationLine {
  return { metric, label, kind, current, baseline, verdict: judged.verdict, line: formatLine(label, kind, current, baseline, judged.verdict), ...(judged.detail ? { detail: judged.detail } : {}) };
}

function judgeRows(input: ReconcileInput, table: string, b: TableFigures | undefined, c: TableFigures | undefined): Judged {
  if (!c) return { verdict: 'mismatch', detail: `the recovered database ${input.problems?.[table] ? `could not be measured here: ${input.problems[table]}` : 'has no such table'}` };
  if (!b) return { verdict: 'review', detail: 'a table the baseline does not have (created since the backup?)' };
  const tolerance = toleranceOf(input.app, table).rows;
  const delta = subtractDecimal(c.rows, b.rows);
  const growth = `${signed(delta, formatCount)} rows since the baseline (${percentOf(delta, b.rows)}; tolerance ${pct(tolerance)})`;
  if (b.history) {
    const history = input.history?.[table];
    if (history && !history.equal) {
      const ranges = history.differences.length;
      return { verdict: 'mismatch', detail: `its history differs from the baseline's in ${ranges} key range${ranges === 1 ? '' : 's'} (see the history check)` };
    }
    const unchanged = history ? `; history up to ${b.history.upTo} unchanged (${formatCount(b.history.rows)} rows, content hash equal)` : '';
    if (compareDecimal(delta, '0') < 0) return { verdict: 'mismatch', detail: `${formatCount(abs(delta))} rows fewer than the baseline, and rows are never deleted from an append-only table` };
    if (compareDecimal(delta, '0') === 0) return { verdict: 'match', ...(unchanged ? { detail: unchanged.slice(2) } : {}) };
    return { verdict: withinRelativeTolerance(c.rows, b.rows, tolerance) ? 'match' : 'review', detail: `${growth}${unchanged}` };
  }
  if (compareDecimal(delta, '0') === 0) return { verdict: 'match' };
  if (withinRelativeTolerance(c.rows, b.rows, tolerance)) return { verdict: 'match', detail: growth };
  return compareDecimal(delta, '0') < 0 ? { verdict: 'mismatch', detail: `${formatCount(abs(delta))} rows lost since the baseline (${percentOf(delta, b.rows)}), beyond the tolerance of ${pct(tolerance)}` } : { verdict: 'review', detail: `${growth}: more growth than the tolerance` };
}

function judgeMoney(input: ReconcileInput, table: string, column: string, b: TableFigures | undefined, c: TableFigures | undefined): Judged {
  const now = c?.money[column];
  const then = b?.money[column];
  if (!c) return { verdict: 'mismatch' };
  if (!now) return { verdict: b ? 'mismatch' : 'review', ...(b ? { detail: 'the column is not measured in the recovered database' } : {}) };
  if (!then) return { verdict: 'review', detail: 'not in the baseline' };
  const delta = subtractDecimal(now.sum, then.sum);
  const zero = compareDecimal(delta, '0') === 0;
  const history = b?.history;
  if (history) {
    const i = history.money.indexOf(column);
    const differs = input.history?.[table]?.differences.some((d) => i >= 0 && compareDecimal(d.now.sums[i] ?? '0', d.baseline.sums[i] ?? '0') !== 0);
    if (differs) return { verdict: 'mismatch', detail: 'money in its history differs from the baseline (see the history check)' };
  }
  const ledger = input.app?.ledgers.find((l) => (l.table === table || l.table === `public.${table}`) && l.balance === column);
  if (ledger) {
    const entries = [ledger.entries, `public.${ledger.entries}`].find((t) => input.current[t] || input.baseline[t]) ?? ledger.entries;
    const moved = input.current[entries]?.money[ledger.amount] && input.baseline[entries]?.money[ledger.amount] ? subtractDecimal(input.current[entries]!.money[ledger.amount]!.sum, input.baseline[entries]!.money[ledger.amount]!.sum) : undefined;
    if (moved === undefined) return { verdict: 'review', detail: `the ledger ${entries}.${ledger.amount} is not measured on both sides` };
    if (compareDecimal(delta, moved) === 0) return { verdict: 'match', ...(zero ? {} : { detail: `${signed(delta, formatMoney)} since the baseline, exactly as the ledger ${entries}.${ledger.amount} moved` }) };
    return { verdict: 'mismatch', detail: `${signed(delta, formatMoney)} since the baseline, but the ledger ${entries}.${ledger.amount} moved ${signed(moved, formatMoney)}` };
  }
  if (zero) return { verdict: 'match' };
  const tolerance = toleranceOf(input.app, table).money;
  const allowed = multiplyDecimal(then.absSum, tolerance);
  const growth = `${signed(delta, formatMoney)} since the baseline (${percentOf(delta, then.absSum)} of its ${formatMoney(then.absSum)} in absolute value; tolerance ${pct(tolerance)})`;
  const rowsGrew = c && b ? `, in ${signed(subtractDecimal(c.rows, b.rows), formatCount)} rows` : '';
  return compareDecimal(abs(delta), allowed) <= 0 ? { verdict: 'match', detail: `${growth}${rowsGrew}` } : { verdict: 'review', detail: `${growth}${rowsGrew}: more than the tolerance` };
}

/** The worst verdict of the lines. */
export function worstOf(lines: readonly ReconciliationLine[]): ReconciliationVerdict {
  return lines.reduce<ReconciliationVerdict>((worst, l) => (severity[l.verdict] > severity[worst] ? l.verdict : worst), 'match');
}

/** The reconciliation as one check of the gate: ❌ when a line is ❌, ⚠️ REVIEW when a line is. */
export function reconciliationCheck(lines: readonly ReconciliationLine[], backupLabel: string, durationMs: number): CheckResult {
  const count = (v: ReconciliationVerdict) => lines.filter((l) => l.verdict === v).length;
  const worst = worstOf(lines);
  const notMatching = lines.filter((l) => l.verdict !== 'match').map((l) => (l.detail ? `${l.line} — ${l.detail}` : l.line));
  return {
    id: 'reconciliation',
    name: `Reconciliation to the cent with the baseline of backup ${backupLabel}`,
    value: `${lines.length} lines: ${count('match')} ✅, ${count('review')} ⚠️ REVIEW, ${count('mismatch')} ❌`,
    expectation: 'every table and money column equal to the baseline, or changed within its tolerance',
    verdict: worst === 'mismatch' ? 'fail' : worst === 'review' ? 'review' : 'pass',
    message: notMatching.length ? notMatching.join('; ') : 'every line reconciles',
    durationMs,
  };
}
