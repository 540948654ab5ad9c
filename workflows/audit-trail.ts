import { ApplicationFailure, CancellationScope, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { AuditActivities, AuditEntry } from '../activities/audit-port';
import { errorText } from '../contracts/error-text';
import { FailureType } from '../contracts/failure-types';

const { appendAuditEntries } = proxyActivities<AuditActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
  summary: 'append to the audit trail',
});

// The same append run by the worker inside the workflow task that asks for it (runs since the
// local-bookkeeping patch): the batch is in the trail before that task's commands (a production step)
// reach the server, without a round trip through the activity queue and a second workflow task.
const { appendAuditEntries: appendAuditEntriesLocally } = proxyLocalActivities<AuditActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
  summary: 'append to the audit trail',
});

/**
 * The runbook's audit trail as the workflow keeps it: every entry is numbered (seq 1, 2, 3, …) and kept
 * in workflow state the moment it happens, and written to the trail in batches. Where a batch is written
 * is the runbook's choice (runbook.ts): before a gate opens, before production is changed, at the end.
 *
 * What a crash between two writes means: nothing is lost. The entries are workflow state, rebuilt
 * exactly on replay, and the next write sends every entry not yet acknowledged; appends are idempotent on
 * (workflowId, seq), so a batch written twice (a retry, a replay) is stored once. Only a run that is
 * terminated (not cancelled) between writes ends without its last entries in the trail.
 */
export class AuditTrail {
  private readonly pending: AuditEntry[] = [];
  private nextSeq = 1;
  private writing: Promise<void> = Promise.resolve();
  private failure?: string;

  constructor(
    private readonly workflowId: string,
    /** Called just before a batch is scheduled (the runbook flushes its search attributes there). */
    private readonly beforeWrite: () => void = () => undefined,
    /** Batches are appended by a local activity (runs since the local-bookkeeping patch). */
    private readonly local = false,
  ) {}

  record(actor: string, action: string, detail: Record<string, unknown>): void {
    this.pending.push({ seq: this.nextSeq++, at: new Date().toISOString(), actor, action, detail });
  }

  /** Why the trail could not be written (the runbook fails at its end with this), if it could not. */
  get problem(): string | undefined {
    return this.failure;
  }

  /**
   * Writes what is pending, one batch at a time, never cancelled half-way; local or not, the batch is in
   * the trail when this resolves. A batch that cannot be written stays pending (the next write sends it
   * again) and fails this call with AuditUnavailable.
   */
  write(): Promise<void> {
    const run = this.writing.then(async () => {
      if (this.pending.length === 0) return;
      const batch = this.pending.slice();
      this.beforeWrite();
      try {
        const append = this.local ? appendAuditEntriesLocally : appendAuditEntries;
        await CancellationScope.nonCancellable(() => append({ workflowId: this.workflowId, entries: batch }));
      } catch (error) {
        this.failure = `the audit trail could not be written: ${errorText(error)}`;
        throw ApplicationFailure.create({ type: FailureType.AuditUnavailable, nonRetryable: true, message: this.failure });
      }
      this.pending.splice(0, batch.length);
    });
    this.writing = run.catch(() => undefined);
    return run;
  }

  /** Writes beside whatever runs next; a failure is kept in `problem` and fails the runbook at its end. */
  writeInBackground(): void {
    this.write().catch(() => undefined);
  }
}
