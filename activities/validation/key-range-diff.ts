import type { Pool, PoolClient } from 'pg';
import { describeTable, quoteIdentifier, resolveTable, type TableDescription } from './schema-catalog';
import { ServerCursor, withCursors } from './server-cursor';

/**
 * Key-range diff (the method of Datafold's data-diff): both servers checksum the same primary-key
 * ranges in SQL, in parallel; only ranges whose count or checksum differ are split again, and small
 * ranges are compared key by key. Rows never reach Node to be hashed: only per-range sums and, at
 * the leaves, (key, row hash) pairs read through cursors. Memory is bounded by depth × factor ranges,
 * two cursor batches per side, and the differences found.
 *
 * Scattered losses (most sub-ranges differ) would make bisection rescan everything level after level.
 * There the diff reads the runs of consecutive keys on both sides instead (an index-only scan that
 * returns one row per gap, not per row), which gives the missing and extra keys exactly; their row
 * hashes, looked up by key, are subtracted from the range checksums, and bisection goes on only
 * where rows present on both sides differ.
 */
export interface DiffTableOptions {
  /** Table name as on both servers (schema-qualified if off the search path). */
  table: string;
  /** Integer key column; the single-column primary key when omitted. */
  key?: string;
  /** Sub-ranges per split. */
  bisectionFactor?: number;
  /** A differing range with at most this many rows (on either side) is compared key by key. */
  bisectionThreshold?: number;
  /** Called before each range is compared: throw to stop (cancellation). */
  beforeRange?: () => void;
  onProgress?: (progress: DiffProgress) => void;
}

export interface DiffProgress {
  rangesCompared: number;
  keysCompared: number;
  differencesFound: number;
}

export interface TableDiff {
  table: string;
  key: string;
  /** Rows on each side when the diff ran (each side read in one snapshot). */
  sourceRows: string;
  targetRows: string;
  /** Keys in the source (the recovered copy) and not in the target (production): the lost rows. Ascending. */
  missingInTarget: string[];
  /** Keys only in the target: rows written after the recovery point, or never in the backup. Ascending. */
  extraInTarget: string[];
  /** Keys on both sides whose rows differ. Ascending. */
  changed: string[];
  stats: { checksumQueries: number; keyRunScans: number; rangesCompared: number; keysCompared: number; maxDepth: number };
}

const integerTypes = new Set(['bigint', 'integer', 'smallint']);

interface Range {
  lo: bigint;
  hi: bigint;
  depth: number;
  /** Few enough rows to compare key by key, however wide the key range. */
  leaf?: boolean;
  /** Its missing and extra keys are already known (from key runs): only changed rows are left to find. */
  keysKnown?: boolean;
}

/** A key only one side has, with that side's row hash. */
interface OneSided {
  key: bigint;
  hash: bigint;
}

/** One-sided keys in ascending order, summed over a key range by binary search. */
class OneSidedKeys {
  readonly entries: OneSided[] = [];
  private sorted = true;

  add(entry: OneSided): void {
    const last = this.entries[this.entries.length - 1];
    if (last && last.key > entry.key) this.sorted = false;
    this.entries.push(entry);
  }

  /** Count and hash sum of the entries with lo <= key <= hi. */
  within(lo: bigint, hi: bigint): { count: bigint; hash: bigint } {
    if (!this.sorted) {
      this.entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      this.sorted = true;
    }
    let first = 0;
    let last = this.entries.length;
    while (first < last) {
      const mid = (first + last) >> 1;
      if (this.entries[mid]!.key < lo) first = mid + 1;
      else last = mid;
    }
    let count = 0n;
    let hash = 0n;
    for (let i = first; i < this.entries.length && this.entries[i]!.key <= hi; i++) {
      count++;
      hash += this.entries[i]!.hash;
    }
    return { count, hash };
  }

  keys(): string[] {
    this.within(0n, -1n); // sorts
    return this.entries.map((e) => String(e.key));
  }
}

/** One REPEATABLE READ snapshot per side, with text output settings fixed so equal rows print equally on both servers. */
async function openSnapshot(pool: Pool): Promise<PoolClient> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await client.query(`SELECT set_config('TimeZone', 'UTC', true), set_config('DateStyle', 'ISO, YMD', true),
      set_config('IntervalStyle', 'postgres', true), set_config('extra_float_digits', '1', true), set_config('bytea_output', 'hex', true)`);
    return client;
  } catch (error) {
    client.release();
    throw error;
  }
}

async function closeSnapshot(client: PoolClient): Promise<void> {
  await client.query('COMMIT').catch(() => undefined);
  client.release();
}

/** The same columns, by name and type, on both sides; the hash lists them explicitly, so column order may differ. */
function compatibleColumns(source: TableDescription, target: TableDescription): string[] {
  const targetTypes = new Map(target.columns.map((c) => [c.name, c.type]));
  const problems: string[] = [];
  for (const c of source.columns) {
    const t = targetTypes.get(c.name);
    if (t === undefined) problems.push(`column ${c.name} is missing in the target`);
    else if (t !== c.type) problems.push(`column ${c.name} is ${c.type} in the source but ${t} in the target`);
  }
  for (const c of target.columns) if (!source.columns.some((s) => s.name === c.name)) problems.push(`column ${c.name} is missing in the source`);
  if (problems.length) throw new Error(`table: ${source.table} differs in shape between the two databases: ${problems.join('; ')}`);
  return source.columns.map((c) => c.name);
}

const byKey = (a: string, b: string) => { const x = BigInt(a); const y = BigInt(b); return x < y ? -1 : x > y ? 1 : 0; };

export async function diffTable(sourcePool: Pool, targetPool: Pool, options: DiffTableOptions): Promise<TableDiff> {
  const factor = BigInt(options.bisectionFactor ?? 32);
  const threshold = BigInt(options.bisectionThreshold ?? 2048);
  if (factor < 2n) throw new Error('bisectionFactor: must be at least 2');
  if (threshold < 1n) throw new Error('bisectionThreshold: must be at least 1');

  const [sourceTable, targetTable] = await Promise.all([resolveTable(sourcePool, options.table), resolveTable(targetPool, options.table)]);
  if (!sourceTable) throw new Error(`table: no table "${options.table}" in the source database`);
  if (!targetTable) throw new Error(`table: no table "${options.table}" in the target database`);
  const [sourceShape, targetShape] = await Promise.all([describeTable(sourcePool, sourceTable), describeTable(targetPool, targetTable)]);
  const columns = compatibleColumns(sourceShape, targetShape);
  const key = options.key ?? (sourceShape.primaryKey.length === 1 ? sourceShape.primaryKey[0]! : undefined);
  if (!key) throw new Error(`key: table ${sourceTable} has no single-column primary key; name an integer key column`);
  const keyType = sourceShape.columns.find((c) => c.name === key)?.type;
  if (!keyType) throw new Error(`key: table ${sourceTable} has no column "${key}"`);
  if (!integerTypes.has(keyType)) throw new Error(`key: column ${key} is ${keyType}; key-range diff needs an integer key`);

  const k = quoteIdentifier(key);
  const rowHash = `('x' || substr(md5(ROW(${columns.map(quoteIdentifier).join(', ')})::text), 1, 16))::bit(64)::bigint`;
  // Range bounds are bigints computed here, so they are written as literals (cursor queries take no parameters).
  const sql = {
    bounds: (table: string) => `SELECT min(${k})::text AS lo, max(${k})::text AS hi FROM ${table}`,
    checksums: (table: string, r: Range, width: bigint) => `SELECT ((${k} - ${r.lo}) / ${width})::text AS bucket, count(*)::text AS n, sum(${rowHash})::text AS h
      FROM ${table} WHERE ${k} BETWEEN ${r.lo} AND ${r.hi} GROUP BY 1`,
    rowHashes: (table: string, r: Range) => `SELECT ${k}::text AS k, ${rowHash}::text AS h FROM ${table} WHERE ${k} BETWEEN ${r.lo} AND ${r.hi} ORDER BY ${k}`,
    // Runs of consecutive keys: key - row_number() is constant within a run. One row per run, from the index alone.
    keyRuns: (table: string, r: Range) => `SELECT min(${k})::text AS lo, max(${k})::text AS hi
      FROM (SELECT ${k}, ${k} - row_number() OVER (ORDER BY ${k}) AS run FROM ${table} WHERE ${k} BETWEEN ${r.lo} AND ${r.hi}) keys GROUP BY run ORDER BY run`,
    hashesOf: (table: string) => `SELECT ${k}::text AS k, ${rowHash}::text AS h FROM ${table} WHERE ${k} = ANY($1::bigint[])`,
  };

  const opened = await Promise.allSettled([openSnapshot(sourcePool), openSnapshot(targetPool)]);
  const failed = opened.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed) {
    await Promise.all(opened.map((o) => (o.status === 'fulfilled' ? closeSnapshot(o.value) : undefined)));
    throw failed.reason;
  }
  const [source, target] = opened.map((o) => (o as PromiseFulfilledResult<PoolClient>).value) as [PoolClient, PoolClient];
  const sides = [{ client: source, table: sourceTable }, { client: target, table: targetTable }] as const;

  const stats = { checksumQueries: 0, keyRunScans: 0, rangesCompared: 0, keysCompared: 0, maxDepth: 0 };
  const missing = new OneSidedKeys();
  const extra = new OneSidedKeys();
  const changed: string[] = [];
  let totals: [bigint, bigint] | undefined;

  /** Merge-joins the two sides' (key, row hash) streams of one range. */
  const compareRowHashes = async (range: Range) => {
    await withCursors(sides.map((s) => new ServerCursor<{ k: string; h: string }>(s.client, sql.rowHashes(s.table, range))), async ([a, b]) => {
      for (;;) {
        if (a!.needsFill() || b!.needsFill()) {
          await Promise.all([a!.fill(), b!.fill()]);
          continue;
        }
        const x = a!.current();
        const y = b!.current();
        if (!x && !y) break;
        const kx = x ? BigInt(x.k) : undefined;
        const ky = y ? BigInt(y.k) : undefined;
        if (ky === undefined || (kx !== undefined && kx < ky)) {
          if (!range.keysKnown) missing.add({ key: kx!, hash: BigInt(x!.h) });
          a!.advance();
        } else if (kx === undefined || ky < kx) {
          if (!range.keysKnown) extra.add({ key: ky, hash: BigInt(y!.h) });
          b!.advance();
        } else {
          if (x!.h !== y!.h) changed.push(x!.k);
          a!.advance();
          b!.advance();
        }
      }
      stats.keysCompared += a!.count + b!.count;
      totals ??= [BigInt(a!.count), BigInt(b!.count)];
    });
  };

  /** Missing and extra keys of a range from the runs of consecutive keys on each side, with their row hashes. */
  const findOneSidedKeys = async (range: Range) => {
    stats.keyRunScans++;
    const found: [bigint[], bigint[]] = [[], []];
    await withCursors(sides.map((s) => new ServerCursor<{ lo: string; hi: string }>(s.client, sql.keyRuns(s.table, range))), async ([a, b]) => {
      // Sweep the key line: at each point, which sides have a run covering it.
      let at = range.lo;
      const runs = [a!, b!];
      while (at <= range.hi) {
        await Promise.all(runs.map((r) => r.fill()));
        for (const r of runs) {
          while (r.current() && BigInt(r.current()!.hi) < at) {
            r.advance();
            if (r.needsFill()) await r.fill();
          }
        }
        const covers = runs.map((r) => r.current() !== undefined && BigInt(r.current()!.lo) <= at);
        let next = range.hi + 1n;
        runs.forEach((r, i) => {
          const run = r.current();
          if (!run) return;
          const boundary = covers[i] ? BigInt(run.hi) + 1n : BigInt(run.lo);
          if (boundary < next) next = boundary;
        });
        if (covers[0] !== covers[1]) for (let key = at; key < next; key++) found[covers[0] ? 0 : 1].push(key);
        at = next;
      }
    });
    // Their row hashes, by key, to subtract from the range checksums.
    const [sourceOnly, targetOnly] = found;
    const lookups = [{ keys: sourceOnly, side: sides[0], into: missing }, { keys: targetOnly, side: sides[1], into: extra }];
    for (const { keys, side, into } of lookups) {
      for (let i = 0; i < keys.length; i += 10_000) {
        const batch = keys.slice(i, i + 10_000).map(String);
        const rows = (await side.client.query<{ k: string; h: string }>(sql.hashesOf(side.table), [batch])).rows;
        rows.sort((x, y) => byKey(x.k, y.k));
        for (const row of rows) into.add({ key: BigInt(row.k), hash: BigInt(row.h) });
      }
    }
  };

  try {
    const bounds = await Promise.all(sides.map((s) => s.client.query<{ lo: string | null; hi: string | null }>(sql.bounds(s.table))));
    const los = bounds.map((b) => b.rows[0]!.lo).filter((v): v is string => v !== null).map(BigInt);
    const his = bounds.map((b) => b.rows[0]!.hi).filter((v): v is string => v !== null).map(BigInt);
    const pending: Range[] = los.length ? [{ lo: los.reduce((a, b) => (a < b ? a : b)), hi: his.reduce((a, b) => (a > b ? a : b)), depth: 0 }] : [];

    while (pending.length) {
      const range = pending.pop()!;
      options.beforeRange?.();
      stats.rangesCompared++;
      stats.maxDepth = Math.max(stats.maxDepth, range.depth);
      const width = range.hi - range.lo + 1n;
      if (range.leaf || width <= threshold) {
        await compareRowHashes(range);
      } else {
        const childWidth = (width + factor - 1n) / factor;
        const [s, t] = await Promise.all(sides.map((side) => side.client.query<{ bucket: string; n: string; h: string }>(sql.checksums(side.table, range, childWidth))));
        stats.checksumQueries += 2;
        const sb = new Map(s!.rows.map((r) => [r.bucket, r]));
        const tb = new Map(t!.rows.map((r) => [r.bucket, r]));
        totals ??= [s!.rows.reduce((n, r) => n + BigInt(r.n), 0n), t!.rows.reduce((n, r) => n + BigInt(r.n), 0n)];
        const buckets = [...new Set([...sb.keys(), ...tb.keys()])].map(BigInt).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
        const childOf = (bucket: bigint) => {
          const lo = range.lo + bucket * childWidth;
          return { lo, hi: lo + childWidth - 1n < range.hi ? lo + childWidth - 1n : range.hi };
        };
        /** Children whose rows differ, once the known one-sided keys are taken out of both checksums. */
        const differing = (keysKnown: boolean) => buckets.flatMap((bucket) => {
          const { lo, hi } = childOf(bucket);
          const x = sb.get(String(bucket));
          const y = tb.get(String(bucket));
          const m = keysKnown ? missing.within(lo, hi) : { count: 0n, hash: 0n };
          const e = keysKnown ? extra.within(lo, hi) : { count: 0n, hash: 0n };
          const sourceCount = BigInt(x?.n ?? '0') - m.count;
          const targetCount = BigInt(y?.n ?? '0') - e.count;
          const same = sourceCount === targetCount && BigInt(x?.h ?? '0') - m.hash === BigInt(y?.h ?? '0') - e.hash;
          const rows = sourceCount > targetCount ? sourceCount : targetCount;
          return same ? [] : [{ lo, hi, depth: range.depth + 1, leaf: rows <= threshold, keysKnown }];
        });
        let children = differing(range.keysKnown ?? false);
        if (!range.keysKnown && children.length * 2 > buckets.length) {
          await findOneSidedKeys(range);
          children = differing(true);
        }
        // Pushed in reverse so the stack pops them in key order.
        for (const child of children.reverse()) pending.push(child);
      }
      options.onProgress?.({ rangesCompared: stats.rangesCompared, keysCompared: stats.keysCompared, differencesFound: missing.entries.length + extra.entries.length + changed.length });
    }
  } finally {
    await Promise.all([closeSnapshot(source), closeSnapshot(target)]);
  }
  return {
    table: sourceTable,
    key,
    sourceRows: String(totals?.[0] ?? 0n),
    targetRows: String(totals?.[1] ?? 0n),
    missingInTarget: missing.keys(),
    extraInTarget: extra.keys(),
    changed: changed.sort(byKey),
    stats,
  };
}
