import { z } from 'zod';

/** Names are references into the worker's config, never connection strings or secrets. */
export const configName = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'must be a config name: lowercase letters, digits and dashes, starting with a letter');

/**
 * A moment in time, with its zone: "2026-11-23T03:12:00Z". The one rule for instants on both sides; an
 * activity may say it in its own words (`message`), the rule stays the same.
 */
export function isoInstantField(message = 'must be an ISO 8601 time with a zone, e.g. 2026-11-23T03:12:00Z') {
  return z.iso.datetime({ offset: true, error: message });
}
export const isoInstant = isoInstantField();

function requiredText(issue: { input?: unknown }): string {
  return issue.input === undefined ? 'is required' : 'must be text';
}

/**
 * The fields every runbook takes. A scenario's schema is `z.strictObject({ ...runbookFields, ...its own })`,
 * shared with the CLI. Identities are names (as listed in the approvers config), never credentials.
 */
export const runbookFields = {
  incidentId: z.string({ error: requiredText }).regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/, 'must be an incident id: up to 64 letters, digits, ".", "_", ":" or "-", e.g. INC-2041').describe('the incident this runbook answers'),
  environment: configName.default('local').describe('the environment, by its name in the worker config'),
  mode: z.enum(['real', 'drill'], { error: 'must be "real" or "drill" (a drill never touches production)' }).default('real'),
  declaredAt: isoInstant.optional().describe('when the incident was declared; the RTO clock starts here (default: the runbook start)'),
  startedBy: z.string({ error: requiredText }).trim().min(1, 'must name who starts the runbook (the two-person rule keeps them from approving it)').max(128, 'must be at most 128 characters')
    .refine((name) => !/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/.test(name), 'must not contain control characters (line breaks, tabs, bidi controls)'),
};
export const runbookInput = z.strictObject(runbookFields);
export type RunbookInput = z.output<typeof runbookInput>;

/** The top-level fields of an input schema, through its defaults, refinements and transforms (for messages). */
export function inputFields(schema: z.ZodType): string[] {
  let current: unknown = schema;
  for (let depth = 0; depth < 8 && current; depth++) {
    const def = (current as { _zod?: { def?: Record<string, unknown> } })._zod?.def;
    if (!def) return [];
    if (def.shape && typeof def.shape === 'object') return Object.keys(def.shape);
    current = def.in ?? def.innerType ?? def.schema;
  }
  return [];
}

/** Edit distance, to suggest the field a person meant ("replcia" → "replica"). */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** "replcia: is not a field of this input (did you mean replica?)": an unknown field, named. */
export function unknownFieldProblem(key: string, fields: readonly string[], nameOf: (field: string) => string = (f) => f): string {
  const shown = key.length > 64 ? `${key.slice(0, 64)}…` : key;
  const near = fields.filter((f) => distance(key, f) <= Math.max(2, Math.floor(f.length / 3))).sort((a, b) => distance(key, a) - distance(key, b))[0];
  return `${JSON.stringify(shown)}: is not a field of this input${near ? ` (did you mean ${nameOf(near)}?)` : fields.length ? ` (its fields: ${fields.join(', ')})` : ''}`;
}

/** "database: must be …; incidentId: …" — names every failing field (an unknown one too), for the InvalidInput failure. */
export function describeIssues(error: z.ZodError, fields: readonly string[] = []): string {
  return error.issues
    .flatMap((issue) => (issue.code === 'unrecognized_keys' && issue.path.length === 0 ? issue.keys.map((key) => unknownFieldProblem(key, fields)) : [`${issue.path.join('.') || '(input)'}: ${issue.message}`]))
    .join('; ');
}
