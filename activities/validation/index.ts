import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import type { DatabaseDirectory } from '../database-connections';
import type { ObjectStore } from '../ports/object-store';
import { activityIdentity, invalidInput, stopIfCancelled, withHeartbeat } from '../activity-context';
import { checkLine, gatePasses, pathLine, type BaselineRef, type CheckResult, type ReconciliationLine, type ValidationGateResult, type ValidationPath } from '../../contracts/validation';
import { baselineKey, findLastGoodBaseline, loadBaseline, loadVerdictOf, saveBaseline, saveVerdict, type Baseline, type BaselineLookup, type BaselineVerdict, type RestoreTestResult } from './baseline';
import { captureIncrementalBaseline } from './incremental-baseline';
import { runIncrementalGate } from './incremental-gate';
import { builtInChecks, resolveDeclaration } from './built-in-checks';
import { defaultAggregateMemoryMB, validateAggregateMemoryMB } from './gate-session';
import { runGateReads } from './gate-in-snapshot';
import { clockSkewSeconds, longestTransactionSeconds, type ApplicationDeclaration } from './declaration';
import { compareHistory, historyCheck, nameRows } from './history';
import {
  captureBaselineInput, diffTableInput, findValidationBaselineInput, parseInput, recordBaselineVerdictInput, reconcileWithBaselineInput, repairMissingRowsInput, runValidationChecksInput,
  type CaptureBaselineInput, type DiffTableInput, type FindValidationBaselineInput, type RecordBaselineVerdictInput, type ReconcileWithBaselineInput, type RepairMissingRowsInput, type RunValidationChecksInput,
} from './inputs';
import { DiffPartWriter, openStoredDiff, type StoredDiff } from './diff-parts';
import { streamTableDiff, type DiffTotals, type TableDiff } from './key-range-diff';
import { measureDatabase, measureInTransaction, planFromDeclaration, type TablePlan } from './measure';
import { reconcile, reconciliationCheck, worstOf, type ReconciliationVerdict } from './reconcile';
import { describeTable, listForeignKeys, listTables } from './schema-catalog';
import { diffSchema } from './schema-fingerprint';
import { withSharedSnapshot } from './shared-snapshot';
import { repairFromDiffs, type RepairResult } from './selective-repair';

/** Defaults from seed 000: RPO 15 minutes. */
export interface ValidationSettings {
  rpoSeconds: number;
  /** Each check's statement (and each table's measurement) may run this long. */
  checkTimeoutSeconds: number;
  /** Checks in flight at once on one database, beside the measurement (the worker's pools hold 4 connections). */
  concurrency: number;
  /** What the application declares about its schema (the worker config's `application:`). */
  application?: ApplicationDeclaration;
  /** Told every restore test's result once its verdict is stored (the monitoring's backup-validation hook). */
  recordBackupValidation?: (database: string, result: RestoreTestResult) => void;
  /** Keys per part of a stored diff: what a diff or a repair holds of one list at a time. */
  diffPartKeys: number;
  /** The incremental gate checks a table of at most this many rows (at the baseline) whole. */
  incrementalSmallTableRows: number;
  /** Memory, in MB, each of the full gate's aggregates may hold before it spills to disk (gate-session.ts). */
  aggregateMemoryMB: number;
}

export const defaultValidationSettings: ValidationSettings = { rpoSeconds: 900, checkTimeoutSeconds: 300, concurrency: 3, diffPartKeys: 10_000, incrementalSmallTableRows: 100_000, aggregateMemoryMB: defaultAggregateMemoryMB };

/** What a baseline holds, small enough for workflow history (the ranges stay in the object store). */
export interface BaselineSummary {
  baselineKey: string;
  database: string;
  measuredOn: string;
  backupLabel: string;
  consistentAt: string;
  historyUpTo: string;
  tables: Record<string, { rows: string; money: Record<string, string>; historyRows?: string }>;
  schemaObjects: number;
}

export interface Reconciliation {
  baseline: BaselineRef;
  verdict: ReconciliationVerdict;
  lines: ReconciliationLine[];
  /** The lines as text, one per line, for the incident report. */
  report: string;
  checks: CheckResult[];
}

/**
 * A diff's counts and first keys; the whole lists are in the ObjectStore, in parts named by the
 * manifest under diffKey. Results go into workflow history, so they never carry a whole list.
 */
export interface TableDiffSummary extends Omit<DiffTotals, 'counts'>, Pick<TableDiff, 'missingInTarget' | 'extraInTarget' | 'changed'> {
  diffKey: string;
  /** True when a key list here is only the first `inlineKeyLimit` keys of its list; repair reads the whole diff from diffKey. */
  keysTruncated: boolean;
  /** Whole counts. Absent from results recorded before diffs streamed, whose lists were inline up to 1000 keys. */
  missingCount?: number;
  extraCount?: number;
  changedCount?: number;
}

/** Keys returned inline per list: enough to read in a report. */
const inlineKeyLimit = 20;
/** A verification report kept with a verdict: enough to read, not a whole log. */
const verificationReportLimit = 4000;

const refOf = (key: string, b: Baseline): BaselineRef => ({ key, database: b.database, backupLabel: b.backup.label, consistentAt: b.consistentAt, historyUpTo: b.historyUpTo });
/** The reconciliation lines a person must look at before approving, each with why. */
const reviewLines = (lines: readonly ReconciliationLine[]) => lines.filter((l) => l.verdict === 'review').map((l) => (l.detail ? `${l.line} — ${l.detail}` : l.line));
const shiftSeconds = (iso: string, seconds: number) => new Date(Date.parse(iso) - seconds * 1000).toISOString();

export function createValidationActivities(databases: DatabaseDirectory, objectStore: ObjectStore, settings: Partial<ValidationSettings> = {}) {
  const config = { ...defaultValidationSettings, ...settings };
  validateAggregateMemoryMB(config.aggregateMemoryMB);
  const app = config.application;

  const pool = async (field: string, name: string): Promise<Pool> => {
    try {
      return await databases.pool(name);
    } catch (error) {
      throw invalidInput(field, (error as Error).message);
    }
  };
  const baselineAt = async (field: string, key: string): Promise<Baseline> => {
    let baseline: Baseline | undefined;
    try {
      baseline = await loadBaseline(objectStore, key);
    } catch (error) {
      throw invalidInput(field, (error as Error).message);
    }
    if (!baseline) throw invalidInput(field, `no baseline stored under "${key}" (captureBaseline returns the key)`);
    return baseline;
  };

  /**
   * Measures `db` as the baseline was measured (its tables, its key ranges, its history window) and
   * compares: the schema fingerprint, each append-only table's history, and every table's figures.
   */
  async function compareWithBaseline(db: PoolClient, key: string, baseline: Baseline, timeoutMs: number, beat: (details: unknown) => void): Promise<Reconciliation & { schemaAdditions: string[] }> {
    const started = Date.now();
    const known = new Set(Object.keys(baseline.tables));
    const plans: TablePlan[] = Object.entries(baseline.tables).map(([table, t]) => ({
      table,
      money: Object.keys(t.money),
      ...(t.history ? { history: { key: t.history.key, createdAt: t.history.createdAt, columns: t.history.columns, money: t.history.money, upTo: t.history.upTo, base: t.history.base, width: t.history.width, ...(t.history.rowHash ? { rowHash: t.history.rowHash } : {}) } } : {}),
    }));
    for (const table of await listTables(db)) {
      if (!known.has(table)) plans.push({ table, money: (await describeTable(db, table)).columns.filter((c) => c.type.startsWith('numeric')).map((c) => c.name) });
    }
    const current = await measureInTransaction(db, plans, { statementTimeoutMs: timeoutMs, aggregateMemoryMB: config.aggregateMemoryMB, onTable: (table) => beat({ measured: table }) });
    const checks: CheckResult[] = [];

    const differences = diffSchema(baseline.schema, current.schema);
    const weakened = differences.filter((d) => d.kind === 'weakened');
    const additions = differences.filter((d) => d.kind === 'added').map((d) => `${d.object}: ${d.change}`);
    checks.push({
      id: 'schema',
      name: `Schema fingerprint equals the baseline's (columns and types, NOT NULL, UNIQUE, CHECK, foreign keys, indexes)`,
      value: `${current.schema.columns.length} columns, ${current.schema.constraints.length} constraints, ${current.schema.indexes.length} indexes`,
      expectation: `the baseline's ${baseline.schema.columns.length} columns, ${baseline.schema.constraints.length} constraints, ${baseline.schema.indexes.length} indexes`,
      verdict: weakened.length ? 'fail' : additions.length ? 'review' : 'pass',
      message: weakened.length ? weakened.map((d) => `${d.object}: ${d.change}`).join('; ') : additions.length ? `added since the baseline: ${additions.join('; ')}` : 'no difference',
      ...(weakened.length ? { sample: weakened.slice(0, 5).map((d) => ({ object: d.object, change: d.change })) } : {}),
      durationMs: Date.now() - started,
    });

    const history: Record<string, ReturnType<typeof compareHistory>> = {};
    for (const [table, t] of Object.entries(baseline.tables)) {
      if (!t.history) continue;
      const now = current.tables[table]?.history;
      const comparison = now ? compareHistory(t.history, now) : undefined;
      if (comparison) history[table] = comparison;
      const named = comparison && !comparison.equal ? await nameRows(db, table, t.history, comparison.differences) : [];
      checks.push(historyCheck(table, t.history, now, current.problems[table], named, Date.now() - started, baseline.backup.label));
    }
    const lines = reconcile({ baseline: baseline.tables, current: current.tables, problems: current.problems, app, history });
    checks.push(reconciliationCheck(lines, baseline.backup.label, Date.now() - started));
    return { baseline: refOf(key, baseline), verdict: worstOf(lines), lines, report: lines.map((l) => l.line).join('\n'), checks, schemaAdditions: additions };
  }

  return {
    /**
     * The validation gate: every built-in check, concurrently, each with its own timeout; with a baseline
     * also the schema fingerprint, the history of every append-only table and the reconciliation of every
     * table, measured in one snapshot beside them. Never just "failed": each check says what it found.
     */
    async runValidationChecks(rawInput: RunValidationChecksInput): Promise<ValidationGateResult> {
      const input = parseInput(runValidationChecksInput, rawInput);
      const db = await pool('database', input.database);
      const baseline = input.baselineKey ? await baselineAt('baselineKey', input.baselineKey) : undefined;
      const timeoutMs = (input.checkTimeoutSeconds ?? config.checkTimeoutSeconds) * 1000;
      const checkedAt = (await db.query<{ now: Date }>('SELECT now()')).rows[0]!.now.toISOString();
      const foreignKeys = await listForeignKeys(db);
      const resolved = await resolveDeclaration(db, app);
      const { checks, skipped } = builtInChecks({
        foreignKeys,
        app,
        resolved,
        incidentTime: input.incidentTime,
        rpoSeconds: input.rpoSeconds ?? config.rpoSeconds,
        clockSkewSeconds: clockSkewSeconds(app),
        recency: input.recency ?? true,
        notDatedAfter: input.notDatedAfter ?? 'incident',
        timeoutMs,
      });
      const noBaseline = baseline ? undefined : (input.noBaseline ?? 'no baseline was given to the gate (baselineKey)');
      const incremental = await (async (): Promise<ValidationPath | ValidationGateResult> => {
        if (!baseline) return { kind: 'full', detail: 'no baseline to check against' };
        if (input.incremental === false) return { kind: 'full', detail: 'asked for (incremental: false)' };
        if (!baseline.incremental) return { kind: 'full', detail: `the baseline of backup ${baseline.backup.label} has no segment totals (taken before incremental validation, or not on a restored backup)` };
        const verdict = await loadVerdictOf(objectStore, baseline);
        if (!verdict?.good) return { kind: 'full', detail: `the backup ${baseline.backup.label} has no good verdict, so its baseline is not a known good state to build on` };
        const outcome = await withHeartbeat((beat) => runIncrementalGate({
          pool: db, baseline, full: checks, foreignKeys, app, resolved: resolved.tables, concurrency: config.concurrency, smallTableRows: config.incrementalSmallTableRows,
          beforeEach: stopIfCancelled, onDone: (result, done) => beat({ checksDone: done, last: result.name }),
        }));
        if ('fallback' in outcome) return { kind: 'full', detail: `fell back: ${outcome.fallback}` };
        const path: ValidationPath = { kind: 'incremental', detail: outcome.detail };
        const review = reviewLines(outcome.lines);
        return {
          database: input.database, checkedAt, passed: gatePasses(outcome.checks), checks: outcome.checks, skipped,
          summary: [pathLine(path), ...outcome.checks.map(checkLine)], baseline: refOf(input.baselineKey!, baseline), reconciliation: outcome.lines, review, path,
        };
      })();
      if ('checks' in incremental) return incremental;
      if (noBaseline) skipped.push({ id: 'reconciliation', name: 'History, schema fingerprint and reconciliation against the baseline', reason: noBaseline });
      const { results, comparison } = await withHeartbeat((beat) => runGateReads(
        db,
        checks,
        { concurrency: config.concurrency, aggregateMemoryMB: config.aggregateMemoryMB, beforeEach: stopIfCancelled, onDone: (result, done) => beat({ checksDone: done, of: checks.length, last: result.name }) },
        baseline ? (client) => compareWithBaseline(client, input.baselineKey!, baseline, timeoutMs, beat) : undefined,
      ));
      const all = [...results, ...(comparison?.checks ?? [])];
      const review = [
        ...(noBaseline ? [`No baseline: ${noBaseline}; history, schema and totals were not compared with a known good state`] : []),
        ...(comparison ? reviewLines(comparison.lines) : []),
        ...(comparison?.schemaAdditions.map((a) => `Schema added since the baseline: ${a} ⚠️ REVIEW`) ?? []),
      ];
      return {
        database: input.database,
        checkedAt,
        passed: gatePasses(all),
        checks: all,
        skipped,
        summary: [pathLine(incremental), ...all.map(checkLine)],
        ...(comparison ? { baseline: comparison.baseline, reconciliation: comparison.lines } : { noBaseline }),
        review,
        path: incremental,
      };
    },

    /**
     * A backup's baseline, read from the backup restored to its consistent point (`database` is that
     * copy): per table its rows and money, the history of append-only tables in key ranges, the schema.
     * Stored under baselines/<source>/<label>.json; a retry overwrites the same object.
     */
    async captureBaseline(rawInput: CaptureBaselineInput): Promise<BaselineSummary> {
      const input = parseInput(captureBaselineInput, rawInput);
      const source = input.source ?? input.database;
      const db = await pool('database', input.database);
      const key = (() => {
        try {
          return baselineKey(source, input.backup.label);
        } catch (error) {
          throw invalidInput('backup.label', (error as Error).message.replace(/^backupLabel: /, ''));
        }
      })();
      // The newest commit the restore replayed is at the backup's consistent point or before it; a copy
      // that replayed none is consistent as of the backup's start at the earliest.
      const replayed = (await db.query<{ at: Date | null }>('SELECT pg_last_xact_replay_timestamp() AS at')).rows[0]!.at;
      const consistentAt = replayed && replayed.getTime() > Date.parse(input.backup.startedAt) ? replayed.toISOString() : new Date(input.backup.startedAt).toISOString();
      const skew = clockSkewSeconds(app);
      const longest = longestTransactionSeconds(app);
      const historyUpTo = shiftSeconds(consistentAt, skew + longest);
      const { plans, problems } = await planFromDeclaration(db, app, historyUpTo);
      const declared = Object.entries(problems);
      if (declared.length) throw invalidInput('application', `the declaration does not match ${input.database}: ${declared.map(([t, p]) => `${t}: ${p}`).join('; ')}`);
      const measured = await withHeartbeat((beat) => measureDatabase(db, plans, { statementTimeoutMs: config.checkTimeoutSeconds * 1000, aggregateMemoryMB: config.aggregateMemoryMB, onTable: (table) => beat({ measured: table }) }));
      const failed = Object.entries(measured.problems);
      if (failed.length) throw new Error(`could not measure ${input.database}: ${failed.map(([t, p]) => `${t}: ${p}`).join('; ')}`);
      const baseline: Baseline = {
        formatVersion: 3,
        database: source,
        measuredOn: input.database,
        backup: input.backup,
        consistentAt,
        historyUpTo,
        settings: { clockSkewSeconds: skew, longestTransactionSeconds: longest },
        schema: measured.schema,
        tables: measured.tables,
        measuredAt: measured.snapshotAt,
      };
      const incremental = await withHeartbeat((beat) => captureIncrementalBaseline(db, app, measured.tables, (table) => beat({ segments: table })));
      if (incremental) baseline.incremental = incremental;
      await saveBaseline(objectStore, key, baseline);
      return {
        baselineKey: key,
        database: source,
        measuredOn: input.database,
        backupLabel: input.backup.label,
        consistentAt,
        historyUpTo,
        tables: Object.fromEntries(Object.entries(measured.tables).map(([t, f]) => [t, { rows: f.rows, money: Object.fromEntries(Object.entries(f.money).map(([c, m]) => [c, m.sum])), ...(f.history ? { historyRows: f.history.rows } : {}) }])),
        schemaObjects: measured.schema.columns.length + measured.schema.constraints.length + measured.schema.indexes.length,
      };
    },

    /** Stores whether a backup and its baseline are good (verified, restored, consistent): the runbooks use only good ones. */
    async recordBaselineVerdict(rawInput: RecordBaselineVerdictInput): Promise<{ verdictKey: string; good: boolean; reason?: string; restoreTest: RestoreTestResult }> {
      const input = parseInput(recordBaselineVerdictInput, rawInput);
      const baseline = input.baselineKey ? await baselineAt('baselineKey', input.baselineKey) : undefined;
      const reasons = [
        ...(input.verification.ok ? [] : ['the backup did not verify']),
        ...(baseline ? [] : ['no baseline was taken']),
        ...(input.checks && !input.checks.passed ? [`its restored copy failed ${input.checks.failed.length} check(s): ${input.checks.failed.join('; ')}`] : []),
        ...(input.reason ? [input.reason.slice(0, 2000)] : []),
      ];
      const identity = activityIdentity();
      const checksFailed = input.checks !== undefined && !input.checks.passed;
      const failedAt = reasons.length === 0 ? undefined : (input.failedAt ?? (!input.verification.ok ? 'verify' : checksFailed ? 'checks' : 'measure'));
      const restoreTest: RestoreTestResult = {
        backupLabel: input.backup.label,
        passed: reasons.length === 0,
        ...(failedAt ? { failedAt } : {}),
        ...(input.restoreSeconds !== undefined ? { restoreSeconds: input.restoreSeconds } : {}),
        failedChecks: input.checks?.failed ?? [],
      };
      const verdict: BaselineVerdict = {
        formatVersion: 1,
        database: input.database,
        backupLabel: input.backup.label,
        ...(input.baselineKey ? { baselineKey: input.baselineKey } : {}),
        backup: input.backup,
        ...(baseline ? { consistentAt: baseline.consistentAt, historyUpTo: baseline.historyUpTo } : {}),
        verification: { ok: input.verification.ok, report: input.verification.report.slice(0, verificationReportLimit) },
        ...(input.checks ? { checks: input.checks } : {}),
        good: reasons.length === 0,
        ...(reasons.length ? { reason: reasons.join('; ') } : {}),
        restoreTest,
        recordedAt: new Date().toISOString(),
        ...(identity ? { workflowId: identity.workflowId } : {}),
      };
      let key: string;
      try {
        key = await saveVerdict(objectStore, verdict);
      } catch (error) {
        throw invalidInput('backup.label', (error as Error).message);
      }
      // The backup_validation_success metric, where the worker has monitoring: stored first, reported second.
      config.recordBackupValidation?.(input.database, restoreTest);
      return { verdictKey: key, good: verdict.good, ...(verdict.reason ? { reason: verdict.reason } : {}), restoreTest };
    },

    /** The last known good baseline of a database from a backup that ended at or before `at`, or why there is none. */
    async findValidationBaseline(rawInput: FindValidationBaselineInput): Promise<BaselineLookup> {
      const input = parseInput(findValidationBaselineInput, rawInput);
      return findLastGoodBaseline(objectStore, input.database, input.at);
    },

    /** The seed's reconciliation report of a database against a stored baseline (the gate's own lines). */
    async reconcileWithBaseline(rawInput: ReconcileWithBaselineInput): Promise<Reconciliation> {
      const input = parseInput(reconcileWithBaselineInput, rawInput);
      const baseline = await baselineAt('baselineKey', input.baselineKey);
      const db = await pool('database', input.database);
      const { schemaAdditions: _, ...result } = await withHeartbeat((beat) => withSharedSnapshot(db, ({ client }) => compareWithBaseline(client, input.baselineKey, baseline, config.checkTimeoutSeconds * 1000, beat)));
      return result;
    },

    /** Key-range diff of one table between the recovered copy (source) and production (target). */
    async diffTable(rawInput: DiffTableInput): Promise<TableDiffSummary> {
      const input = parseInput(diffTableInput, rawInput);
      const source = await pool('source', input.source);
      const target = await pool('target', input.target);
      // Named from the workflow and the step: a retry rewrites the same parts, and its manifest, written last, replaces the earlier one.
      const identity = activityIdentity();
      const prefix = `diffs/${input.target}/${identity ? `${identity.workflowId}/${identity.activityId}` : randomUUID()}/${input.table.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
      const writer = new DiffPartWriter(objectStore, prefix, config.diffPartKeys, inlineKeyLimit);
      let totals: DiffTotals;
      try {
        totals = await withHeartbeat((beat) => streamTableDiff(source, target, {
          table: input.table,
          key: input.key,
          bisectionFactor: input.bisectionFactor,
          bisectionThreshold: input.bisectionThreshold,
          beforeRange: stopIfCancelled,
          onProgress: beat,
        }, writer));
      } catch (error) {
        const message = (error as Error).message;
        const field = /^(table|key|bisection\w+): /.exec(message)?.[1];
        throw field ? invalidInput(field, message.slice(field.length + 2)) : error;
      }
      const { manifestKey, manifest } = await writer.finish(totals);
      const { counts, ...rest } = totals;
      return {
        ...rest,
        missingInTarget: manifest.first.missingInTarget,
        extraInTarget: manifest.first.extraInTarget,
        changed: manifest.first.changed,
        missingCount: counts.missingInTarget,
        extraCount: counts.extraInTarget,
        changedCount: counts.changed,
        diffKey: manifestKey,
        keysTruncated: Object.values(counts).some((n) => n > inlineKeyLimit),
      };
    },

    /**
     * Copies back the rows the diffs found missing in production, parents first, one transaction per table.
     * Run with dryRun: true first (per-table counts, writes nothing), then for real after approval.
     */
    async repairMissingRows(rawInput: RepairMissingRowsInput): Promise<RepairResult> {
      const input = parseInput(repairMissingRowsInput, rawInput);
      const source = await pool('source', input.source);
      const target = await pool('target', input.target);
      if (input.source === input.target) throw invalidInput('target', 'must differ from source (repair copies from the recovered copy into production)');
      const diffs: StoredDiff[] = [];
      for (const [i, key] of input.diffKeys.entries()) {
        let diff: StoredDiff | undefined;
        try {
          diff = await openStoredDiff(objectStore, key);
        } catch (error) {
          throw invalidInput(`diffKeys.${i}`, (error as Error).message);
        }
        if (!diff) throw invalidInput(`diffKeys.${i}`, `no diff stored under "${key}"`);
        diffs.push(diff);
      }
      return withHeartbeat((beat) => repairFromDiffs(source, target, diffs, {
        dryRun: input.dryRun,
        overwriteChanged: input.overwriteChanged,
        batchSize: input.batchSize,
        beforeBatch: stopIfCancelled,
        onProgress: beat,
      }));
    },
  };
}

export type ValidationActivities = ReturnType<typeof createValidationActivities>;
export type { CheckResult, Verdict, Expectation, CheckDefinition } from './checks';
export type { Baseline, BaselineLookup, BaselineVerdict, RestoreTestResult } from './baseline';
export type { ReconciliationLine, ReconciliationVerdict } from './reconcile';
export type { ApplicationDeclaration, ApplicationDeclarationInput } from './declaration';
export type { TableDiff } from './key-range-diff';
export type { RepairResult, TableRepair } from './selective-repair';
export type { SkippedCheck, ValidationGateResult } from '../../contracts/validation';
