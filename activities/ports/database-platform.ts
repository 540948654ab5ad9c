/**
 * DatabasePlatform port: the database operations every runbook needs, whatever runs the database.
 * Adapters: local (PostgreSQL 15 clusters + pgBackRest, the embedded default), aws (RDS), kubernetes.
 *
 * Names follow pgBackRest and CloudNativePG: a *stanza* is the backup configuration of one cluster, a
 * *backup set* is identified by its label (`20261123-134953F`), a *recovery target* is where WAL replay
 * stops, *promotion* ends recovery and makes an instance a writable primary.
 *
 * Every operation that builds something takes the id of the instance to build: the caller derives it
 * from the workflow and step, so a retry finds what an earlier attempt left and never builds a second one.
 * Results carry ids, endpoints and facts; never a password (see `connectionFor`).
 */

import { ApplicationFailure } from '@temporalio/common';
import type { FailureTypeName } from '../../contracts/failure-types';
import type { ReplicaLag } from '../../contracts/replica-lag';

/** [a-z0-9-], 1-63 characters, starting with a letter: valid as a directory, an RDS id and a k8s name. */
export type InstanceId = string;

export type InstanceRole = 'primary' | 'replica';

export type BackupType = 'full' | 'diff' | 'incr';

/** Where WAL replay stops: a time, a named restore point (`pg_create_restore_point`), or the end of the archive. */
export type RecoveryTarget =
  | { kind: 'time'; time: string }
  | { kind: 'name'; name: string }
  | { kind: 'latest' };

export interface InstanceEndpoint {
  host: string;
  port: number;
  /** The application database on the instance. */
  database: string;
}

/** How an instance came to be; kept with it so a retry can tell whether it is what was asked for. */
export type InstanceOrigin =
  | { kind: 'enrolled' }
  | { kind: 'backup'; sourceInstanceId: InstanceId; backupLabel: string }
  | { kind: 'pointInTime'; sourceInstanceId: InstanceId; backupLabel: string; target: RecoveryTarget }
  | { kind: 'replica'; sourceInstanceId: InstanceId; backupLabel: string };

export interface ReplicationStatus {
  sourceInstanceId: InstanceId;
  /** WAL the primary has written that the replica has not replayed; unknown when the primary does not answer. */
  lag: ReplicaLag;
  /** Seconds since the last replayed commit, 0 when the replica has replayed everything it received. */
  lagSeconds: number;
  streaming: boolean;
}

export interface InstanceDescription {
  instanceId: InstanceId;
  role: InstanceRole;
  /** creating: an operation is building it (or was, when a worker died); available: built and serving. */
  status: 'creating' | 'available' | 'deleting';
  /** The platform's own word for the state, when it has more than these three (RDS: backing-up, modifying, storage-full). */
  platformStatus?: string;
  acceptingConnections: boolean;
  endpoint: InstanceEndpoint;
  origin: InstanceOrigin;
  /** Production and other enrolled instances: never deleted by a runbook. */
  protected: boolean;
  /** pg_current_wal_lsn() on a primary. */
  currentLsn?: string;
  /** pg_last_wal_replay_lsn() on a replica. */
  replayLsn?: string;
  timeline?: number;
  replication?: ReplicationStatus;
  createdAt: string;
}

export interface BackupSet {
  stanza: string;
  label: string;
  type: BackupType;
  /** The backup set a diff/incr depends on. */
  priorLabel?: string;
  startedAt: string;
  stoppedAt: string;
  /** Size of the database the backup holds, and what it takes in the repository. */
  sizeBytes: number;
  repositorySizeBytes: number;
  walStart: string;
  walStop: string;
  lsnStart: string;
  lsnStop: string;
}

/** What a point-in-time restore actually reached, read from the recovered instance before promotion. */
export interface RecoveryPoint {
  /** pg_last_xact_replay_timestamp(): the newest commit the instance holds; undefined if it replayed none. */
  lastCommitAt?: string;
  lsn: string;
  /** PostgreSQL's own words on where it stopped ("recovery stopping before commit of transaction 812, time ..."). */
  stopReason?: string;
}

export interface RestoreResult {
  instance: InstanceDescription;
  backupLabel: string;
  /** True when this call found the instance already built by an earlier attempt and returned it. */
  reused: boolean;
}

export interface PointInTimeRestoreResult extends RestoreResult {
  target: RecoveryTarget;
  recoveredTo: RecoveryPoint;
  /** For a time target: target minus the newest recovered commit, in seconds (commits in that window are lost). */
  dataLossWindowSeconds?: number;
}

export interface BackupVerification {
  stanza: string;
  ok: boolean;
  /** pgBackRest's own report (text), e.g. "stanza: production\nstatus: ok\n  archiveId: 15-1, total WAL checked: 6, total valid WAL: 6". */
  report: string;
}

/** A named point in the WAL (`pg_create_restore_point`), e.g. just before a migration: a `name` recovery target. */
export interface RestorePoint {
  sourceInstanceId: InstanceId;
  name: string;
  lsn: string;
  createdAt: string;
}

/** Progress of a long operation, for heartbeats. */
export interface OperationProgress {
  phase: 'checking' | 'restoring' | 'starting' | 'replaying' | 'verifying' | 'promoting' | 'backing-up' | 'stopping';
  bytesDone?: number;
  bytesTotal?: number;
  /** Replay position while WAL is replayed. */
  replayLsn?: string;
  /** The platform's own word for the instance's state while it is waited for (RDS: creating, backing-up, modifying, available). */
  status?: string;
  /** Seconds since the wait began. */
  elapsedSeconds?: number;
  message?: string;
}

/**
 * Who asked for an operation: what a cloud platform tags what it builds with, and how it names what a
 * call builds besides the instance (a snapshot), so a retry finds it. Adapters that keep no tags ignore it.
 */
export interface OperationRequester {
  workflowId: string;
  /** The same on every retry of the step that asked (instanceIdFor(workflowId, step)). */
  requestId: string;
  incidentId?: string;
}

export interface OperationOptions {
  /** Aborting stops the operation and removes what it half-built. */
  signal?: AbortSignal;
  onProgress?: (progress: OperationProgress) => void;
  requestedBy?: OperationRequester;
}

/** Connection details of an instance, password included: for the worker's own pools only. */
export interface InstanceConnection {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
}

export interface DatabasePlatform {
  describeInstance(instanceId: InstanceId): Promise<InstanceDescription>;
  /** Backup sets of the instance's stanza, oldest first. */
  listBackups(sourceInstanceId: InstanceId): Promise<BackupSet[]>;
  takeBackup(input: { sourceInstanceId: InstanceId; type: BackupType }, options?: OperationOptions): Promise<BackupSet>;
  /** Checks every backup set and archived WAL segment of the stanza (pgbackrest verify): checksums, gaps. */
  verifyBackups(sourceInstanceId: InstanceId, options?: OperationOptions): Promise<BackupVerification>;
  /** Creates (once per name: a retry returns the first) a named restore point and waits until its WAL is archived. */
  createRestorePoint(input: { sourceInstanceId: InstanceId; name: string }, options?: OperationOptions): Promise<RestorePoint>;
  /** Restores a backup set (the newest when no label) to a new instance, consistent at the backup's end, promoted. */
  restoreBackupToNewInstance(input: { instanceId: InstanceId; sourceInstanceId: InstanceId; backupLabel?: string }, options?: OperationOptions): Promise<RestoreResult>;
  /** Restores to a recovery target into a new instance; fails unless the instance stopped exactly at the target. */
  restoreToPointInTime(input: { instanceId: InstanceId; sourceInstanceId: InstanceId; target: RecoveryTarget }, options?: OperationOptions): Promise<PointInTimeRestoreResult>;
  /** A streaming replica of a primary, built from its newest backup and the WAL archive. */
  createReplica(input: { instanceId: InstanceId; sourceInstanceId: InstanceId }, options?: OperationOptions): Promise<RestoreResult>;
  /** Ends recovery on a replica; it becomes a writable primary on a new timeline. */
  promoteReplica(instanceId: InstanceId, options?: OperationOptions): Promise<InstanceDescription>;
  /** Stops and removes an instance; refused for protected instances. Deleting one that does not exist is a no-op. */
  deleteInstance(instanceId: InstanceId, options?: OperationOptions): Promise<{ deleted: boolean }>;
  waitUntilAvailable(instanceId: InstanceId, options?: OperationOptions & { timeoutMs?: number }): Promise<InstanceDescription>;
  /**
   * Worker-side only: how the worker's pools reach an instance, password included. undefined for an
   * unknown id. Asynchronous because a cloud platform looks the endpoint up and reads the password from
   * the secret store each time (a rebuilt instance may have moved, a rotated secret changed).
   */
  connectionFor(instanceId: InstanceId): Promise<InstanceConnection | undefined>;
}

/** A request the platform refuses before doing anything (bad target, unknown instance): not worth retrying. */
export class PlatformRequestError extends Error {
  override readonly name = 'PlatformRequestError';
}

/** The operation ran but its result is wrong (e.g. a restore that did not stop at its target). */
export class PlatformVerificationError extends Error {
  override readonly name = 'PlatformVerificationError';
}

/**
 * A failure a platform (or any cloud service behind a port) answered with, classified: `type` is a
 * failure type of contracts/failure-types (PlatformNotFound, PlatformAlreadyExists, PlatformQuotaExceeded,
 * PlatformInvalidState, PlatformAccessDenied, RecoveryTargetOutsideWindow), `retryable` whether trying
 * again can help. It is an ApplicationFailure, so whichever activity it escapes from fails with that type,
 * retried or not as it says.
 */
export class PlatformFailure extends ApplicationFailure {
  constructor(type: FailureTypeName, message: string, retryable: boolean, options?: { cause?: unknown }) {
    super(message, type, !retryable, undefined, options?.cause instanceof Error ? options.cause : undefined);
  }

  get retryable(): boolean {
    return this.nonRetryable !== true;
  }
}

const instanceIdPattern = /^[a-z][a-z0-9-]{0,62}$/;

export function assertInstanceId(id: string): void {
  if (!instanceIdPattern.test(id)) {
    throw new PlatformRequestError(`instanceId "${id}" is not valid: use 1-63 characters a-z, 0-9 and '-', starting with a letter`);
  }
}
