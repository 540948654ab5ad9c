import type { CheckResult } from '../../contracts/validation';
import { compareDecimal, formatCount, formatMoney } from './exact-decimal';
import { compareRangeIndex, rangeBounds, type HistoryFigures, type HistoryRange } from './measure';
import { quoteIdentifier, type Queryable } from './schema-catalog';

// History that must not change: the rows of an append-only table created at or before the baseline's
// point must be exactly the baseline's, range by range (count, money sums to the cent, content hash).
// Where they differ the gate names the key ranges, and the keys present and absent in each.

export interface RangeDifference {
  index: string;
  /** "id 1601–1616", or "rows without an id". */
  range: string;
  baseline: { rows: string; sums: string[] };
  now: { rows: string; sums: string[] };
  /** rows missing / rows added / content changed (same count, other rows or other values). */
  change: string;
}

export interface HistoryComparison {
  equal: boolean;
  differences: RangeDifference[];
}

const emptyRange = (index: string, money: number): HistoryRange => ({ index, rows: '0', sums: Array(money).fill('0'), hash: '0:0' });

/** Pure: the ranges where the recovered history differs from the baseline's. */
export function compareHistory(baseline: HistoryFigures, current: HistoryFigures): HistoryComparison {
  const then = new Map(baseline.ranges.map((r) => [r.index, r]));
  const now = new Map(current.ranges.map((r) => [r.index, r]));
  const indexes = [...new Set([...then.keys(), ...now.keys()])].sort(compareRangeIndex);
  const differences: RangeDifference[] = [];
  for (const index of indexes) {
    const b = then.get(index) ?? emptyRange(index, baseline.money.length);
    const c = now.get(index) ?? emptyRange(index, baseline.money.length);
    if (b.hash === c.hash && b.rows === c.rows && b.sums.every((s, i) => compareDecimal(s, c.sums[i] ?? '0') === 0)) continue;
    const delta = BigInt(c.rows) - BigInt(b.rows);
    const moneyMoved = b.sums.some((s, i) => compareDecimal(s, c.sums[i] ?? '0') !== 0);
    const change = delta < 0n ? `${-delta} row${delta === -1n ? '' : 's'} missing` : delta > 0n ? `${delta} row${delta === 1n ? '' : 's'} added to the past` : `content changed${moneyMoved ? ' (money differs)' : ''}`;
    differences.push({ index, range: describeRange(baseline, index), baseline: { rows: b.rows, sums: b.sums }, now: { rows: c.rows, sums: c.sums }, change });
  }
  return { equal: differences.length === 0, differences };
}

function describeRange(history: HistoryFigures, index: string): string {
  const bounds = rangeBounds(history, index);
  return bounds ? `${history.key} ${bounds.first}–${bounds.last}` : `rows without a ${history.key}`;
}

/** "1601–1603, 1605": keys as runs. */
export function keyRuns(keys: readonly bigint[]): string {
  const runs: string[] = [];
  for (let i = 0; i < keys.length; i++) {
    let j = i;
    while (j + 1 < keys.length && keys[j + 1] === keys[j]! + 1n) j++;
    runs.push(i === j ? `${keys[i]}` : `${keys[i]}–${keys[j]}`);
    i = j;
  }
  return runs.join(', ');
}

/** Ranges whose rows the gate names (the rest are counted). */
const namedRanges = 10;

/**
 * For the first differing ranges, the keys the recovered history holds there and, up to the baseline's
 * largest key, the ones it does not: a deleted row is named by its key, a row added to the past too.
 */
export async function nameRows(db: Queryable, table: string, baseline: HistoryFigures, differences: RangeDifference[]): Promise<Array<RangeDifference & { keysNow?: string; absentNow?: string }>> {
  const named: Array<RangeDifference & { keysNow?: string; absentNow?: string }> = [];
  for (const d of differences.slice(0, namedRanges)) {
    const bounds = rangeBounds(baseline, d.index);
    if (!bounds) {
      named.push(d);
      continue;
    }
    const key = quoteIdentifier(baseline.key);
    const present = (await db.query<{ k: string }>(
      `SELECT ${key}::text AS k FROM ${table} WHERE ${key} BETWEEN $1 AND $2 AND coalesce(${quoteIdentifier(baseline.createdAt)} <= $3::timestamptz, true) ORDER BY ${key}`,
      [String(bounds.first), String(bounds.last), baseline.upTo],
    )).rows.map((r) => BigInt(r.k));
    const held = new Set(present);
    const absent: bigint[] = [];
    const top = baseline.maxKey === null ? bounds.first - 1n : BigInt(baseline.maxKey) < bounds.last ? BigInt(baseline.maxKey) : bounds.last;
    const bottom = BigInt(baseline.base) > bounds.first ? BigInt(baseline.base) : bounds.first;
    for (let k = bottom; k <= top; k++) if (!held.has(k)) absent.push(k);
    named.push({ ...d, keysNow: keyRuns(present) || 'none', ...(absent.length && d.change.includes('missing') ? { absentNow: keyRuns(absent) } : {}) });
  }
  return [...named, ...differences.slice(namedRanges)];
}

/** The check a recovered database's history gets: passes only when every range equals the baseline's. */
export function historyCheck(table: string, baseline: HistoryFigures, current: HistoryFigures | undefined, problem: string | undefined, named: Array<RangeDifference & { keysNow?: string; absentNow?: string }>, durationMs: number, backupLabel: string): CheckResult {
  const id = `history:${table}`;
  const name = `History that must not change: ${table} rows created up to ${baseline.upTo} equal the baseline's (backup ${backupLabel})`;
  const money = (sums: string[]) => baseline.money.map((c, i) => `${c} ${formatMoney(sums[i] ?? '0')}`).join(', ');
  const expectation = `exactly the baseline's ${formatCount(baseline.rows)} rows${baseline.money.length ? `, ${money(baseline.sums)}` : ''}, same content hash`;
  if (!current) return { id, name, value: null, expectation, verdict: 'error', message: `the history could not be read: ${problem ?? 'not measured'}`, durationMs };
  const value = `${formatCount(current.rows)} rows${baseline.money.length ? `, ${money(current.sums)}` : ''}`;
  if (!named.length) return { id, name, value: `${value}, content hash equal`, expectation, verdict: 'pass', message: `${formatCount(current.rows)} rows in ${baseline.ranges.length} key ranges, each equal to the baseline's`, durationMs };
  const describe = (d: (typeof named)[number]) => `${d.range}: ${d.change} (${formatCount(d.now.rows)} rows, was ${formatCount(d.baseline.rows)}${baseline.money.length ? `; ${money(d.now.sums)}, was ${money(d.baseline.sums)}` : ''})${d.absentNow ? `; absent now: ${d.absentNow}` : ''}${d.change.includes('added') && d.keysNow ? `; held now: ${d.keysNow}` : ''}`;
  const shown = named.slice(0, 5).map(describe);
  const more = named.length > shown.length ? `; and ${named.length - shown.length} more range${named.length - shown.length === 1 ? '' : 's'}` : '';
  return {
    id,
    name,
    value: `${value}, ${named.length} key range${named.length === 1 ? '' : 's'} differ`,
    expectation,
    verdict: 'fail',
    message: `${shown.join('; ')}${more}`,
    sample: named.slice(0, 5).map((d) => ({ range: d.range, change: d.change, rows: d.now.rows, baselineRows: d.baseline.rows, ...(d.absentNow ? { absentNow: d.absentNow } : {}), ...(d.keysNow ? { keysNow: d.keysNow } : {}) })),
    durationMs,
  };
}
