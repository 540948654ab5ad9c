import { spawn } from 'node:child_process';
import path from 'node:path';
import { Client, type ClientBase } from 'pg';
import { describeTable, quoteIdentifier } from '../activities/validation/schema-catalog';
import type { PostgresCluster } from '../activities/adapters/local/postgres/cluster';
import { timed, type BenchContext } from './context';
import { tenthTable } from './dataset';
import { formatMegabytes, formatSeconds, type BenchResult } from './report-table';

export interface DiffRun {
  ms: number;
  startKb: number;
  peakKb: number;
  sampledKb: number;
  /** Largest V8 heap (heapTotal) sampled every 100 ms: what of the RSS is the JavaScript heap. */
  heapKb: number;
  rows: [string, string];
  missing: number;
  extra: number;
  changed: number;
  /** NDJSON parts the differences were streamed to. */
  parts: number;
  stats: Record<string, number>;
}

/**
 * Deletes every hundredth (1 %) or every tenth (10 %) key of a table in the copy: the "accidental
 * deletion" the diff must find. The 10 % keys include the 1 % ones, so 10 % can follow 1 %.
 */
export async function deleteScattered(copy: ClientBase, table: string, percent: 1 | 10): Promise<number> {
  return (await copy.query(`DELETE FROM ${table} WHERE id % ${100 / percent} = ${percent === 1 ? 42 : 2}`)).rowCount ?? 0;
}

/** key-range-diff's row hash, written out for the table's columns, the same expression. */
function rowHashOf(columns: string[]): string {
  return `('x' || substr(md5(ROW(${columns.map(quoteIdentifier).join(', ')})::text), 1, 16))::bit(64)::bigint`;
}

/**
 * The raw operation: one pass over each side, run on both servers at once, summing the same row hash
 * per key segment (as many segments as the diff's first split), in the same snapshot settings.
 */
async function segmentChecksums(sides: ClientBase[], table: string, segments: number): Promise<void> {
  const columns = (await describeTable(sides[0]!, table)).columns.map((c) => c.name);
  const hash = rowHashOf(columns);
  await Promise.all(sides.map(async (db) => {
    await db.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await db.query(`SELECT set_config('TimeZone', 'UTC', true), set_config('DateStyle', 'ISO, YMD', true),
      set_config('IntervalStyle', 'postgres', true), set_config('extra_float_digits', '1', true), set_config('bytea_output', 'hex', true)`);
    const { lo, hi } = (await db.query<{ lo: string; hi: string }>(`SELECT min(id)::text AS lo, max(id)::text AS hi FROM ${table}`)).rows[0]!;
    const width = (BigInt(hi) - BigInt(lo) + BigInt(segments)) / BigInt(segments);
    await db.query(`SELECT (id - ${lo}) / ${width} AS segment, count(*), sum(${hash}) FROM ${table} GROUP BY 1`);
    await db.query('COMMIT');
  }));
}

/** Runs diffTable in a child process (bench/diff-child.ts), so its peak RSS is measured alone. */
export function diffInChild(sourceUrl: string, targetUrl: string, table: string): Promise<DiffRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'diff-child.ts')], {
      env: { ...process.env, BENCH_SOURCE_URL: sourceUrl, BENCH_TARGET_URL: targetUrl, BENCH_TABLE: table },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`diff child exited ${code}: ${err.trim()}`));
      resolve(JSON.parse(out.trim().split('\n').at(-1)!) as DiffRun);
    });
  });
}

const rowsOf = (n: string) => `${(Number(n) / 1e6).toFixed(Number(n) < 1e6 ? 2 : 1)}M`;

/**
 * Key-range diff / segment checksum, and the diff's peak memory at a tenth and at the whole of
 * transactions: first with 1 % of the keys deleted in the copy, then with 10 %.
 */
export async function benchDiff(ctx: BenchContext, copy: PostgresCluster): Promise<BenchResult[]> {
  const productionUrl = ctx.stack.production.url(ctx.stack.databaseName);
  const copyUrl = copy.url(ctx.stack.databaseName);
  const clients = [new Client({ connectionString: productionUrl }), new Client({ connectionString: copyUrl })];
  await Promise.all(clients.map((c) => c.connect()));
  const results: BenchResult[] = [];
  try {
    // tsx compiles on a child's first start and uses more memory than a cached start: warm it up before the measured runs.
    ctx.log('diff: warming up the child process (tsx compile cache) on bench_marks');
    await diffInChild(productionUrl, copyUrl, 'bench_marks');
    for (const percent of [1, 10] as const) {
      for (const table of ['transactions', tenthTable]) {
        const deleted = await deleteScattered(clients[1]!, table, percent);
        ctx.log(`diff: deleted ${deleted.toLocaleString('en-US')} more rows of ${table} in the copy (${percent} % of its keys now gone)`);
      }
      await clients[1]!.query(`VACUUM ANALYZE transactions, ${tenthTable}`);
      ctx.log(`diff ${percent} %: warming up (segment checksum of both sides)`);
      await segmentChecksums(clients, 'transactions', 32);
      const raw1 = await timed(() => segmentChecksums(clients, 'transactions', 32));
      ctx.log(`diff ${percent} %: segment checksum ${formatSeconds(raw1.ms)}; key-range diff of transactions (child process)`);
      const full = await diffInChild(productionUrl, copyUrl, 'transactions');
      ctx.log(`diff ${percent} %: ${formatSeconds(full.ms)}, ${full.missing.toLocaleString('en-US')} missing in ${full.parts} parts, peak RSS ${formatMegabytes(full.peakKb)} (V8 heap ${formatMegabytes(full.heapKb)}); stats ${JSON.stringify(full.stats)}`);
      const raw2 = await timed(() => segmentChecksums(clients, 'transactions', 32));
      ctx.log(`diff ${percent} %: segment checksum ${formatSeconds(raw2.ms)}; key-range diff of ${tenthTable} (a tenth of the rows)`);
      const tenth = await diffInChild(productionUrl, copyUrl, tenthTable);
      ctx.log(`diff ${percent} %: ${formatSeconds(tenth.ms)}, ${tenth.missing.toLocaleString('en-US')} missing in ${tenth.parts} parts, peak RSS ${formatMegabytes(tenth.peakKb)} (V8 heap ${formatMegabytes(tenth.heapKb)})`);
      const rawMs = Math.min(raw1.ms, raw2.ms);
      const ratio = full.ms / rawMs;
      const growth = full.peakKb / tenth.peakKb;
      const every = percent === 1 ? 'every 100th key' : 'every 10th key';
      results.push(
        {
          name: `key-range diff / segment checksum, ${percent} % deleted`,
          figure: formatSeconds(full.ms),
          raw: formatSeconds(rawMs),
          ratio,
          goal: '≤ 1.2',
          met: ratio <= 1.2,
          note: `transactions, ${rowsOf(full.rows[0])} rows, ${full.missing.toLocaleString('en-US')} deleted (${every}) found exactly (${full.extra} extra, ${full.changed} changed); raw: the better of ${formatSeconds(raw1.ms)} and ${formatSeconds(raw2.ms)}`,
        },
        {
          name: `diff peak memory ${rowsOf(tenth.rows[0])} → ${rowsOf(full.rows[0])} rows, ${percent} % deleted`,
          figure: `${formatMegabytes(tenth.peakKb)} → ${formatMegabytes(full.peakKb)}`,
          ratio: growth,
          goal: 'flat (≤ 1.10)',
          met: growth <= 1.1,
          note: `VmHWM of the child process running the diff (before it: ${formatMegabytes(tenth.startKb)} and ${formatMegabytes(full.startKb)}); differences streamed to the object store: ${tenth.missing.toLocaleString('en-US')} keys in ${tenth.parts} parts and ${full.missing.toLocaleString('en-US')} in ${full.parts}`,
        },
      );
    }
    return results;
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
}
