import type { InstanceDescription } from '../../../ports/database-platform';
import type { PollVerdict } from '../polling';

// RDS's words for an instance's state (DBInstanceStatus), and what each means to a runbook. Pure.

/** States that end a wait for "available" for good: waiting longer will not make the instance usable. */
const failedStates: Record<string, string> = {
  failed: 'RDS reports the instance failed',
  'incompatible-restore': 'RDS could not restore it (incompatible-restore): the backup or the target time cannot be used; choose another',
  'incompatible-parameters': 'its parameter group is incompatible (incompatible-parameters): fix the DB parameter group in the config',
  'incompatible-network': 'RDS cannot place it in the subnet group (incompatible-network): check the subnet group and free IP addresses',
  'incompatible-option-group': 'its option group is incompatible (incompatible-option-group)',
  'inaccessible-encryption-credentials': 'RDS cannot use its KMS key (inaccessible-encryption-credentials): check the key policy',
  'inaccessible-encryption-credentials-recoverable': 'RDS cannot use its KMS key (inaccessible-encryption-credentials-recoverable): restore access to the key',
  'restore-error': 'RDS failed the restore (restore-error)',
  'storage-full': 'its storage is full (storage-full)',
  'insufficient-capacity': 'RDS has no capacity for the instance class in this availability zone (insufficient-capacity)',
  deleting: 'it is being deleted',
  stopped: 'it is stopped (start it, or let the runbook build a new one)',
  stopping: 'it is stopping',
};

/** States in which the instance serves connections (a snapshot or a modification may be running). */
const servingStates = new Set(['available', 'storage-optimization', 'backing-up', 'modifying', 'maintenance', 'configuring-enhanced-monitoring', 'configuring-iam-database-auth', 'configuring-log-exports', 'upgrading', 'resetting-master-credentials', 'renaming']);

/** Settled: a wait for "available" is over (storage optimisation runs on a usable instance). */
const settledStates = new Set(['available', 'storage-optimization']);

/** The port's three states for an RDS status. */
export function portStatusOf(rdsStatus: string | undefined): InstanceDescription['status'] {
  if (rdsStatus === 'deleting') return 'deleting';
  return rdsStatus !== undefined && servingStates.has(rdsStatus) ? 'available' : 'creating';
}

/** One reading of an instance while waiting until it is available: settled, failed, or still on its way. */
export function judgeAvailability(rdsStatus: string | undefined): PollVerdict<string> {
  if (rdsStatus === undefined) return { waiting: 'not reported yet' };
  if (settledStates.has(rdsStatus)) return { done: rdsStatus };
  const failed = failedStates[rdsStatus];
  return failed ? { failed } : { waiting: rdsStatus };
}

/** One reading of a manual snapshot being taken. */
export function judgeSnapshot(status: string | undefined, percent: number | undefined): PollVerdict<string> {
  if (status === 'available') return { done: status };
  if (status === 'failed' || status === 'error' || status === 'deleted') return { failed: `the snapshot is ${status}` };
  return { waiting: `${status ?? 'creating'}${percent !== undefined ? ` (${percent}%)` : ''}` };
}
