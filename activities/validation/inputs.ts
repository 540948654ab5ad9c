import { z } from 'zod';
import { configName, describeIssues, isoInstantField } from '../../contracts/inputs';
import { invalidInput } from '../activity-context';

const isoInstant = isoInstantField('must be an ISO 8601 instant with a time zone, e.g. 2025-08-11T12:00:00Z');
const objectKey = z.string().min(1).max(512).refine((k) => !k.split('/').includes('..') && !k.startsWith('/'), 'must be an ObjectStore key as returned by an earlier activity');
const trueOrFalse = () => z.boolean({ error: 'must be true or false' });
const tableName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$/, 'must be a table name, optionally schema-qualified (schema.table)');

export const runValidationChecksInput = z.strictObject({
  database: configName,
  /** The baseline to compare with (findValidationBaseline finds the last known good one). */
  baselineKey: objectKey.optional(),
  /** Why there is no baseline, in words, for the report; said for the gate when baselineKey is absent. */
  noBaseline: z.string().max(1000).optional(),
  incidentTime: isoInstant.optional(),
  rpoSeconds: z.number({ error: 'must be a number of seconds' }).int('must be a whole number of seconds').positive('must be more than 0 seconds').optional(),
  checkTimeoutSeconds: z.number({ error: 'must be a number of seconds' }).positive('must be more than 0 seconds').max(3600, 'must be at most 3600 seconds (an hour)').optional(),
  /** Judge the newest rows against the RPO (default true; a backup's own copy is not judged by it). */
  recency: trueOrFalse().optional(),
  /**
   * No row may be dated after this, beyond the clock skew: the incident (default: a restore holds nothing
   * later), or now (data rolled back in place keeps what was written after the incident).
   */
  notDatedAfter: z.enum(['incident', 'now'], { error: 'must be "incident" or "now"' }).optional(),
  /**
   * With a baseline that carries segment totals: check only what the WAL says changed since its LSN
   * (default true); false runs the full gate whatever the baseline.
   */
  incremental: trueOrFalse().optional(),
});
export type RunValidationChecksInput = z.input<typeof runValidationChecksInput>;

const backupLabel = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, "must be the backup's label (letters, digits, '.', '_', ':' or '-')");
/** The backup a baseline describes, as the platform reported it (a pgBackRest backup set, an RDS snapshot). */
const backupFacts = z.object({
  label: backupLabel,
  type: z.string().max(16).optional(),
  startedAt: isoInstant,
  stoppedAt: isoInstant,
  lsnStart: z.string().max(32).optional(),
  lsnStop: z.string().max(32).optional(),
}).transform(({ label, type, startedAt, stoppedAt, lsnStart, lsnStop }) => ({ label, ...(type ? { type } : {}), startedAt, stoppedAt, ...(lsnStart ? { lsnStart } : {}), ...(lsnStop ? { lsnStop } : {}) }));

export const captureBaselineInput = z.strictObject({
  /** Where the figures are read: the backup restored to its consistent point. */
  database: configName,
  /** The database the backup is of (default: `database`); baselines are kept under its name. */
  source: configName.optional(),
  backup: backupFacts,
});
export type CaptureBaselineInput = z.input<typeof captureBaselineInput>;

export const recordBaselineVerdictInput = z.strictObject({
  database: configName,
  backup: backupFacts,
  baselineKey: objectKey.optional(),
  verification: z.strictObject({ ok: z.boolean(), report: z.string() }),
  checks: z.strictObject({ passed: z.boolean(), failed: z.array(z.string()) }).optional(),
  /** Why it is not good (cut to 2000 characters: an error's whole text is welcome). */
  reason: z.string().optional(),
  /** Where the restore test stopped, when it did not get to the checks. */
  failedAt: z.enum(['verify', 'restore', 'measure'], { error: 'must be "verify", "restore" or "measure"' }).optional(),
  /** How long restoring the backup into its copy took (the restore test's restore time). */
  restoreSeconds: z.number().min(0).optional(),
});
export type RecordBaselineVerdictInput = z.input<typeof recordBaselineVerdictInput>;

export const findValidationBaselineInput = z.strictObject({
  database: configName,
  /** The recovery target: the baseline's backup must have ended at or before it. */
  at: isoInstant,
});
export type FindValidationBaselineInput = z.input<typeof findValidationBaselineInput>;

export const reconcileWithBaselineInput = z.strictObject({
  database: configName,
  baselineKey: objectKey,
});
export type ReconcileWithBaselineInput = z.input<typeof reconcileWithBaselineInput>;

export const diffTableInput = z.strictObject({
  /** The recovered copy. */
  source: configName,
  /** Production. */
  target: configName,
  table: tableName,
  key: z.string().regex(/^[A-Za-z_][A-Za-z0-9_$]*$/, 'must be a column name').optional(),
  bisectionFactor: z.number().int().min(2).max(1024).optional(),
  bisectionThreshold: z.number().int().min(1).max(1_000_000).optional(),
});
export type DiffTableInput = z.input<typeof diffTableInput>;

export const repairMissingRowsInput = z.strictObject({
  source: configName,
  target: configName,
  /** diffKey of each diffTable result, one per table. */
  diffKeys: z.array(objectKey).min(1, 'must name at least one diff (the diffKey diffTable returned)'),
  dryRun: z.boolean(),
  overwriteChanged: z.boolean().optional(),
  batchSize: z.number().int().min(1).max(10_000).optional(),
});
export type RepairMissingRowsInput = z.input<typeof repairMissingRowsInput>;

/** Parses an activity input; a bad one fails non-retryably with every wrong field named, before any side effect. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const message = describeIssues(parsed.error);
    const [field, ...rest] = message.split(': ');
    throw invalidInput(field ?? '(input)', rest.join(': '));
  }
  return parsed.data;
}
