import { z } from 'zod';

/** Names are references into the worker's config, never connection strings or secrets. */
const configName = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'must be a config name: lowercase letters, digits and dashes, starting with a letter');

export const assessDatabaseHealthInput = z.strictObject({
  database: configName.describe('the database to assess, by its name in the worker config'),
  environment: configName.default('local'),
  incidentId: z.string().min(1).max(64).optional(),
});
export type AssessDatabaseHealthInput = z.input<typeof assessDatabaseHealthInput>;

/** "database: must be …; incidentId: …" — names every failing field, for the InvalidInput failure. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(input)'}: ${issue.message}`).join('; ');
}
