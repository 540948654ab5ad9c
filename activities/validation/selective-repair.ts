import type { Pool, PoolClient } from 'pg';
import type { StoredDiff } from './diff-parts';
import { describeTable, listForeignKeys, parentsFirst, quoteIdentifier, resolveTable, type TableDescription } from './schema-catalog';

/**
 * Selective repair after an accidental deletion: copy back into the target (production) exactly the
 * rows a diff found missing there, from the source (the point-in-time copy), leaving every row
 * production wrote since untouched. Parents first, one transaction per table, idempotent.
 */
export interface RepairOptions {
  /** Count only: reads both sides, writes nothing. */
  dryRun: boolean;
  /** Also replace rows that differ with the source's version (otherwise they are only reported). */
  overwriteChanged?: boolean;
  /** Rows per multi-row INSERT. */
  batchSize?: number;
  /** Called before each batch: throw to stop (cancellation); the table's transaction is rolled back. */
  beforeBatch?: () => void;
  onProgress?: (progress: { table: string; rowsCopied: number }) => void;
}

export interface TableRepair {
  table: string;
  key: string;
  /** Keys the diff found missing in the target. */
  missingInDiff: number;
  /** Dry run: rows that would be inserted now. Otherwise: rows inserted. */
  inserted: number;
  /** Missing in the diff but present in the target now (an earlier repair, or re-inserted since). */
  alreadyPresent: number;
  /** Missing in the diff but no longer in the source: nothing to copy. */
  notInSource: number;
  /** Rows that differ between the two sides. */
  changed: number;
  /** Dry run: changed rows that would be replaced. Otherwise: replaced (0 unless overwriteChanged). */
  overwritten: number;
  /** The first changed keys, for the report. */
  changedKeys: string[];
  /** Sequences moved ahead of the table's max key, so production's next insert cannot collide. */
  sequencesAdvanced: string[];
}

export interface RepairResult {
  dryRun: boolean;
  overwriteChanged: boolean;
  /** Tables in the order they were repaired (parents before children). */
  tables: TableRepair[];
  totalInserted: number;
  totalOverwritten: number;
  /** One line per table, for the approval prompt and the report. */
  summary: string[];
}

const reportedChangedKeys = 20;
const maxParameters = 65_535;

interface Copy {
  description: TableDescription;
  columns: string[];
  key: string;
  client: PoolClient;
}

/**
 * Rows of the source as text, in key order: exact (no Date or float conversion in Node), and printed
 * in ISO styles the target parses back to the same values whatever its own settings.
 */
async function fetchSourceRows(source: Pool, table: string, columns: string[], key: string, keys: string[]): Promise<string[][]> {
  const client = await source.connect();
  try {
    await client.query('BEGIN READ ONLY');
    await client.query(`SELECT set_config('DateStyle', 'ISO, YMD', true), set_config('IntervalStyle', 'postgres', true),
      set_config('extra_float_digits', '3', true), set_config('bytea_output', 'hex', true)`);
    const result = await client.query({
      text: `SELECT ${columns.map((c) => `${quoteIdentifier(c)}::text`).join(', ')} FROM ${table} WHERE ${quoteIdentifier(key)} = ANY($1::bigint[]) ORDER BY ${quoteIdentifier(key)}`,
      values: [keys],
      rowMode: 'array',
    });
    await client.query('COMMIT');
    return result.rows as string[][];
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** INSERT ... VALUES ($1::type, ...), ... ON CONFLICT (key) DO NOTHING | DO UPDATE: returns the rows written. */
async function writeRows(copy: Copy, table: string, rows: string[][], onConflict: 'nothing' | 'update'): Promise<number> {
  if (rows.length === 0) return 0;
  const types = copy.columns.map((c) => copy.description.columns.find((d) => d.name === c)!.type);
  const values: string[] = [];
  const tuples = rows.map((row, r) => `(${row.map((value, i) => {
    values.push(value);
    return `$${r * copy.columns.length + i + 1}::${types[i]}`;
  }).join(', ')})`);
  const updates = copy.columns.filter((c) => c !== copy.key).map((c) => `${quoteIdentifier(c)} = EXCLUDED.${quoteIdentifier(c)}`);
  // Only rows that really differ are rewritten, so a second overwrite run reports 0.
  const differs = `ROW(${copy.columns.map((c) => `target.${quoteIdentifier(c)}`).join(', ')}) IS DISTINCT FROM ROW(${copy.columns.map((c) => `EXCLUDED.${quoteIdentifier(c)}`).join(', ')})`;
  const conflict = onConflict === 'update' && updates.length ? `DO UPDATE SET ${updates.join(', ')} WHERE ${differs}` : 'DO NOTHING';
  const result = await copy.client.query(
    `INSERT INTO ${table} AS target (${copy.columns.map(quoteIdentifier).join(', ')}) OVERRIDING SYSTEM VALUE VALUES ${tuples.join(', ')}
     ON CONFLICT (${quoteIdentifier(copy.key)}) ${conflict}`,
    values,
  );
  return result.rowCount ?? 0;
}

/** Keys of `keys` that the target does not have. */
async function stillMissing(target: Pool | PoolClient, table: string, key: string, keys: string[]): Promise<string[]> {
  const result = await target.query<{ k: string }>(`SELECT m.k::text AS k FROM unnest($1::bigint[]) AS m(k) WHERE NOT EXISTS (SELECT 1 FROM ${table} t WHERE t.${quoteIdentifier(key)} = m.k) ORDER BY m.k`, [keys]);
  return result.rows.map((r) => r.k);
}

async function countInSource(source: Pool, table: string, key: string, keys: string[]): Promise<number> {
  if (keys.length === 0) return 0;
  const result = await source.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE ${quoteIdentifier(key)} = ANY($1::bigint[])`, [keys]);
  return result.rows[0]!.n;
}

/** Moves each serial/identity sequence of the table past its max value; never moves one back. */
async function advanceSequences(client: PoolClient, description: TableDescription): Promise<string[]> {
  const advanced: string[] = [];
  for (const column of description.columns.filter((c) => c.sequence)) {
    const result = await client.query(
      `SELECT setval($1::regclass, m) FROM (SELECT max(${quoteIdentifier(column.name)}) AS m FROM ${description.table}) x
       WHERE m > coalesce(pg_sequence_last_value($1::regclass), 0)`,
      [column.sequence],
    );
    if (result.rowCount) advanced.push(column.sequence!);
  }
  return advanced;
}

export async function repairFromDiffs(source: Pool, target: Pool, diffs: readonly StoredDiff[], options: RepairOptions): Promise<RepairResult> {
  const byTable = new Map<string, StoredDiff>();
  for (const diff of diffs) {
    const table = await resolveTable(target, diff.table);
    if (!table) throw new Error(`diffs: table "${diff.table}" does not exist in the target database`);
    if (byTable.has(table)) throw new Error(`diffs: table ${table} appears twice; give one diff per table`);
    byTable.set(table, diff);
  }
  const order = parentsFirst([...byTable.keys()], await listForeignKeys(target));
  const tables: TableRepair[] = [];
  for (const table of order) tables.push(await repairTable(source, target, table, byTable.get(table)!, options));
  const totalInserted = tables.reduce((n, t) => n + t.inserted, 0);
  const totalOverwritten = tables.reduce((n, t) => n + t.overwritten, 0);
  const verb = options.dryRun ? 'would insert' : 'inserted';
  const summary = tables.map((t) => {
    const overwrite = options.overwriteChanged ? `, ${options.dryRun ? 'would overwrite' : 'overwrote'} ${t.overwritten}` : ', left as they are';
    return `${t.table}: ${verb} ${t.inserted} of ${t.missingInDiff} missing rows (${t.alreadyPresent} already present, ${t.notInSource} not in source); ${t.changed} changed rows${t.changed ? overwrite : ''}`;
  });
  return { dryRun: options.dryRun, overwriteChanged: options.overwriteChanged ?? false, tables, totalInserted, totalOverwritten, summary };
}

async function repairTable(source: Pool, target: Pool, table: string, diff: StoredDiff, options: RepairOptions): Promise<TableRepair> {
  const description = await describeTable(target, table);
  const columns = description.columns.filter((c) => !c.generated).map((c) => c.name);
  if (!columns.includes(diff.key)) throw new Error(`diffs: key ${diff.key} is not a column of ${table}`);
  const batchSize = Math.max(1, Math.min(options.batchSize ?? 500, Math.floor(maxParameters / columns.length)));
  const overwrite = options.overwriteChanged ?? false;
  const base = { table, key: diff.key, missingInDiff: diff.counts.missingInTarget, changed: diff.counts.changed, changedKeys: diff.first.changed.slice(0, reportedChangedKeys) };

  if (options.dryRun) {
    let inserted = 0;
    let alreadyPresent = 0;
    let notInSource = 0;
    for await (const keys of diff.batches('missingInTarget', batchSize)) {
      options.beforeBatch?.();
      const missing = await stillMissing(target, table, diff.key, keys);
      const available = await countInSource(source, table, diff.key, missing);
      alreadyPresent += keys.length - missing.length;
      notInSource += missing.length - available;
      inserted += available;
    }
    let overwritten = 0;
    if (overwrite) for await (const keys of diff.batches('changed', batchSize)) overwritten += await countInSource(source, table, diff.key, keys);
    return { ...base, inserted, alreadyPresent, notInSource, overwritten, sequencesAdvanced: [] };
  }

  const client = await target.connect();
  try {
    await client.query('BEGIN');
    const copy: Copy = { description, columns, key: diff.key, client };
    let inserted = 0;
    let fetched = 0;
    for await (const keys of diff.batches('missingInTarget', batchSize)) {
      options.beforeBatch?.();
      const rows = await fetchSourceRows(source, table, columns, diff.key, keys);
      fetched += rows.length;
      inserted += await writeRows(copy, table, rows, 'nothing');
      options.onProgress?.({ table, rowsCopied: inserted });
    }
    let overwritten = 0;
    if (overwrite) {
      for await (const keys of diff.batches('changed', batchSize)) {
        options.beforeBatch?.();
        overwritten += await writeRows(copy, table, await fetchSourceRows(source, table, columns, diff.key, keys), 'update');
        options.onProgress?.({ table, rowsCopied: inserted + overwritten });
      }
    }
    const sequencesAdvanced = await advanceSequences(client, description);
    await client.query('COMMIT');
    return { ...base, inserted, alreadyPresent: fetched - inserted, notInSource: diff.counts.missingInTarget - fetched, overwritten, sequencesAdvanced };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw new Error(`repair of ${table} failed and was rolled back (tables before it in foreign-key order are repaired): ${(error as Error).message}`);
  } finally {
    client.release();
  }
}
