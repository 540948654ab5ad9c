import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { withHeartbeat } from './activity-context';
import {
  PlatformRequestError,
  PlatformVerificationError,
  type BackupSet,
  type BackupVerification,
  type BackupType,
  type DatabasePlatform,
  type InstanceDescription,
  type InstanceId,
  type OperationOptions,
  type OperationProgress,
  type PointInTimeRestoreResult,
  type RecoveryTarget,
  type RestorePoint,
  type RestoreResult,
} from './ports/database-platform';

/**
 * The id of the instance a workflow step builds: the same on every retry of the step (so a retry after
 * a worker crash finds what the crashed attempt built), different for every workflow and step.
 * A readable prefix plus a hash of the exact workflow id and step, within 63 characters.
 */
export function instanceIdFor(workflowId: string, step: string): InstanceId {
  const readable = `${workflowId}-${step}`.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 50).replace(/-+$/, '');
  const hash = createHash('sha256').update(`${workflowId}\0${step}`).digest('hex').slice(0, 8);
  return `${/^[a-z]/.test(readable) ? '' : 'i-'}${readable}-${hash}`;
}

/**
 * The database a platform operation starts from, by its name in the worker config. The platform enrols a
 * database's primary under that name, so the name is also its instance id (`instanceOf`, the one place
 * that says so). Runs recorded before the activities took `database` passed `sourceInstanceId`.
 */
type SourceDatabase = { database: string } | { sourceInstanceId: InstanceId };

function instanceOf(source: SourceDatabase): InstanceId {
  return 'database' in source ? source.database : source.sourceInstanceId;
}

/**
 * Builds an instance: `step` tells apart two calls of the same activity in one workflow; `incidentId`
 * goes onto what the platform builds (cloud tags), beside the workflow id.
 */
type BuildInput = SourceDatabase & { step?: string; incidentId?: string };

const heartbeatEveryMs = 2000;

/**
 * Runs a platform operation inside an activity: heartbeats its progress (and at least every two
 * seconds, so a dead worker is noticed by the heartbeat timeout), passes the activity's cancellation
 * on (the platform removes what it half-built), and turns refusals into non-retryable failures.
 */
async function operation<T>(fn: (options: OperationOptions) => Promise<T>, request: { step?: string; incidentId?: string } = {}): Promise<T> {
  const context = Context.current();
  const checking: OperationProgress = { phase: 'checking' };
  const requestedBy = { workflowId: workflowIdOf(context), requestId: builtInstanceId(request.step), ...(request.incidentId ? { incidentId: request.incidentId } : {}) };
  try {
    return await withHeartbeat((beat) => fn({ signal: context.cancellationSignal, onProgress: beat, requestedBy }), { everyMs: heartbeatEveryMs, initial: checking });
  } catch (error) {
    if (context.cancellationSignal.aborted) throw new CancelledFailure(`cancelled: ${(error as Error).message}`);
    if (error instanceof PlatformRequestError || error instanceof PlatformVerificationError) {
      throw ApplicationFailure.create({ message: error.message, type: error.name, nonRetryable: true });
    }
    throw error; // a PlatformFailure is an ApplicationFailure already, with its type and retryability
  }
}

const workflowIdOf = (context: Context) => context.info.workflowExecution?.workflowId ?? context.info.activityId;

function builtInstanceId(step: string | undefined): InstanceId {
  const context = Context.current();
  return instanceIdFor(workflowIdOf(context), step ?? context.info.activityType);
}

/** Activities over the DatabasePlatform port; results carry ids and facts, never passwords. */
export function createPlatformActivities(platform: DatabasePlatform) {
  return {
    async describeDatabaseInstance(input: { instanceId: InstanceId }): Promise<InstanceDescription> {
      return operation(() => platform.describeInstance(input.instanceId));
    },

    async listDatabaseBackups(input: SourceDatabase): Promise<BackupSet[]> {
      return operation(() => platform.listBackups(instanceOf(input)));
    },

    async takeDatabaseBackup(input: SourceDatabase & { type: BackupType; step?: string; incidentId?: string }): Promise<BackupSet> {
      return operation((o) => platform.takeBackup({ sourceInstanceId: instanceOf(input), type: input.type }, o), input);
    },

    async verifyDatabaseBackups(input: SourceDatabase): Promise<BackupVerification> {
      return operation((o) => platform.verifyBackups(instanceOf(input), o));
    },

    async createRestorePoint(input: SourceDatabase & { name: string }): Promise<RestorePoint> {
      return operation((o) => platform.createRestorePoint({ sourceInstanceId: instanceOf(input), name: input.name }, o));
    },

    async restoreBackupToNewInstance(input: BuildInput & { backupLabel?: string }): Promise<RestoreResult> {
      const instanceId = builtInstanceId(input.step);
      return operation((o) => platform.restoreBackupToNewInstance({ instanceId, sourceInstanceId: instanceOf(input), backupLabel: input.backupLabel }, o), input);
    },

    async restoreToPointInTime(input: BuildInput & { target: RecoveryTarget }): Promise<PointInTimeRestoreResult> {
      const instanceId = builtInstanceId(input.step);
      return operation((o) => platform.restoreToPointInTime({ instanceId, sourceInstanceId: instanceOf(input), target: input.target }, o), input);
    },

    async createReplica(input: BuildInput): Promise<RestoreResult> {
      const instanceId = builtInstanceId(input.step);
      return operation((o) => platform.createReplica({ instanceId, sourceInstanceId: instanceOf(input) }, o), input);
    },

    async promoteReplica(input: { instanceId: InstanceId }): Promise<InstanceDescription> {
      return operation((o) => platform.promoteReplica(input.instanceId, o));
    },

    /**
     * Deletes an instance by its id, or the one a step of this workflow builds (`step`: the same
     * deterministic id the build uses), which is how a build's cleanup is registered before the build
     * starts. Deleting what is not there is fine: `deleted` says whether anything was.
     */
    async deleteDatabaseInstance(input: { instanceId: InstanceId } | { step: string }): Promise<{ deleted: boolean }> {
      const instanceId = 'step' in input ? builtInstanceId(input.step) : input.instanceId;
      return operation((o) => platform.deleteInstance(instanceId, o));
    },

    async waitUntilDatabaseAvailable(input: { instanceId: InstanceId; timeoutSeconds?: number }): Promise<InstanceDescription> {
      return operation((o) => platform.waitUntilAvailable(input.instanceId, { ...o, timeoutMs: input.timeoutSeconds ? input.timeoutSeconds * 1000 : undefined }));
    },
  };
}

export type PlatformActivities = ReturnType<typeof createPlatformActivities>;
