import type { Pool } from 'pg';
import type { CheckResult, ReconciliationLine } from '../../contracts/validation';
import type { Baseline } from './baseline';
import { remeasureSegments, relationFileOf, totalsNow, vanishedRanges, type SegmentNow } from './block-segments';
import { runChecks, type CheckDefinition } from './checks';
import type { ApplicationDeclaration } from './declaration';
import { historyCheck } from './history';
import { restrictChecks, type TableChange } from './incremental-checks';
import type { TableFigures } from './measure';
import { reconcile, reconciliationCheck } from './reconcile';
import { listTables, type ForeignKey } from './schema-catalog';
import { diffSchema, readSchemaFingerprint } from './schema-fingerprint';
import { anchorMismatch, walChangesSince } from './wal-anchor';

// The validation gate, incrementally: a promoted standby checked against a trusted baseline by what the
// WAL says changed since the baseline's LSN. Whenever the baseline cannot be trusted for this database
// the answer is a reason, and the caller runs the full gate instead: this path only ever passes what
// it can show is the baseline's known good state plus changes it has checked.

export interface IncrementalGateOptions {
  pool: Pool;
  baseline: Baseline;
  /** The checks the full gate would run (the built-in ones), restricted here. */
  full: CheckDefinition[];
  foreignKeys: ForeignKey[];
  app?: ApplicationDeclaration;
  resolved: Map<string, string>;
  concurrency: number;
  beforeEach: () => void;
  onDone: (result: CheckResult, done: number) => void;
  /** A table at or under this many rows at the baseline is checked whole. */
  smallTableRows?: number;
  /** More changed segments than this share of a table's (or new rows than maxNewRows): the full gate is cheaper. */
  maxChangedShare?: number;
  maxNewRows?: number;
}

export type IncrementalOutcome =
  | { fallback: string }
  | { checks: CheckResult[]; lines: ReconciliationLine[]; detail: string };

export async function runIncrementalGate(o: IncrementalGateOptions): Promise<IncrementalOutcome> {
  const started = Date.now();
  const inc = o.baseline.incremental;
  const label = o.baseline.backup.label;
  if (!inc) return { fallback: `the baseline of backup ${label} has no segment totals (taken before incremental validation, or not on a restored backup)` };
  if (inc.formatVersion !== 1) return { fallback: `the baseline's segment totals have format ${String(inc.formatVersion)}; this worker reads format 1` };
  const mismatch = await anchorMismatch(o.pool, inc.anchor);
  if (mismatch) return { fallback: mismatch };
  const schema = diffSchema(o.baseline.schema, await readSchemaFingerprint(o.pool));
  if (schema.length) return { fallback: `the schema changed since the baseline (${schema.slice(0, 3).map((d) => `${d.object}: ${d.change}`).join('; ')}${schema.length > 3 ? '; …' : ''})` };
  const tables = await listTables(o.pool);
  const known = Object.keys(inc.tables);
  if (tables.length !== known.length || tables.some((t) => !inc.tables[t])) return { fallback: `the tables are not the baseline's (now: ${tables.join(', ')})` };
  for (const table of tables) {
    const { relation } = await relationFileOf(o.pool, table);
    const then = inc.tables[table]!.relation;
    if (relation.filenode !== then.filenode || relation.database !== then.database || relation.tablespace !== then.tablespace) {
      return { fallback: `${table} is not in the baseline's files any more (rewritten since: VACUUM FULL, TRUNCATE, CLUSTER or a restore by rows)` };
    }
  }
  const extension = await o.pool.query<{ present: boolean; recovering: boolean }>(`SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_walinspect') AS present, pg_is_in_recovery() AS recovering`);
  if (!extension.rows[0]!.present) {
    if (extension.rows[0]!.recovering) return { fallback: 'pg_walinspect is not installed and the server is read-only (in recovery)' };
    try {
      await o.pool.query('CREATE EXTENSION IF NOT EXISTS pg_walinspect');
    } catch (error) {
      return { fallback: `pg_walinspect could not be installed: ${(error as Error).message}` };
    }
  }

  // One snapshot for the WAL's end and the segments: whatever it sees was written before that end.
  const client = await o.pool.connect();
  const changes = new Map<string, TableChange>();
  const figures: Record<string, TableFigures> = {};
  let scanned = { records: 0, until: '', segments: 0, newRows: 0 };
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await client.query("SET LOCAL work_mem = '64MB'; SET LOCAL jit = off");
    const until = (await client.query<{ lsn: string }>('SELECT (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_flush_lsn() END)::text AS lsn')).rows[0]!.lsn;
    let wal;
    try {
      wal = await walChangesSince(client, inc.anchor, tables.map((t) => inc.tables[t]!.relation), until);
    } catch (error) {
      return { fallback: `the WAL since the baseline's LSN ${inc.anchor.lsn} cannot be read here: ${(error as Error).message}` };
    }
    if (wal.openAtBaseline) return { fallback: `${wal.openAtBaseline} transaction(s) open at the baseline's point ended after it (their writes may predate its LSN)` };
    const maxShare = o.maxChangedShare ?? 0.25;
    const maxNewRows = o.maxNewRows ?? 200_000;
    let newRows = 0;
    let segmentCount = 0;
    for (const table of tables) {
      const segments = inc.tables[table]!;
      const blocks = wal.blocks.get(segments.relation.filenode) ?? new Set<number>();
      const indexes = [...new Set([...blocks].map((b) => Math.floor(b / segments.segmentBlocks)))];
      const total = Math.max(segments.segments.length, Math.ceil(segments.blocks / segments.segmentBlocks), 1);
      if (indexes.length > 16 && indexes.length > total * maxShare) return { fallback: `too much of ${table} changed since the baseline (${indexes.length} of ${total} segments): the full gate is cheaper` };
      const t = o.baseline.tables[table]!;
      const history = t.history;
      const now: SegmentNow[] = indexes.length ? await remeasureSegments(client, table, segments, indexes, inc.anchor.nextXid, history ? { createdAt: history.createdAt, upTo: history.upTo } : undefined) : [];
      segmentCount += indexes.length;
      const then = new Map(segments.segments.map((s) => [s.index, s]));
      if (now.some((s) => BigInt(s.oldRows) > BigInt(then.get(s.index)?.rows ?? '0'))) return { fallback: `${table} holds rows from before the baseline that it did not hold (written by a transaction open at its point)` };
      const vanished = vanishedRanges(segments, now);
      const appendOnly = Boolean(history) || Boolean(o.app?.tables[table]?.appendOnly);
      if (appendOnly && vanished.length) {
        const lost = vanished.reduce((n, v) => n + BigInt(v.lost), 0n);
        return { fallback: `${lost} row(s) of the append-only ${table} that the baseline held were deleted or rewritten since: the full gate names them` };
      }
      const inPast = now.reduce((n, s) => n + s.newInPast, 0);
      if (inPast) return { fallback: `${inPast} row(s) written to ${table} since the baseline are dated inside its history window: the full gate names them` };
      const newTids = now.flatMap((s) => s.newTids);
      newRows += newTids.length;
      if (newRows > maxNewRows) return { fallback: `more than ${maxNewRows} rows written since the baseline: the full gate is cheaper` };
      changes.set(table, { newTids, vanished, ...(segments.key ? { key: segments.key } : {}), small: BigInt(t.rows) <= BigInt(o.smallTableRows ?? 100_000) });
      figures[table] = { ...totalsNow(t, segments, now), ...(history ? { history } : {}) };
    }
    await client.query('COMMIT');
    scanned = { records: wal.records, until, segments: segmentCount, newRows };
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release();
  }

  const { checks, whole } = restrictChecks(o.full, { foreignKeys: o.foreignKeys, app: o.app, resolved: o.resolved, changes });
  const results = await runChecks(o.pool, checks, { concurrency: o.concurrency, beforeEach: o.beforeEach, onDone: o.onDone });
  const ms = () => Date.now() - started;
  const baselineChecks: CheckResult[] = [{
    id: 'schema',
    name: `Schema fingerprint equals the baseline's (columns and types, NOT NULL, UNIQUE, CHECK, foreign keys, indexes)`,
    value: `${o.baseline.schema.columns.length} columns, ${o.baseline.schema.constraints.length} constraints, ${o.baseline.schema.indexes.length} indexes`,
    expectation: `the baseline's ${o.baseline.schema.columns.length} columns, ${o.baseline.schema.constraints.length} constraints, ${o.baseline.schema.indexes.length} indexes`,
    verdict: 'pass',
    message: 'no difference',
    durationMs: ms(),
  }];
  for (const [table, t] of Object.entries(o.baseline.tables)) {
    // Every row the baseline held is still there, unchanged (the WAL would have touched its block and its
    // segment would have lost it), and nothing new is dated inside the window: the history is the baseline's.
    if (t.history) baselineChecks.push(historyCheck(table, t.history, t.history, undefined, [], ms(), label));
  }
  const lines = reconcile({ baseline: o.baseline.tables, current: figures, problems: {}, app: o.app, history: Object.fromEntries(Object.entries(o.baseline.tables).filter(([, t]) => t.history).map(([table]) => [table, { equal: true, differences: [] }])) });
  baselineChecks.push(reconciliationCheck(lines, label, ms()));
  const detail = `${scanned.records} WAL records since its LSN ${inc.anchor.lsn} (to ${scanned.until}) touched ${scanned.segments} block segment(s); ${scanned.newRows} row(s) written since were checked${whole.length ? `; checked whole: ${whole.join(', ')}` : ''}`;
  return { checks: [...results, ...baselineChecks], lines, detail };
}
