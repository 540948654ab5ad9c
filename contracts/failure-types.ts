// Every ApplicationFailure type the runbooks raise, with when each is used. Workflows match on these (a
// failed migration's rollback falls back on RollbackImpossible and ValidationFailed), clients read them,
// operators search for them: code uses these constants, never the string.

export const FailureType = {
  // Input and plan: refused before anything is changed; a retry would fail the same way.
  /** A workflow or activity input is malformed; the message names the field. */
  InvalidInput: 'InvalidInput',
  /** The worker config's plan cannot run this runbook (a gate missing, a quorum nobody can reach). */
  InvalidPlan: 'InvalidPlan',
  /** A scenario's own step definitions break the runner's rules (a programming error). */
  InvalidRunbook: 'InvalidRunbook',
  /** A recovery point given to the runner is not a pair of ISO 8601 times. */
  InvalidRecoveryPoint: 'InvalidRecoveryPoint',
  /** The runbook was started on a worker of another environment. */
  WrongEnvironment: 'WrongEnvironment',
  /** A database name is neither in the worker config nor a platform instance. */
  UnknownDatabase: 'UnknownDatabase',
  /** An input names something (database, replica, table, migration version) that is not there, or not an application's. */
  UnknownTarget: 'UnknownTarget',
  /** A vote or an abort was refused (no valid proof, not listed, gate not open, …); the message says why. */
  VoteRefused: 'VoteRefused',

  // The runner's safety rules.
  /** A production-affecting step in a drill, or before any approval gate of the run was approved. */
  ProductionStepRefused: 'ProductionStepRefused',
  /** The audit trail could not be written: the runbook does not go on without it. */
  AuditUnavailable: 'AuditUnavailable',
  /** The runbook ended failed, or a compensation or the audit trail failed; details[0] is the RunbookResult. */
  RunbookFailed: 'RunbookFailed',
  /** A drill failed or missed an objective; details[0] is the DrillResult (the schedule pauses). */
  DrillFailed: 'DrillFailed',

  // What a recovery found.
  /** The validation gate failed: the runbook stops before changing production. */
  ValidationFailed: 'ValidationFailed',
  /** No backup set to restore, and no standby to promote. */
  NoBackup: 'NoBackup',
  /** A backup's stanza did not verify (pgbackrest verify): it gets no baseline. */
  BackupNotVerified: 'BackupNotVerified',
  /** A backup restored, but its copy failed the gate's own checks: it is no known good state. */
  BaselineNotGood: 'BaselineNotGood',
  /** The region-outage runbook's primary still answers: failing over would make two primaries. */
  PrimaryStillAnswers: 'PrimaryStillAnswers',
  /** The name the application resolves its database through has no DNS record. */
  DnsRecordMissing: 'DnsRecordMissing',
  /** The instance named as the replica is not a replica of the primary. */
  NotAReplica: 'NotAReplica',
  /** A promoted instance is not a writable primary. */
  PromotionFailed: 'PromotionFailed',
  /** The application did not answer healthy from the expected database in time. */
  AppNotHealthy: 'AppNotHealthy',
  /** A restart could not reach every replica: ProgressDeadlineExceeded, the process exited, the wait timed out. */
  RolloutFailed: 'RolloutFailed',
  /** A cutover failed after the application was re-pointed, and its previous connection was put back. */
  CutoverRolledBack: 'CutoverRolledBack',
  /** The application's database credentials could not be rotated (no role configured, the role missing or NOLOGIN). */
  CredentialRotationFailed: 'CredentialRotationFailed',
  /** After a rotation the old password is still accepted (pg_hba.conf trusts the host?), or the new one is not. */
  CredentialNotRevoked: 'CredentialNotRevoked',
  /** A migration rollback cannot be done (no down script) or failed and was undone. */
  RollbackImpossible: 'RollbackImpossible',
  /** After a rollback the schema is not at the version asked for. */
  RollbackNotVerified: 'RollbackNotVerified',
  /** After the fallback restore the application runs on a schema newer than asked for. */
  RestoreNotVerified: 'RestoreNotVerified',
  /** The failed-migration runbook's point-in-time restore child did not complete. */
  FallbackNotCompleted: 'FallbackNotCompleted',
  /** Seed 002's pre-recovery checklist failed a blocking check (a backup missing, no space, a key that does not resolve): nothing was built. */
  NotReady: 'NotReady',
  /** One part of the complete-system recovery (its child runbook) did not complete; the others were cancelled and cleaned up. */
  PartNotRecovered: 'PartNotRecovered',
  /** After the cutover, the application's own checks (connectivity, data integrity, functionality) did not all pass. */
  AppChecksFailed: 'AppChecksFailed',
  /** A backup (files or cache) failed an integrity check (checksum, authentication tag, manifest); the message names the object or file. Nothing was moved into place. */
  BackupIntegrityError: 'BackupIntegrityError',

  // The database platform (from its two error classes).
  /** The platform refused a request before doing anything (unknown instance, target out of range). */
  PlatformRequestError: 'PlatformRequestError',
  /** The platform's operation ran but its result is wrong (a restore that did not stop at its target). */
  PlatformVerificationError: 'PlatformVerificationError',
  /** The instance, snapshot or other resource named does not exist on the platform (in any configured region). */
  PlatformNotFound: 'PlatformNotFound',
  /** A resource under the id a step builds exists but is not what the step asked for (another origin, not built by dr-runbooks). */
  PlatformAlreadyExists: 'PlatformAlreadyExists',
  /** The cloud account's quota (instances, snapshots, storage) is reached: raise it or remove something, then retry the runbook. */
  PlatformQuotaExceeded: 'PlatformQuotaExceeded',
  /** The resource is in a state that refuses the operation; retried while the state may still change (modifying), not when it cannot. */
  PlatformInvalidState: 'PlatformInvalidState',
  /** The worker's cloud credentials are not allowed the call (IAM): the message names the action to grant. */
  PlatformAccessDenied: 'PlatformAccessDenied',
  /** A point-in-time restore target outside the source's restorable window; the message gives the window. Refused before anything is created. */
  RecoveryTargetOutsideWindow: 'RecoveryTargetOutsideWindow',

  // The audit trail and the report.
  /** An audit batch does not continue the trail (a seq missing before it). */
  AuditGap: 'AuditGap',
  /** An audit seq is already stored with other content: rows are never overwritten. */
  AuditConflict: 'AuditConflict',
  /** An audit entry is malformed. */
  InvalidAuditEntry: 'InvalidAuditEntry',
  /** An audit trail fails verification: a row edited, the chain recomputed, rows deleted, a head forged. */
  AuditTrailTampered: 'AuditTrailTampered',
  /** An audit detail looks like it carries a secret; nothing was written. */
  SecretInAuditDetail: 'SecretInAuditDetail',
  /** The report would carry a connection string with a password; it is not written. */
  SecretInReport: 'SecretInReport',
} as const;

export type FailureTypeName = (typeof FailureType)[keyof typeof FailureType];

/** The failure type of an error as the workflow sees it (an activity's or child's failure carries it in its cause). */
export function failureTypeOf(error: unknown): string | undefined {
  const e = error as { type?: string; cause?: { type?: string } } | undefined;
  return e?.cause?.type ?? e?.type;
}
