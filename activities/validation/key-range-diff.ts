import type { Pool, PoolClient } from 'pg';
import { describeTable, quoteIdentifier, resolveTable, type TableDescription } from './schema-catalog';
import { bitmapPassSql, chunkKeys as bitmapChunkKeys, KeyBitmap, oneSidedSumsSql, readChunkMask, reportOneSidedKeys } from './key-bitmaps';
import { ServerCursor, withCursors } from './server-cursor';

/**
 * Key-range diff (the method of Datafold's data-diff): both servers checksum the same primary-key
 * ranges in SQL, in parallel; only ranges whose count or checksum differ are split again, and small
 * ranges are compared key by key. Rows never reach Node to be hashed: only per-range sums and, at
 * the leaves, (key, row hash) pairs read through cursors. Memory is bounded by depth × factor ranges,
 * two cursor batches per side, and the differences found.
 *
 * Scattered losses (most sub-ranges differ) would make bisection rescan everything level after level.
 * There the diff reads the gaps in each side's keys instead (an index-only scan that returns one row
 * per gap, not per row) and asks the other side for its rows in those gaps (one index range scan per
 * gap): exactly the missing and extra keys, with their row hashes, which are subtracted from the
 * range checksums; bisection goes on only where rows present on both sides differ.
 *
 * The differences go to a sink as they are found, never held: ranges are visited in key order and a
 * key-run scan reports a range's one-sided keys before any of its sub-ranges, so each list reaches the
 * sink in ascending key order. What stays in memory is per-sub-range sums, not keys.
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
  /**
   * The whole key range, when at least this many keys wide (and no wider than maxBitmapKeys) on a
   * unique key that each side holds densely or sparsely, is diffed from bitmaps of each side's keys read
   * in its checksum pass (see key-bitmaps.ts); narrower ones find their gaps after their checksums.
   */
  bitmapMinKeys?: number;
  /** Called before each range is compared: throw to stop (cancellation). */
  beforeRange?: () => void;
  onProgress?: (progress: DiffProgress) => void;
}

export interface DiffProgress {
  rangesCompared: number;
  keysCompared: number;
  differencesFound: number;
}

/** The three lists of a diff. */
export type DiffList = 'missingInTarget' | 'extraInTarget' | 'changed';
export const diffLists: readonly DiffList[] = ['missingInTarget', 'extraInTarget', 'changed'];

/** Receives each difference once, each list in ascending key order. */
export interface DiffSink {
  add(list: DiffList, key: string): void | Promise<void>;
}

/** What a streamed diff returns: everything but the keys, which went to the sink. */
export interface DiffTotals {
  table: string;
  key: string;
  sourceRows: string;
  targetRows: string;
  counts: Record<DiffList, number>;
  stats: TableDiff['stats'];
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
  /** keyBitmaps: checksum passes that also read their side's keys as a bitmap (0 or 2). */
  stats: { checksumQueries: number; keyRunScans: number; keyBitmaps: number; rangesCompared: number; keysCompared: number; maxDepth: number };
}

const integerTypes = new Set(['bigint', 'integer', 'smallint']);
/** Below this width the gaps found after the checksums cost little, and the bitmap pass is not tried. */
export const defaultBitmapMinKeys = 65_536;
/** Widest range read as bitmaps: 8 MB a side that lacks keys. */
const maxBitmapKeys = 2n ** 26n;
/** Gaps of one side whose rows on the other side are read per query. */
const gapsPerLookUp = 2_000;
/** Keys of a dense side summed per look-up: one `= ANY` index probe each, no subquery per gap. */
export const keysPerLookUp = 4_000;
/** A dense side's gap longer than this is looked up as a key range rather than key by key. */
const expandedGapKeys = 64n;
/** Keys per chunk of a chunked gap scan: one bigint bit mask. */
const chunkKeys = 64n;
/**
 * Chunks per row of a chunked gap scan: their masks come as one text ("chunk:low:high,…"), read
 * character by character, so a row is one string however many gaps it holds, not an object per chunk.
 */
const chunksPerRow = 256n;
/** Rows of a gap scan fetched at once: with chunksPerRow, at most 16 × 256 × 64 keys' masks in memory. */
const maskRowsPerFetch = 16;
/**
 * A side with at least one row per this many keys of a range has its gaps read chunk by chunk (its
 * chunks, at most 8 rows' worth each, cost less than walking its keys); a sparser side by the window
 * function, whose cost follows its rows, not the range's width.
 */
const chunkedGapDensity = 8n;

/** One sub-range's checksum on one side. */
interface BucketSums {
  bucket: string;
  n: string;
  h: string;
}

const roundUp = (n: bigint, to: bigint) => ((n + to - 1n) / to) * to;

interface Range {
  lo: bigint;
  hi: bigint;
  depth: number;
  /** Few enough rows to compare key by key, however wide the key range. */
  leaf?: boolean;
  /** Its missing and extra keys are already known (from key runs): only changed rows are left to find. */
  keysKnown?: boolean;
}

/** Count and hash sum of the one-sided keys of one sub-range, to take out of its checksums. */
interface OneSidedSums {
  missing: { count: number; hash: bigint };
  extra: { count: number; hash: bigint };
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

/** The diff with its key lists collected in memory: for small tables and tests (the activity streams them). */
export async function diffTable(sourcePool: Pool, targetPool: Pool, options: DiffTableOptions): Promise<TableDiff> {
  const lists: Record<DiffList, string[]> = { missingInTarget: [], extraInTarget: [], changed: [] };
  const { counts: _, ...totals } = await streamTableDiff(sourcePool, targetPool, options, { add: (list, key) => void lists[list].push(key) });
  return { ...totals, ...lists };
}

export async function streamTableDiff(sourcePool: Pool, targetPool: Pool, options: DiffTableOptions, sink: DiffSink): Promise<DiffTotals> {
  const factor = BigInt(options.bisectionFactor ?? 32);
  const threshold = BigInt(options.bisectionThreshold ?? 2048);
  const bitmapMinKeys = BigInt(options.bitmapMinKeys ?? defaultBitmapMinKeys);
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
  const uniqueKey = [sourceShape, targetShape].every((shape) => shape.primaryKey.length === 1 && shape.primaryKey[0] === key);

  const k = quoteIdentifier(key);
  const rowHash = `('x' || substr(md5(ROW(${columns.map(quoteIdentifier).join(', ')})::text), 1, 16))::bit(64)::bigint`;
  // Range bounds are bigints computed here, so they are written as literals (cursor queries take no parameters).
  const sql = {
    bounds: (table: string) => `SELECT min(${k})::text AS lo, max(${k})::text AS hi FROM ${table}`,
    checksums: (table: string, r: Range, width: bigint) => `SELECT ((${k} - ${r.lo}) / ${width})::text AS bucket, count(*)::text AS n, sum(${rowHash})::text AS h
      FROM ${table} WHERE ${k} BETWEEN ${r.lo} AND ${r.hi} GROUP BY (${k} - ${r.lo}) / ${width}`,
    rowHashes: (table: string, r: Range) => `SELECT ${k}::text AS k, ${rowHash}::text AS h FROM ${table} WHERE ${k} BETWEEN ${r.lo} AND ${r.hi} ORDER BY ${k}`,
    // The gaps in a side's keys within a range, one row each, from the index alone: [after a key, before the next].
    // lag(k) + 1 and k - 1 stay inside the range, so neither overflows at the ends of bigint.
    gaps: (table: string, r: Range) => `SELECT lo::text, (next - 1)::text FROM (SELECT coalesce(lag(${k}) OVER (ORDER BY ${k}) + 1, ${r.lo}) AS lo, ${k} AS next
      FROM ${table} WHERE ${k} BETWEEN ${r.lo} AND ${r.hi}) keys WHERE next > lo`,
    lastKey: (table: string, r: Range) => `SELECT max(${k})::text AS hi FROM ${table} WHERE ${k} BETWEEN ${r.lo} AND ${r.hi}`,
    // The same gaps of a side dense enough (see chunkedGapDensity), as a bit mask of the keys present in
    // each chunk of 64 keys from the range's start that is not full: one short index-only scan per chunk,
    // a third of the window function's cost. A row per chunksPerRow chunks, its masks in one text in
    // chunk order; the rows come in the order generated (checked). width ≤ chunkedGapDensity × the
    // side's rows, so the offsets below cannot overflow.
    chunkMasks: (table: string, r: Range) => {
      const last = (r.hi - r.lo) / chunkKeys;
      return `SELECT masks FROM (SELECT (SELECT string_agg(dr_chunk || ':' || (present.mask & 4294967295) || ':' || ((present.mask >> 32) & 4294967295), ',' ORDER BY dr_chunk)
        FROM generate_series(dr_row * ${chunksPerRow}, least(dr_row * ${chunksPerRow} + ${chunksPerRow - 1n}, ${last})) AS dr_chunk,
        LATERAL (SELECT count(*) AS n, coalesce(bit_or(1::bigint << (${k} - (${r.lo} + dr_chunk * ${chunkKeys}))::int), 0) AS mask FROM ${table}
          WHERE ${k} BETWEEN ${r.lo} + dr_chunk * ${chunkKeys} AND ${r.lo} + dr_chunk * ${chunkKeys} + least(${chunkKeys - 1n}, ${r.hi} - (${r.lo} + dr_chunk * ${chunkKeys}))) present
        WHERE present.n < ${chunkKeys}) AS masks
        FROM generate_series(0::bigint, ${last / chunksPerRow}) AS dr_row) dr_rows WHERE masks IS NOT NULL`;
    },
  };

  /**
   * A side's rows in the other side's gaps: key, sub-range of `width`, row hash. OFFSET 0 keeps the
   * look-up a subquery run once per gap, so each gap is one index range scan: flattened into a join,
   * the planner guesses thousands of rows per gap and scans the whole table instead.
   */
  const oneSidedRows = (table: string, r: Range, width: bigint, gaps: string[][]) => {
    const bounds = (i: 0 | 1) => `'{${gaps.map((g) => g[i]).join(',')}}'::bigint[]`;
    const rows = `unnest(${bounds(0)}, ${bounds(1)}) AS dr_gaps(lo, hi),
      LATERAL (SELECT ${k} AS key, ${rowHash} AS h FROM ${table} WHERE ${k} BETWEEN dr_gaps.lo AND dr_gaps.hi OFFSET 0) one_sided`;
    const bucket = `((one_sided.key - ${r.lo}) / ${width})::int`;
    return {
      each: `SELECT one_sided.key::text, ${bucket}, one_sided.h::text FROM ${rows} ORDER BY one_sided.key`,
      /** Per sub-range only: for a side that holds every key of the range, whose rows in the gaps are the gaps' keys. */
      summed: `SELECT ${bucket}, count(*)::int, sum(one_sided.h)::text FROM ${rows} GROUP BY 1`,
    };
  };

  const opened = await Promise.allSettled([openSnapshot(sourcePool), openSnapshot(targetPool)]);
  const failed = opened.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed) {
    await Promise.all(opened.map((o) => (o.status === 'fulfilled' ? closeSnapshot(o.value) : undefined)));
    throw failed.reason;
  }
  const [source, target] = opened.map((o) => (o as PromiseFulfilledResult<PoolClient>).value) as [PoolClient, PoolClient];
  const sides = [{ client: source, table: sourceTable }, { client: target, table: targetTable }] as const;

  const stats = { checksumQueries: 0, keyRunScans: 0, keyBitmaps: 0, rangesCompared: 0, keysCompared: 0, maxDepth: 0 };
  const counts: Record<DiffList, number> = { missingInTarget: 0, extraInTarget: 0, changed: 0 };
  // No promise per key: a sink awaits only when it writes (a promise per key is garbage that grows the heap).
  const found = (list: DiffList, key: string): void | Promise<void> => {
    counts[list]++;
    return sink.add(list, key);
  };
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
          if (!range.keysKnown) await found('missingInTarget', x!.k);
          a!.advance();
        } else if (kx === undefined || ky < kx) {
          if (!range.keysKnown) await found('extraInTarget', y!.k);
          b!.advance();
        } else {
          if (x!.h !== y!.h) await found('changed', x!.k);
          a!.advance();
          b!.advance();
        }
      }
      stats.keysCompared += a!.count + b!.count;
      totals ??= [BigInt(a!.count), BigInt(b!.count)];
    });
  };

  /**
   * Missing and extra keys of a range from the gaps in each side's keys: the rows of one side whose
   * keys fall in the other side's gaps are exactly its one-sided rows, read with their row hashes by
   * key-range look-ups on that side, and summed per sub-range of `childWidth`; reported to the sink
   * unless already reported (a sub-range of a range scanned before). Node never walks the key line:
   * it passes gaps from one server to the other and sums what comes back. A side that holds every
   * key of the range (`dense`, known from its checksums) has no gaps, and its scan is skipped.
   */
  const findOneSidedKeys = async (range: Range, childWidth: bigint, report: boolean, rows: readonly [bigint, bigint], dense: readonly [boolean, boolean]) => {
    stats.keyRunScans++;
    const sums = new Map<number, OneSidedSums>();
    const lists: [DiffList, DiffList] = ['missingInTarget', 'extraInTarget'];
    const add = (side: 0 | 1, bucket: number, count: number, hash: string) => {
      let entry = sums.get(bucket);
      if (!entry) sums.set(bucket, (entry = { missing: { count: 0, hash: 0n }, extra: { count: 0, hash: 0n } }));
      const sum = side === 0 ? entry.missing : entry.extra;
      sum.count += count;
      sum.hash += BigInt(hash);
    };
    type Push = (lo: string, hi: string) => void | Promise<void>;
    // Rows of side `side` in a batch of the other side's gaps (a side that lacks keys too), in key order.
    const rowsInGaps = async (side: 0 | 1, gaps: string[][]) => {
      const query = oneSidedRows(sides[side].table, range, childWidth, gaps);
      await withCursors([new ServerCursor<[string, number, string]>(sides[side].client, query.each, 5000, 'array')], async ([rows]) => {
        for (;;) {
          if (rows!.needsFill()) await rows!.fill();
          const row = rows!.current();
          if (!row) break;
          add(side, row[1], 1, row[2]);
          const written = report ? found(lists[side], row[0]) : undefined;
          if (written) await written;
          rows!.advance();
        }
      });
    };
    /** The other side's gaps, in batches of gapsPerLookUp, looked up on a side that lacks keys too. */
    const batchedLookUps = (side: 0 | 1) => {
      let batch: string[][] = [];
      const push: Push = (lo, hi) => {
        batch.push([lo, hi]);
        if (batch.length < gapsPerLookUp) return undefined;
        const full = batch;
        batch = [];
        return rowsInGaps(side, full);
      };
      return { push, finish: async () => void (batch.length && (await rowsInGaps(side, batch))) };
    };
    /**
     * Every key of every gap is a row of a dense side: the keys come from the gaps (reported as they
     * come, in key order), only their sums from the server. Short gaps are summed by key (`= ANY` of
     * at most keysPerLookUp keys), long ones by key range. One look-up runs while the next batch is
     * gathered; the gathering waits for it before it sends another, so at most two batches are held.
     */
    const denseLookUps = (side: 0 | 1) => {
      const { client, table } = sides[side];
      const bucket = `((${k} - ${range.lo}) / ${childWidth})::int`;
      let keys: string[] = [];
      let gaps: string[][] = [];
      let running: Promise<void> | undefined;
      const sum = async (text: string) => {
        const summed = await client.query<[number, number, string]>({ text, rowMode: 'array' });
        for (const [b, count, hash] of summed.rows) add(side, b, count, hash);
      };
      const send = async () => {
        const [batchKeys, batchGaps] = [keys, gaps];
        [keys, gaps] = [[], []];
        if (running) await running;
        const queries: Promise<void>[] = [];
        if (batchKeys.length) queries.push(sum(`SELECT ${bucket}, count(*)::int, sum(${rowHash})::text FROM ${table} WHERE ${k} = ANY('{${batchKeys.join(',')}}'::bigint[]) GROUP BY 1`));
        if (batchGaps.length) queries.push(sum(oneSidedRows(table, range, childWidth, batchGaps).summed));
        // Awaited by the next send or by finish; a failure surfaces there, never unhandled.
        const started = Promise.all(queries).then(() => undefined);
        started.catch(() => undefined);
        running = started;
      };
      const reportKey = (key: string) => (report ? found(lists[side], key) : undefined);
      const push: Push = (lo, hi) => {
        if (lo === hi) {
          keys.push(lo);
          const written = reportKey(lo);
          if (keys.length < keysPerLookUp) return written;
          return written ? written.then(send) : send();
        }
        return (async () => {
          const from = BigInt(lo);
          const to = BigInt(hi);
          const short = to - from < expandedGapKeys;
          if (!short) gaps.push([lo, hi]);
          for (let key = from; key <= to; key++) {
            const text = String(key);
            if (short) keys.push(text);
            const written = reportKey(text);
            if (written) await written;
          }
          if (keys.length >= keysPerLookUp || gaps.length >= gapsPerLookUp) await send();
        })();
      };
      const finish = async () => {
        if (keys.length || gaps.length) await send();
        await running;
      };
      return { push, finish, settle: () => running?.catch(() => undefined) };
    };
    // The gaps of one side (keys of the range it lacks), passed in batches to the other side.
    const readOneSided = async (gapSide: 0 | 1) => {
      if (dense[gapSide]) return;
      const rowSide = gapSide === 0 ? 1 : 0;
      const { client, table } = sides[gapSide];
      const lookUps = dense[rowSide] ? denseLookUps(rowSide) : { ...batchedLookUps(rowSide), settle: () => undefined };
      try {
        if (rows[gapSide] * chunkedGapDensity >= range.hi - range.lo + 1n) {
          await readChunkedGaps(client, table, lookUps.push);
        } else {
          const last = (await client.query<{ hi: string | null }>(sql.lastKey(table, range))).rows[0]!.hi;
          await withCursors([new ServerCursor<[string, string]>(client, sql.gaps(table, range), 5000, 'array')], async ([gaps]) => {
            for (;;) {
              if (gaps!.needsFill()) await gaps!.fill();
              const gap = gaps!.current();
              if (!gap) break;
              gaps!.advance();
              const written = lookUps.push(gap[0], gap[1]);
              if (written) await written;
            }
          });
          // After its last key (or all of the range, when the side has none there).
          const tail = last === null ? range.lo : BigInt(last) + 1n;
          if (tail <= range.hi) await lookUps.push(String(tail), String(range.hi));
        }
        await lookUps.finish();
      } finally {
        await lookUps.settle();
      }
    };
    /**
     * The gaps of a dense side from its chunk masks, as offsets from the range's start (a safe integer:
     * the range is at most chunkedGapDensity × the side's rows wide). A chunk the scan does not return
     * is full, so it ends any gap open before it. Each row's text is read in place: no object per chunk.
     */
    const readChunkedGaps = async (client: PoolClient, table: string, push: Push) => {
      const width = Number(range.hi - range.lo) + 1;
      const size = Number(chunkKeys);
      const chunks = Math.ceil(width / size);
      // Keys as numbers where the whole range is safe integers (the usual case); as bigints otherwise.
      const safe = range.lo >= BigInt(Number.MIN_SAFE_INTEGER) && range.hi <= BigInt(Number.MAX_SAFE_INTEGER);
      const start = Number(range.lo);
      const keyAt = safe ? (offset: number) => String(start + offset) : (offset: number) => String(range.lo + BigInt(offset));
      const emit = (from: number, to: number) => {
        const lo = keyAt(from);
        return push(lo, from === to ? lo : keyAt(to));
      };
      let open = -1;
      let next = 0;
      const mask = { chunk: 0, low: 0, high: 0 };
      await withCursors([new ServerCursor<[string]>(client, sql.chunkMasks(table, range), maskRowsPerFetch, 'array')], async ([masks]) => {
        for (;;) {
          if (masks!.needsFill()) await masks!.fill();
          const row = masks!.current();
          if (!row) break;
          masks!.advance();
          const text = row[0];
          const length = text.length;
          let at = 0;
          while (at < length) {
            at = readChunkMask(text, at, mask);
            const { chunk, low, high } = mask;
            if (chunk < next) throw new Error(`the gap scan of ${table} returned chunk ${chunk} after chunk ${next - 1}: its rows came out of key order`);
            if (chunk > next && open >= 0) {
              const written = emit(open, next * size - 1);
              open = -1;
              if (written) await written;
            }
            const base = chunk * size;
            const end = Math.min(size, width - base);
            for (let bit = 0; bit < end; bit++) {
              if ((((bit < 32 ? low : high) >>> (bit & 31)) & 1) === 0) {
                if (open < 0) open = base + bit;
              } else if (open >= 0) {
                const written = emit(open, base + bit - 1);
                open = -1;
                if (written) await written;
              }
            }
            next = chunk + 1;
          }
        }
      });
      if (open >= 0) {
        const written = emit(open, next < chunks ? next * size - 1 : width - 1);
        if (written) await written;
      }
    };
    // These queries are index probes the planner overprices: JIT would compile each of them for longer
    // (~0.25 s) than it runs. Off for them alone; the checksum passes keep the server's setting.
    await Promise.all(sides.map((s) => s.client.query(`SET LOCAL jit = off`)));
    try {
      await Promise.all([readOneSided(1), readOneSided(0)]);
    } finally {
      await Promise.all(sides.map((s) => s.client.query(`SET LOCAL jit TO DEFAULT`).catch(() => undefined)));
    }
    return sums;
  };

  /**
   * Bitmaps of each side's keys for the whole range, when it is worth it: the first range, unless its
   * keys are few (the gaps after its checksums cost little) or too many for the bitmaps' memory, on a
   * unique key (a chunk's count is then its keys), each side dense (its chunks, not its rows, are the
   * aggregate's groups) or sparse (few rows): a side with many rows spread thin would group each row.
   */
  const bitmapsApply = async (range: Range, width: bigint): Promise<[KeyBitmap, KeyBitmap] | undefined> => {
    if (range.depth !== 0 || range.keysKnown || !uniqueKey || width < bitmapMinKeys || width > maxBitmapKeys) return undefined;
    const estimates = await Promise.all(sides.map(async ({ client, table }) => {
      const planned = (await client.query<{ n: string }>(`SELECT reltuples::bigint::text AS n FROM pg_class WHERE oid = $1::regclass`, [table])).rows[0];
      const n = BigInt(planned?.n ?? '-1');
      // Never analysed: count it (one pass of the index or the table, cheap beside the checksums).
      return n >= 0n ? n : BigInt((await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${table}`)).rows[0]!.n);
    }));
    if (!estimates.every((n) => n * 8n >= width || n * 64n <= width)) return undefined;
    return [new KeyBitmap(Number(width)), new KeyBitmap(Number(width))];
  };

  /** Both sides' checksums of the range's sub-ranges, each side's bitmap filled from the same pass. */
  const checksumsWithBitmaps = (range: Range, width: bigint, childWidth: bigint, bitmaps: [KeyBitmap, KeyBitmap]) => {
    stats.keyBitmaps += 2;
    return Promise.all(sides.map(async ({ client, table }, i) => {
      const result = await client.query<[number, string, string, string | null]>({ text: bitmapPassSql(table, k, rowHash, range.lo, width, childWidth), rowMode: 'array' });
      const sums: BucketSums[] = [];
      for (const [kind, at, n, h] of result.rows) {
        if (kind === 0) sums.push({ bucket: at, n, h: h! });
        else bitmaps[i]!.addGroup(Number(at), n, h);
      }
      bitmaps[i]!.finish();
      return sums;
    }));
  };

  /**
   * The one-sided keys of the range, reported from the two bitmaps in key order while each side sums
   * (in one filtered scan, hashing only them) its rows whose keys the other side lacks.
   */
  const oneSidedFromBitmaps = async (range: Range, width: bigint, childWidth: bigint, bitmaps: [KeyBitmap, KeyBitmap]) => {
    const sums = new Map<number, OneSidedSums>();
    const summed = sides.map(async ({ client, table }, i) => {
      const other = bitmaps[i === 0 ? 1 : 0]!;
      if (!other.lacksKeys) return;
      await client.query('SET LOCAL jit = off');
      try {
        const rows = (await client.query<[number, number, string]>({ text: oneSidedSumsSql(table, k, rowHash, range.lo, width, childWidth), values: [other.buffer], rowMode: 'array' })).rows;
        for (const [bucket, count, hash] of rows) {
          let entry = sums.get(bucket);
          if (!entry) sums.set(bucket, (entry = { missing: { count: 0, hash: 0n }, extra: { count: 0, hash: 0n } }));
          const sum = i === 0 ? entry.missing : entry.extra;
          sum.count += count;
          sum.hash += BigInt(hash);
        }
      } finally {
        await client.query('SET LOCAL jit TO DEFAULT').catch(() => undefined);
      }
    });
    // Awaited below, after the keys are reported; a failure surfaces there, never unhandled.
    const both = Promise.all(summed);
    both.catch(() => undefined);
    const safe = range.lo >= BigInt(Number.MIN_SAFE_INTEGER) && range.hi <= BigInt(Number.MAX_SAFE_INTEGER);
    const start = Number(range.lo);
    const keyAt = safe ? (offset: number) => String(start + offset) : (offset: number) => String(range.lo + BigInt(offset));
    try {
      await reportOneSidedKeys(bitmaps[0], bitmaps[1], keyAt, (key) => found('missingInTarget', key), (key) => found('extraInTarget', key));
    } finally {
      await both.catch(() => undefined);
    }
    await both;
    return sums;
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
        const bitmaps = await bitmapsApply(range, width);
        const childWidth = bitmaps ? roundUp((width + factor - 1n) / factor, BigInt(bitmapChunkKeys)) : (width + factor - 1n) / factor;
        const [s, t] = (bitmaps
          ? await checksumsWithBitmaps(range, width, childWidth, bitmaps)
          : await Promise.all(sides.map(async (side) => (await side.client.query<BucketSums>(sql.checksums(side.table, range, childWidth))).rows))) as [BucketSums[], BucketSums[]];
        stats.checksumQueries += 2;
        const sb = new Map(s.map((r) => [r.bucket, r]));
        const tb = new Map(t.map((r) => [r.bucket, r]));
        totals ??= [s.reduce((n, r) => n + BigInt(r.n), 0n), t.reduce((n, r) => n + BigInt(r.n), 0n)];
        const buckets = [...new Set([...sb.keys(), ...tb.keys()])].map(BigInt).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
        const childOf = (bucket: bigint) => {
          const lo = range.lo + bucket * childWidth;
          return { lo, hi: lo + childWidth - 1n < range.hi ? lo + childWidth - 1n : range.hi };
        };
        const none = { missing: { count: 0, hash: 0n }, extra: { count: 0, hash: 0n } };
        /** Children whose rows differ, once the known one-sided keys are taken out of both checksums. */
        const differing = (oneSided: Map<number, OneSidedSums> | undefined) => buckets.flatMap((bucket) => {
          const { lo, hi } = childOf(bucket);
          const x = sb.get(String(bucket));
          const y = tb.get(String(bucket));
          const { missing: m, extra: e } = oneSided?.get(Number(bucket)) ?? none;
          const keysKnown = oneSided !== undefined;
          const sourceCount = BigInt(x?.n ?? '0') - BigInt(m.count);
          const targetCount = BigInt(y?.n ?? '0') - BigInt(e.count);
          const same = sourceCount === targetCount && BigInt(x?.h ?? '0') - m.hash === BigInt(y?.h ?? '0') - e.hash;
          const rows = sourceCount > targetCount ? sourceCount : targetCount;
          return same ? [] : [{ lo, hi, depth: range.depth + 1, leaf: rows <= threshold, keysKnown }];
        });
        let children: Range[];
        if (bitmaps) {
          children = differing(await oneSidedFromBitmaps(range, width, childWidth, bitmaps));
        } else {
          // A range whose one-sided keys were reported already (it is part of a scanned range) scans its
          // key runs again for its own sub-ranges' sums: only ranges that also hold changed rows get here.
          // With a primary key, as many rows as keys in the range means every key is there.
          const rows = [s, t].map((sums) => sums.reduce((n, r) => n + BigInt(r.n), 0n)) as [bigint, bigint];
          const dense = rows.map((n) => uniqueKey && n === width) as [boolean, boolean];
          children = differing(range.keysKnown ? await findOneSidedKeys(range, childWidth, false, rows, dense) : undefined);
          if (!range.keysKnown && children.length * 2 > buckets.length) children = differing(await findOneSidedKeys(range, childWidth, true, rows, dense));
        }
        // Pushed in reverse so the stack pops them in key order.
        for (const child of children.reverse()) pending.push(child);
      }
      options.onProgress?.({ rangesCompared: stats.rangesCompared, keysCompared: stats.keysCompared, differencesFound: counts.missingInTarget + counts.extraInTarget + counts.changed });
    }
  } finally {
    await Promise.all([closeSnapshot(source), closeSnapshot(target)]);
  }
  return {
    table: sourceTable,
    key,
    sourceRows: String(totals?.[0] ?? 0n),
    targetRows: String(totals?.[1] ?? 0n),
    counts,
    stats,
  };
}
