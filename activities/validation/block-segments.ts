import { addDecimal, subtractDecimal } from './exact-decimal';
import type { MoneyFigures } from './measure';
import { quoteIdentifier, type Queryable } from './schema-catalog';
import type { RelationFile } from './wal-anchor';

// Per-segment totals of a table, where a segment is a run of its blocks: the unit the WAL names changes
// in. A baseline keeps them for every table; a later check re-measures only the segments whose blocks
// the WAL touched since, and knows the rest by the baseline's figures.

/** One run of blocks at the baseline: its rows, money, and the keys it held (for the rows' dependants). */
export interface SegmentFigures {
  index: number;
  rows: string;
  money: Record<string, MoneyFigures>;
  minKey: string | null;
  maxKey: string | null;
}

export interface TableSegments {
  relation: RelationFile;
  /** Blocks per segment: segment i holds blocks [i·segmentBlocks, (i+1)·segmentBlocks). */
  segmentBlocks: number;
  blocks: number;
  /** The key column whose values each segment's minKey/maxKey bound (the declared key or a one-column primary key). */
  key?: string;
  money: string[];
  /** Segments with rows, by index. */
  segments: SegmentFigures[];
}

/** At most this many segments per table in a baseline. */
const maxSegments = 4096;

const blockOf = `((ctid::text::point)[0])::bigint`;

export async function relationFileOf(db: Queryable, table: string): Promise<{ relation: RelationFile; blocks: number }> {
  const row = (await db.query<{ tablespace: number; database: number; filenode: number | null; blocks: string }>(`
    SELECT CASE c.reltablespace WHEN 0 THEN d.dattablespace ELSE c.reltablespace END::int AS tablespace, d.oid::int AS database,
           pg_relation_filenode(c.oid)::int AS filenode, (pg_relation_size(c.oid) / current_setting('block_size')::int)::text AS blocks
    FROM pg_class c, pg_database d WHERE c.oid = $1::regclass AND d.datname = current_database()`, [table])).rows[0]!;
  if (row.filenode === null) throw new Error(`${table} has no relation file of its own (a partitioned or foreign table)`);
  return { relation: { tablespace: row.tablespace, database: row.database, filenode: row.filenode }, blocks: Number(row.blocks) };
}

const moneyColumns = (money: string[]) => money.flatMap((m, i) => [`coalesce(sum(${quoteIdentifier(m)}), 0)::text AS s${i}`, `coalesce(sum(abs(${quoteIdentifier(m)})), 0)::text AS a${i}`]);
const moneyOf = (money: string[], row: Record<string, string>) => Object.fromEntries(money.map((m, i) => [m, { sum: row[`s${i}`]!, absSum: row[`a${i}`]! }]));

/** Measures a table by segments (on the restored copy, nothing writing): one aggregate per segment. */
export async function measureSegments(db: Queryable, table: string, money: string[], key: string | undefined): Promise<TableSegments> {
  const { relation, blocks } = await relationFileOf(db, table);
  const segmentBlocks = Math.max(1, Math.ceil(blocks / maxSegments));
  const k = key ? quoteIdentifier(key) : undefined;
  const rows = await db.query<Record<string, string> & { segment: string; rows: string; min_key: string | null; max_key: string | null }>(`
    SELECT (${blockOf} / ${segmentBlocks})::text AS segment, count(*)::text AS rows, ${[...moneyColumns(money), k ? `min(${k})::text AS min_key, max(${k})::text AS max_key` : 'NULL AS min_key, NULL AS max_key'].join(', ')}
    FROM ${table} GROUP BY 1 ORDER BY 1`);
  return {
    relation,
    segmentBlocks,
    blocks,
    ...(key ? { key } : {}),
    money,
    segments: rows.rows.map((r) => ({ index: Number(r.segment), rows: r.rows, money: moneyOf(money, r), minKey: r.min_key, maxKey: r.max_key })).sort((a, b) => a.index - b.index),
  };
}

/** A changed segment now: the rows that were there at the baseline (older transactions) and the rows written since. */
export interface SegmentNow {
  index: number;
  oldRows: string;
  oldMoney: Record<string, MoneyFigures>;
  newRows: string;
  newMoney: Record<string, MoneyFigures>;
  /** The new rows' ctids, to check them by TID. */
  newTids: string[];
  /** New rows created at or before the history's upper bound (an append-only table's past). */
  newInPast: number;
}

/**
 * Re-measures the given segments of a table, split into rows older than the baseline's next transaction
 * id (still there from the baseline: no transaction can write an old xmin) and rows written since.
 */
export async function remeasureSegments(db: Queryable, table: string, baseline: TableSegments, indexes: number[], nextXid: string, past?: { createdAt: string; upTo: string }): Promise<SegmentNow[]> {
  const result: SegmentNow[] = [];
  const b = baseline.segmentBlocks;
  const sorted = [...new Set(indexes)].sort((x, y) => x - y);
  // Consecutive segments in one TID range scan.
  const runs: Array<[number, number]> = [];
  for (const i of sorted) {
    const last = runs.at(-1);
    if (last && last[1] === i - 1) last[1] = i;
    else runs.push([i, i]);
  }
  const isNew = `age(xmin) <= age($1::text::xid)`;
  for (const [first, last] of runs) {
    const rows = await db.query<Record<string, string> & { segment: string; fresh: boolean; rows: string; tids: string[] | null; in_past: string }>(`
      SELECT (${blockOf} / ${b})::text AS segment, ${isNew} AS fresh, count(*)::text AS rows, ${moneyColumns(baseline.money).map((c) => `${c}, `).join('')}
             CASE WHEN ${isNew} THEN array_agg(ctid::text) END AS tids,
             ${past ? `count(*) FILTER (WHERE ${quoteIdentifier(past.createdAt)} <= $4::timestamptz)` : '0'}::text AS in_past
      FROM ${table} WHERE ctid >= $2::tid AND ctid < $3::tid GROUP BY 1, 2`,
    [nextXid, `(${first * b},0)`, `(${(last + 1) * b},0)`, ...(past ? [past.upTo] : [])]);
    const empty = Object.fromEntries(baseline.money.map((m) => [m, { sum: '0', absSum: '0' }]));
    const byIndex = new Map<number, SegmentNow>();
    for (let i = first; i <= last; i++) byIndex.set(i, { index: i, oldRows: '0', oldMoney: empty, newRows: '0', newMoney: empty, newTids: [], newInPast: 0 });
    for (const r of rows.rows) {
      const s = byIndex.get(Number(r.segment))!;
      if (r.fresh) Object.assign(s, { newRows: r.rows, newMoney: moneyOf(baseline.money, r), newTids: r.tids ?? [], newInPast: Number(r.in_past) });
      else Object.assign(s, { oldRows: r.rows, oldMoney: moneyOf(baseline.money, r) });
    }
    result.push(...byIndex.values());
  }
  return result;
}

/** The table's totals now: the baseline's, less what vanished from the changed segments, plus what was written there. */
export function totalsNow(baseline: { rows: string; money: Record<string, MoneyFigures> }, segments: TableSegments, now: SegmentNow[]): { rows: string; money: Record<string, MoneyFigures> } {
  const then = new Map(segments.segments.map((s) => [s.index, s]));
  let rows = baseline.rows;
  const money = Object.fromEntries(Object.entries(baseline.money).map(([m, f]) => [m, { ...f }]));
  for (const s of now) {
    const was = then.get(s.index);
    rows = addDecimal(subtractDecimal(rows, was?.rows ?? '0'), addDecimal(s.oldRows, s.newRows));
    for (const [m, f] of Object.entries(money)) {
      const w = was?.money[m] ?? { sum: '0', absSum: '0' };
      f.sum = addDecimal(subtractDecimal(f.sum, w.sum), addDecimal(s.oldMoney[m]?.sum ?? '0', s.newMoney[m]?.sum ?? '0'));
      f.absSum = addDecimal(subtractDecimal(f.absSum, w.absSum), addDecimal(s.oldMoney[m]?.absSum ?? '0', s.newMoney[m]?.absSum ?? '0'));
    }
  }
  return { rows, money };
}

/** Segments that lost rows the baseline held (deleted, or updated into a new version): their key bounds at the baseline. */
export function vanishedRanges(segments: TableSegments, now: SegmentNow[]): Array<{ index: number; lost: string; minKey: string | null; maxKey: string | null }> {
  const then = new Map(segments.segments.map((s) => [s.index, s]));
  return now.flatMap((s) => {
    const was = then.get(s.index);
    if (!was || BigInt(was.rows) === BigInt(s.oldRows)) return [];
    return [{ index: s.index, lost: (BigInt(was.rows) - BigInt(s.oldRows)).toString(), minKey: was.minKey, maxKey: was.maxKey }];
  });
}
