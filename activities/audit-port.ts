/**
 * The audit trail as the runbook sees it (issue 3, item 9): an append-only, hash-chained table in
 * PostgreSQL, written by `createAuditActivities(pool)`. Appends are idempotent on (workflowId, seq), so a
 * retried activity or a replayed flush writes nothing twice.
 */
export interface AuditEntry {
  seq: number;
  /** ISO 8601, workflow time. */
  at: string;
  actor: string;
  action: string;
  detail: Record<string, unknown>;
}

export interface AuditActivities {
  appendAuditEntries(input: { workflowId: string; entries: AuditEntry[] }): Promise<void>;
}
