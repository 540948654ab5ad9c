import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../contracts/failure-types';

/** The running activity's context, or undefined when the code runs outside a worker (tests, scripts, benchmarks). */
function currentContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** Records progress so the server knows long work is alive (and so cancellation can reach us). */
export function reportProgress(details: unknown): void {
  currentContext()?.heartbeat(details);
}

/** Called between units of work: a cancelled activity stops before starting the next one. */
export function stopIfCancelled(): void {
  const signal = currentContext()?.cancellationSignal;
  if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('activity cancelled');
}

/** The workflow and activity ids, to key stored artifacts so a retried activity overwrites its own output. */
export function activityIdentity(): { workflowId: string; activityId: string } | undefined {
  const info = currentContext()?.info;
  return info?.workflowExecution ? { workflowId: info.workflowExecution.workflowId, activityId: info.activityId } : undefined;
}

/** Bad input: retrying cannot help, and the message names the field. */
export function invalidInput(field: string, problem: string): ApplicationFailure {
  return ApplicationFailure.create({ type: FailureType.InvalidInput, message: `${field}: ${problem}`, nonRetryable: true });
}

/**
 * Progress for one activity run: `report` heartbeats at once, and `around` keeps repeating the last
 * report every second while a single long query runs (a count over millions of rows can outlast a
 * heartbeat timeout). The SDK throttles what it actually sends.
 */
export function createProgress() {
  let last: unknown;
  return {
    report(details: unknown): void {
      last = details;
      reportProgress(details);
    },
    async around<T>(work: () => Promise<T>): Promise<T> {
      const context = currentContext();
      if (!context) return work();
      const timer = setInterval(() => context.heartbeat(last), 1000);
      try {
        return await work();
      } finally {
        clearInterval(timer);
      }
    },
  };
}
