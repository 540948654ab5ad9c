import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { withHeartbeat } from './activity-context';
import { PlatformRequestError, PlatformVerificationError } from './ports/database-platform';

/** What a port's long operation is given: the activity's cancellation, and where its progress goes. */
export interface PortOperationOptions<P> {
  signal: AbortSignal;
  onProgress: (progress: P) => void;
}

/**
 * Runs one operation of the cache or file-backup port inside an activity: its progress is the heartbeat
 * (and is sent again every two seconds, so a dead worker is noticed by the heartbeat timeout), the
 * activity's cancellation reaches the port (which removes what it half-built), and the port's refusals
 * (a request it will not do, data that failed a check) become non-retryable failures of their own type
 * (BackupIntegrityError names the object or file).
 */
export async function portOperation<T, P>(initial: P, fn: (options: PortOperationOptions<P>) => Promise<T>): Promise<T> {
  const context = Context.current();
  try {
    return await withHeartbeat((beat) => fn({ signal: context.cancellationSignal, onProgress: beat }), { everyMs: 2000, initial });
  } catch (error) {
    if (context.cancellationSignal.aborted) throw new CancelledFailure(`cancelled: ${(error as Error).message}`);
    if (error instanceof PlatformRequestError || error instanceof PlatformVerificationError) {
      throw ApplicationFailure.create({ message: error.message, type: error.name, nonRetryable: true });
    }
    throw error;
  }
}

/** The workflow id and step a build is keyed by, so a retried activity finds what an earlier attempt built. */
export function buildKey(step: string | undefined): { workflowId: string; step: string } {
  const info = Context.current().info;
  return { workflowId: info.workflowExecution?.workflowId ?? info.activityId, step: step ?? info.activityType };
}
