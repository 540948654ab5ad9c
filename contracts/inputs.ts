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
  startedBy: z.string({ error: requiredText }).trim().min(1, 'must name who starts the runbook (the two-person rule keeps them from approving it)').max(128, 'must be at most 128 characters'),
};
export const runbookInput = z.strictObject(runbookFields);
export type RunbookInput = z.output<typeof runbookInput>;

/** "database: must be …; incidentId: …" — names every failing field, for the InvalidInput failure. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(input)'}: ${issue.message}`).join('; ');
}
