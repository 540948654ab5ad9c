import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { DatabaseDirectory } from '../database-connections';
import type { ObjectStore } from '../ports/object-store';
import { activityIdentity, invalidInput, stopIfCancelled, withHeartbeat } from '../activity-context';
import { baselineKey, loadBaseline, measureDatabase, saveBaseline, type Baseline, type TableFigures } from './baseline';
import { checkLine, type ValidationGateResult } from '../../contracts/validation';
import { builtInChecks } from './built-in-checks';
import { runChecks } from './checks';
import {
  captureBaselineInput, diffTableInput, parseInput, reconcileWithBaselineInput, repairMissingRowsInput, runValidationChecksInput,
  type CaptureBaselineInput, type DiffTableInput, type ReconcileWithBaselineInput, type RepairMissingRowsInput, type RunValidationChecksInput,
} from './inputs';
import { diffTable, type TableDiff } from './key-range-diff';
import { reconcile, type Reconciliation } from './reconcile';
import { listForeignKeys } from './schema-catalog';
import { repairFromDiffs, type RepairResult } from './selective-repair';

/** Defaults from seed 000: RPO 15 minutes, reconciliation tolerance 0.01. */
export interface ValidationSettings {
  tolerance: number;
  rpoSeconds: number;
  checkTimeoutSeconds: number;
  /** Checks in flight at once on one database (the worker's pools hold 4 connections). */
  concurrency: number;
}

export const defaultValidationSettings: ValidationSettings = { tolerance: 0.01, rpoSeconds: 900, checkTimeoutSeconds: 60, concurrency: 3 };


export interface BaselineSummary {
  baselineKey: string;
  database: string;
  backupLabel: string;
  measuredAt: string;
  tables: Record<string, TableFigures>;
}

/** A diff's counts and keys; the full key lists are in the ObjectStore under diffKey when they exceed the inline limit. */
export interface TableDiffSummary extends TableDiff {
  diffKey: string;
  /** True when the key lists here are the first `inlineKeyLimit` of each; repair reads the full diff from diffKey. */
  keysTruncated: boolean;
}

/** Keys returned inline per list: results go into workflow history, which has payload limits. */
const inlineKeyLimit = 1000;


export function createValidationActivities(databases: DatabaseDirectory, objectStore: ObjectStore, settings: Partial<ValidationSettings> = {}) {
  const config = { ...defaultValidationSettings, ...settings };

  const pool = async (field: string, name: string): Promise<Pool> => {
    try {
      return await databases.pool(name);
    } catch (error) {
      throw invalidInput(field, (error as Error).message);
    }
  };
  const baselineAt = async (field: string, key: string): Promise<Baseline> => {
    const baseline = await loadBaseline(objectStore, key);
    if (!baseline) throw invalidInput(field, `no baseline stored under "${key}" (captureBaseline returns the key)`);
    return baseline;
  };

  return {
    /** The validation gate: every built-in check, concurrently, each with its own timeout; never just "failed". */
    async runValidationChecks(rawInput: RunValidationChecksInput): Promise<ValidationGateResult> {
      const input = parseInput(runValidationChecksInput, rawInput);
      const db = await pool('database', input.database);
      const baseline = input.baselineKey ? await baselineAt('baselineKey', input.baselineKey) : undefined;
      const checkedAt = (await db.query<{ now: Date }>('SELECT now()')).rows[0]!.now.toISOString();
      const { checks, skipped } = builtInChecks({
        foreignKeys: await listForeignKeys(db),
        baseline,
        tolerance: input.tolerance ?? config.tolerance,
        userCountRange: input.userCountRange,
        incidentTime: input.incidentTime,
        rpoSeconds: input.rpoSeconds ?? config.rpoSeconds,
        timeoutMs: (input.checkTimeoutSeconds ?? config.checkTimeoutSeconds) * 1000,
      });
      const results = await withHeartbeat((beat) => runChecks(db, checks, {
        concurrency: config.concurrency,
        beforeEach: stopIfCancelled,
        onDone: (result, done) => beat({ checksDone: done, of: checks.length, last: result.name }),
      }));
      return { database: input.database, checkedAt, passed: results.every((r) => r.verdict === 'pass'), checks: results, skipped, summary: results.map(checkLine) };
    },

    /** Counts, sums per table and per account bucket, and key high-water marks, stored with the backup they describe. */
    async captureBaseline(rawInput: CaptureBaselineInput): Promise<BaselineSummary> {
      const input = parseInput(captureBaselineInput, rawInput);
      const key = baselineKey(input.database, input.backupLabel);
      const db = await pool('database', input.database);
      const figures = await withHeartbeat((beat) => measureDatabase(db, input.database, { onTable: (table) => beat({ measured: table }) }));
      await saveBaseline(objectStore, key, { formatVersion: 1, backupLabel: input.backupLabel, ...figures });
      return { baselineKey: key, database: input.database, backupLabel: input.backupLabel, measuredAt: figures.measuredAt, tables: figures.tables };
    },

    /** The seed's reconciliation report of a database against a stored baseline. */
    async reconcileWithBaseline(rawInput: ReconcileWithBaselineInput): Promise<Reconciliation> {
      const input = parseInput(reconcileWithBaselineInput, rawInput);
      const baseline = await baselineAt('baselineKey', input.baselineKey);
      const db = await pool('database', input.database);
      const current = await withHeartbeat((beat) => measureDatabase(db, input.database, {
        bucketWidth: baseline.accountBuckets?.width,
        onTable: (table) => beat({ measured: table }),
      }));
      return reconcile(current, baseline, input.tolerance ?? config.tolerance);
    },

    /** Key-range diff of one table between the recovered copy (source) and production (target). */
    async diffTable(rawInput: DiffTableInput): Promise<TableDiffSummary> {
      const input = parseInput(diffTableInput, rawInput);
      const source = await pool('source', input.source);
      const target = await pool('target', input.target);
      let diff: TableDiff;
      try {
        diff = await withHeartbeat((beat) => diffTable(source, target, {
          table: input.table,
          key: input.key,
          bisectionFactor: input.bisectionFactor,
          bisectionThreshold: input.bisectionThreshold,
          beforeRange: stopIfCancelled,
          onProgress: beat,
        }));
      } catch (error) {
        const message = (error as Error).message;
        const field = /^(table|key|bisection\w+): /.exec(message)?.[1];
        throw field ? invalidInput(field, message.slice(field.length + 2)) : error;
      }
      const identity = activityIdentity();
      const diffKey = `diffs/${input.target}/${identity ? `${identity.workflowId}/${identity.activityId}` : randomUUID()}/${diff.table.replace(/[^A-Za-z0-9_.-]/g, '_')}.json`;
      await objectStore.put(diffKey, JSON.stringify(diff) + '\n', 'application/json');
      const keysTruncated = [diff.missingInTarget, diff.extraInTarget, diff.changed].some((keys) => keys.length > inlineKeyLimit);
      return {
        ...diff,
        missingInTarget: diff.missingInTarget.slice(0, inlineKeyLimit),
        extraInTarget: diff.extraInTarget.slice(0, inlineKeyLimit),
        changed: diff.changed.slice(0, inlineKeyLimit),
        diffKey,
        keysTruncated,
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
      const diffs: TableDiff[] = [];
      for (const [i, key] of input.diffKeys.entries()) {
        const body = await objectStore.get(key);
        if (!body) throw invalidInput(`diffKeys.${i}`, `no diff stored under "${key}"`);
        diffs.push(JSON.parse(body.toString('utf8')) as TableDiff);
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
export type { Baseline, DatabaseFigures } from './baseline';
export type { Reconciliation, ReconciliationLine, ReconciliationVerdict } from './reconcile';
export type { TableDiff } from './key-range-diff';
export type { RepairResult, TableRepair } from './selective-repair';
export type { SkippedCheck, ValidationGateResult } from '../../contracts/validation';
