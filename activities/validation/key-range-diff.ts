import type { Pool, PoolClient } from 'pg';
import { describeTable, quoteIdentifier, resolveTable, type TableDescription } from './schema-catalog';

/**
 * Key-range diff (the method of Datafold's data-diff): both servers checksum the same primary-key
 * ranges in SQL, in parallel; only ranges whose count or checksum differ are split again, and ranges
 * small enough are compared key by key. Rows never reach Node to be hashed: only per-range sums and,
 * at the leaves, (key, row hash) pairs. Memory is bounded by depth × factor ranges plus the keys found.
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
  stats: { checksumQueries: number; rangesCompared: number; keysCompared: number; maxDepth: number };
}

const integerTypes = new Set(['bigint', 'integer', 'smallint']);

interface Range {
  lo: bigint;
  hi: bigint;
  depth: number;
  /** Few enough rows to compare key by key, however wide the key range. */
  leaf?: boolean;
}

interface Side {
  client: PoolClient;
  table: string;
}

/** One REPEATABLE READ snapshot per side, with text output settings fixed so equal rows print equally on both servers. */
async function openSide(pool: Pool, table: string): Promise<Side> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await client.query(`SELECT set_config('TimeZone', 'UTC', true), set_config('DateStyle', 'ISO, YMD', true),
      set_config('IntervalStyle', 'postgres', true), set_config('extra_float_digits', '1', true), set_config('bytea_output', 'hex', true)`);
    return { client, table };
  } catch (error) {
    client.release();
    throw error;
  }
}

async function closeSide(side: Side): Promise<void> {
  await side.client.query('COMMIT').catch(() => undefined);
  side.client.release();
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

/** Reads one side's (key, hash) rows of a range through a server-side cursor, a batch ahead, so both servers work at once. */
class KeyReader {
  private static cursors = 0;
  private readonly name = `dr_diff_keys_${++KeyReader.cursors}`;
  private rows: Array<{ k: string; h: string }> = [];
  private index = 0;
  private done = false;
  private nextBatch: Promise<Array<{ k: string; h: string }>> | undefined;
  count = 0;

  constructor(private readonly side: Side, private readonly sql: string, private readonly batchRows = 5000) {}

  async open(): Promise<void> {
    await this.side.client.query(`DECLARE ${this.name} NO SCROLL CURSOR FOR ${this.sql}`);
    this.nextBatch = this.fetch();
  }

  private fetch() {
    return this.side.client.query<{ k: string; h: string }>(`FETCH ${this.batchRows} FROM ${this.name}`).then((r) => r.rows);
  }

  async peek(): Promise<{ k: string; h: string } | undefined> {
    if (this.index < this.rows.length) return this.rows[this.index];
    if (this.done || !this.nextBatch) return undefined;
    this.rows = await this.nextBatch;
    this.index = 0;
    if (this.rows.length < this.batchRows) {
      this.done = true;
      this.nextBatch = undefined;
    } else {
      this.nextBatch = this.fetch();
    }
    return this.rows[0];
  }

  advance(): void {
    this.index++;
    this.count++;
  }

  async close(): Promise<void> {
    await this.nextBatch?.catch(() => undefined);
    await this.side.client.query(`CLOSE ${this.name}`).catch(() => undefined);
  }
}

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
  const checksumSql = (table: string) => `SELECT ((${k} - $1::bigint) / $3::bigint)::text AS bucket, count(*)::text AS n, sum(${rowHash})::text AS h
    FROM ${table} WHERE ${k} BETWEEN $1::bigint AND $2::bigint GROUP BY 1`;
  // Range bounds are bigints we computed, so they are written as literals (a cursor's query takes no parameters here).
  const keysSql = (table: string, range: Range) => `SELECT ${k}::text AS k, ${rowHash}::text AS h FROM ${table} WHERE ${k} BETWEEN ${range.lo} AND ${range.hi} ORDER BY ${k}`;

  const opened = await Promise.allSettled([openSide(sourcePool, sourceTable), openSide(targetPool, targetTable)]);
  const failed = opened.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed) {
    await Promise.all(opened.map((o) => (o.status === 'fulfilled' ? closeSide(o.value) : undefined)));
    throw failed.reason;
  }
  const [source, target] = opened.map((o) => (o as PromiseFulfilledResult<Side>).value) as [Side, Side];
  const stats = { checksumQueries: 0, rangesCompared: 0, keysCompared: 0, maxDepth: 0 };
  const missingInTarget: string[] = [];
  const extraInTarget: string[] = [];
  const changed: string[] = [];
  let sourceRows = 0n;
  let targetRows = 0n;
  try {
    const bounds = await Promise.all([source, target].map((s) => s.client.query<{ lo: string | null; hi: string | null }>(`SELECT min(${k})::text AS lo, max(${k})::text AS hi FROM ${s.table}`)));
    const los = bounds.map((b) => b.rows[0]!.lo).filter((v): v is string => v !== null).map(BigInt);
    const his = bounds.map((b) => b.rows[0]!.hi).filter((v): v is string => v !== null).map(BigInt);
    const pending: Range[] = los.length ? [{ lo: los.reduce((a, b) => (a < b ? a : b)), hi: his.reduce((a, b) => (a > b ? a : b)), depth: 0 }] : [];
    let countedTotals = false;

    /** Merge-joins the two sides' (key, hash) streams of one range: missing, extra or changed. */
    const compareKeys = async (range: Range) => {
      const readers = [new KeyReader(source, keysSql(source.table, range)), new KeyReader(target, keysSql(target.table, range))] as const;
      const [a, b] = readers;
      await Promise.all(readers.map((r) => r.open()));
      try {
        for (;;) {
          const [x, y] = await Promise.all([a.peek(), b.peek()]);
          if (!x && !y) break;
          const kx = x ? BigInt(x.k) : undefined;
          const ky = y ? BigInt(y.k) : undefined;
          if (ky === undefined || (kx !== undefined && kx < ky)) {
            missingInTarget.push(x!.k);
            a.advance();
          } else if (kx === undefined || ky < kx) {
            extraInTarget.push(y!.k);
            b.advance();
          } else {
            if (x!.h !== y!.h) changed.push(x!.k);
            a.advance();
            b.advance();
          }
        }
      } finally {
        await Promise.all(readers.map((r) => r.close()));
      }
      stats.keysCompared += a.count + b.count;
      return { sourceRows: BigInt(a.count), targetRows: BigInt(b.count) };
    };

    while (pending.length) {
      const range = pending.pop()!;
      options.beforeRange?.();
      stats.rangesCompared++;
      stats.maxDepth = Math.max(stats.maxDepth, range.depth);
      const width = range.hi - range.lo + 1n;
      if (range.leaf || width <= threshold) {
        const counted = await compareKeys(range);
        if (!countedTotals) {
          sourceRows = counted.sourceRows;
          targetRows = counted.targetRows;
          countedTotals = true;
        }
      } else {
        const childWidth = (width + factor - 1n) / factor;
        const params = [String(range.lo), String(range.hi), String(childWidth)];
        const [s, t] = await Promise.all([source, target].map((side) => side.client.query<{ bucket: string; n: string; h: string }>(checksumSql(side.table), params)));
        stats.checksumQueries += 2;
        const sb = new Map(s!.rows.map((r) => [r.bucket, r]));
        const tb = new Map(t!.rows.map((r) => [r.bucket, r]));
        if (!countedTotals) {
          sourceRows = s!.rows.reduce((sum, r) => sum + BigInt(r.n), 0n);
          targetRows = t!.rows.reduce((sum, r) => sum + BigInt(r.n), 0n);
          countedTotals = true;
        }
        const differing: Array<{ range: Range; rows: bigint }> = [];
        for (const bucket of [...new Set([...sb.keys(), ...tb.keys()])].map(BigInt).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0))) {
          const x = sb.get(String(bucket));
          const y = tb.get(String(bucket));
          if (x && y && x.n === y.n && x.h === y.h) continue;
          const lo = range.lo + bucket * childWidth;
          const hi = lo + childWidth - 1n < range.hi ? lo + childWidth - 1n : range.hi;
          const rows = [x?.n ?? '0', y?.n ?? '0'].map(BigInt).reduce((m, v) => (v > m ? v : m));
          differing.push({ range: { lo, hi, depth: range.depth + 1 }, rows });
        }
        // Small ranges go straight to key comparison (a range can be wide but sparse); the rest are split again.
        // When most sub-ranges differ (scattered losses), splitting again would rescan them only to find the
        // same, so ranges up to factor × threshold rows are compared key by key at once (streamed, so memory stays flat).
        const dense = differing.length * 2 > Math.max(sb.size, tb.size);
        const leafRows = dense ? threshold * factor : threshold;
        // Pushed in reverse so the stack pops them in key order and the key lists come out ascending.
        for (const d of differing.reverse()) pending.push({ ...d.range, leaf: d.rows <= leafRows });
      }
      options.onProgress?.({ rangesCompared: stats.rangesCompared, keysCompared: stats.keysCompared, differencesFound: missingInTarget.length + extraInTarget.length + changed.length });
    }
  } finally {
    await Promise.all([closeSide(source), closeSide(target)]);
  }
  return { table: sourceTable, key, sourceRows: String(sourceRows), targetRows: String(targetRows), missingInTarget, extraInTarget, changed, stats };
}
