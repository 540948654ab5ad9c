import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../contracts/failure-types';

/** The running activity's context, or undefined when the code runs outside a worker (tests, scripts, benchmarks). */
export function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/**
 * The one way an activity shows it is alive. `beat(details)` heartbeats at once with its progress, and
 * the last details are sent again every `everyMs` while `work` runs, because one long step (a query over
 * millions of rows, a restore, an HTTP wait) can outlast a heartbeat timeout between two progress reports;
 * so a dead worker is noticed by the heartbeat timeout, and cancellation can reach the activity. The SDK
 * throttles what it actually sends. Outside a worker it just runs `work`.
 */
export async function withHeartbeat<T>(work: (beat: (details: unknown) => void) => Promise<T>, options: { everyMs?: number; initial?: unknown } = {}): Promise<T> {
  const context = activityContext();
  let last = options.initial;
  const beat = (details: unknown) => {
    last = details;
    context?.heartbeat(details);
  };
  if (!context) return work(beat);
  if (options.initial !== undefined) context.heartbeat(options.initial);
  const timer = setInterval(() => context.heartbeat(last), options.everyMs ?? 1000);
  try {
    return await work(beat);
  } finally {
    clearInterval(timer);
  }
}

/** Called between units of work: a cancelled activity stops before starting the next one. */
export function stopIfCancelled(): void {
  const signal = activityContext()?.cancellationSignal;
  if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('activity cancelled');
}

/** The workflow and activity ids, to key stored artifacts so a retried activity overwrites its own output. */
export function activityIdentity(): { workflowId: string; activityId: string } | undefined {
  const info = activityContext()?.info;
  return info?.workflowExecution ? { workflowId: info.workflowExecution.workflowId, activityId: info.activityId } : undefined;
}

/** Bad input: retrying cannot help, and the message names the field. */
export function invalidInput(field: string, problem: string): ApplicationFailure {
  return ApplicationFailure.create({ type: FailureType.InvalidInput, message: `${field}: ${problem}`, nonRetryable: true });
}
