import { z } from 'zod';
import { configName, describeIssues, isoInstantField } from '../../contracts/inputs';
import { invalidInput } from '../activity-context';

const isoInstant = isoInstantField('must be an ISO 8601 instant with a time zone, e.g. 2025-08-11T12:00:00Z');
const decimalString = z.string().regex(/^-?\d+(\.\d+)?$/, 'must be a decimal number as a string, e.g. "15000"');
const objectKey = z.string().min(1).max(512).refine((k) => !k.split('/').includes('..') && !k.startsWith('/'), 'must be an ObjectStore key as returned by an earlier activity');
const tolerance = z.number().min(0).max(1).describe('relative tolerance, e.g. 0.01 for 1 %');
const tableName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$/, 'must be a table name, optionally schema-qualified (schema.table)');

export const runValidationChecksInput = z.strictObject({
  database: configName,
  baselineKey: objectKey.optional(),
  incidentTime: isoInstant.optional(),
  rpoSeconds: z.number().int().positive().optional(),
  tolerance: tolerance.optional(),
  userCountRange: z.strictObject({ min: decimalString.optional(), max: decimalString.optional() }).optional(),
  checkTimeoutSeconds: z.number().positive().max(3600).optional(),
});
export type RunValidationChecksInput = z.input<typeof runValidationChecksInput>;

export const captureBaselineInput = z.strictObject({
  database: configName,
  backupLabel: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, "must be the backup's label (letters, digits, '.', '_', ':' or '-')"),
});
export type CaptureBaselineInput = z.input<typeof captureBaselineInput>;

export const reconcileWithBaselineInput = z.strictObject({
  database: configName,
  baselineKey: objectKey,
  tolerance: tolerance.optional(),
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
