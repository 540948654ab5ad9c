/**
 * The audit trail as the runbook sees it (issue 3, item 9): an append-only, hash-chained table in
 * PostgreSQL, written by `createAuditActivities(pool)`. Appends are idempotent on (workflowId, seq), so a
 * retried activity or a replayed flush writes nothing twice. The runner needs only the append.
 */
import type { createAuditActivities } from './audit';

export type { AuditEntry } from './audit';
export type AuditActivities = Pick<ReturnType<typeof createAuditActivities>, 'appendAuditEntries'>;
