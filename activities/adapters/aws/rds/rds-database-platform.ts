import {
  AddTagsToResourceCommand,
  CreateDBInstanceReadReplicaCommand,
  CreateDBSnapshotCommand,
  DeleteDBInstanceCommand,
  DescribeDBInstanceAutomatedBackupsCommand,
  DescribeDBSnapshotsCommand,
  PromoteReadReplicaCommand,
  RemoveTagsFromResourceCommand,
  RestoreDBInstanceFromDBSnapshotCommand,
  RestoreDBInstanceToPointInTimeCommand,
  type DBSnapshot,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { FailureType } from '../../../../contracts/failure-types';
import {
  assertInstanceId,
  PlatformFailure,
  PlatformRequestError,
  PlatformVerificationError,
  type BackupSet,
  type DatabasePlatform,
  type InstanceDescription,
  type InstanceId,
  type InstanceOrigin,
  type OperationOptions,
  type OperationProgress,
  type RecoveryPoint,
  type RecoveryTarget,
  type RestoreResult,
} from '../../../ports/database-platform';
import { isAwsError, sendMapped } from '../aws-errors';
import { PollFailedError, PollTimeoutError, pollUntil, realClock, type PollClock, type PollVerdict } from '../polling';
import { judgeAvailability, judgeSnapshot, portStatusOf } from './instance-status';
import { createRdsDataPath, rdsEndpointAsReported, type RdsCredentials, type RdsEndpointResolver, type ServerFacts } from './rds-data-path';
import { createRdsLocator, type LocatedInstance, type RdsEnrolledInstance } from './rds-locator';
import { buildTags, createdByValue, originFromTags, sameOrigin, tagKeys, tagsOf, tagValue } from './rds-tags';
import { checkRecoveryTarget, restorableWindowOf, type RestorableWindow } from './restorable-window';

/** What a step builds with in one region: RDS places instances in a VPC there, encrypted with a key there. */
export interface RdsRegionSettings {
  subnetGroup?: string;
  parameterGroup?: string;
  optionGroup?: string;
  securityGroupIds?: string[];
  /** For a read replica in this region of an encrypted source (a restore keeps its source's key). */
  kmsKeyId?: string;
}

export interface RdsPlatformOptions {
  rds(region: string): RDSClient;
  /** The instances the platform is enrolled with, by instance id (production, dr-replica): never deleted by a runbook. */
  instances: Record<InstanceId, RdsEnrolledInstance>;
  /** The data path's credentials for an enrolled instance (and everything built from it), from the secret store. */
  credentials(enrolledInstanceId: InstanceId): Promise<RdsCredentials>;
  build: {
    /** Instance class of what a step builds; the source's when omitted. */
    instanceClass?: string;
    multiAz: boolean;
    regions: Record<string, RdsRegionSettings>;
    /** Tags on everything built, under dr-runbooks' own (created-by, workflow id, incident id, origin). */
    tags: Record<string, string>;
  };
  deletion: {
    /** `take`: a final snapshot `<instance>-final` before an instance is deleted; `skip`: none. */
    finalSnapshot: 'take' | 'skip';
    /** Further instances (ids or RDS identifiers) a runbook must never delete, beside the enrolled ones. */
    protectedInstances: string[];
  };
  /** A promoted replica keeps automated backups this long (a replica often keeps none), so it can be restored in turn. */
  promotedBackupRetentionDays: number;
  waits: { pollIntervalMs: number; timeoutMs: number };
  resolveEndpoint?: RdsEndpointResolver;
  connectTimeoutMs?: number;
  clock?: PollClock;
}

/** RDS keeps automated backups for at most 35 days: a target older than that cannot be in any window. */
const maxRetentionMs = 35 * 24 * 3600 * 1000;
/** RDS ships the transaction log about every five minutes; a window whose end lags more than this is stale. */
const staleLatestMs = 15 * 60 * 1000;
/** Restore-point tags kept on an instance (RDS allows 50 tags in all). */
const restorePointsKept = 10;

/**
 * The DatabasePlatform on Amazon RDS for PostgreSQL. Instances a step builds are named by the instance id
 * the runbook derives from its workflow and step, and tagged with how they were built: a retry after a
 * worker crash finds the instance its first attempt asked for and never creates a second one. Facts only
 * the database knows (role, WAL positions, the newest commit) come through the data path: the endpoint
 * RDS reports, through the resolver, with the source's credentials from the secret store.
 */
export function createRdsDatabasePlatform(options: RdsPlatformOptions): DatabasePlatform {
  const locator = createRdsLocator(options.rds, options.instances);
  const clock = options.clock ?? realClock;
  const protectedNames = new Set(options.deletion.protectedInstances);

  const credentialsOf = async (located: LocatedInstance): Promise<RdsCredentials | undefined> => {
    const source = enrolledSourceOf(located);
    return source ? options.credentials(source) : undefined;
  };
  const dataPath = createRdsDataPath({ resolveEndpoint: options.resolveEndpoint ?? rdsEndpointAsReported, credentials: credentialsOf, connectTimeoutMs: options.connectTimeoutMs ?? 5000 });

  const rds = <C extends object, T>(region: string, what: string, command: C, send: (client: RDSClient, command: C) => Promise<T>, expected: string[] = []) =>
    sendMapped('rds', what, command, (c) => send(options.rds(region), c), expected);

  /** The enrolled instance whose credentials reach this one: itself, its source (tags), or the source RDS names. */
  function enrolledSourceOf(located: LocatedInstance): InstanceId | undefined {
    if (located.enrolled) return located.instanceId;
    const origin = originFromTags(tagsOf(located.db.TagList));
    if (origin && locator.isEnrolled(origin.sourceInstanceId)) return origin.sourceInstanceId;
    const named = located.db.ReadReplicaSourceDBInstanceIdentifier;
    return named ? locator.enrolledIdOf(named, located.region) : undefined;
  }

  function originOf(located: LocatedInstance): InstanceOrigin {
    const tagged = originFromTags(tagsOf(located.db.TagList));
    if (tagged) return tagged;
    const named = located.db.ReadReplicaSourceDBInstanceIdentifier;
    if (named) return { kind: 'replica', sourceInstanceId: locator.enrolledIdOf(named, located.region) ?? named, backupLabel: '' };
    return { kind: 'enrolled' };
  }

  function isProtected(located: LocatedInstance): string | undefined {
    if (located.enrolled) return `it is the enrolled instance "${located.instanceId}" (${located.identifier} in ${located.region})`;
    if (locator.isEnrolledIdentifier(located.identifier, located.region)) return `${located.identifier} is an enrolled instance`;
    if (protectedNames.has(located.instanceId) || protectedNames.has(located.identifier)) return 'it is listed in platform.rds.protectedInstances';
    if (located.db.DeletionProtection) return 'it has deletion protection on';
    if (tagsOf(located.db.TagList)[tagKeys.createdBy] !== createdByValue) return `it was not built by dr-runbooks (no ${tagKeys.createdBy} tag): a runbook deletes only what it built`;
    return undefined;
  }

  async function factsOf(located: LocatedInstance): Promise<ServerFacts | undefined> {
    const origin = originOf(located);
    const source = origin.kind === 'enrolled' ? undefined : origin.sourceInstanceId;
    return dataPath.serverFacts(located, source && locator.isEnrolled(source) ? () => locator.locate(source) : undefined);
  }

  async function describeLocated(located: LocatedInstance, known?: ServerFacts | null): Promise<InstanceDescription> {
    const { db } = located;
    const facts = known === undefined ? await factsOf(located) : known ?? undefined;
    const credentials = await credentialsOf(located).catch(() => undefined);
    const namesSource = db.ReadReplicaSourceDBInstanceIdentifier !== undefined;
    const description: InstanceDescription = {
      instanceId: located.instanceId,
      role: facts ? (facts.state.inRecovery ? 'replica' : 'primary') : namesSource ? 'replica' : 'primary',
      status: portStatusOf(db.DBInstanceStatus),
      ...(db.DBInstanceStatus ? { platformStatus: db.DBInstanceStatus } : {}),
      acceptingConnections: facts !== undefined,
      endpoint: { host: db.Endpoint?.Address ?? '', port: db.Endpoint?.Port ?? db.DbInstancePort ?? 5432, database: credentials?.database ?? db.DBName ?? 'postgres' },
      origin: originOf(located),
      protected: isProtected(located) !== undefined,
      createdAt: (db.InstanceCreateTime ?? new Date(clock.now())).toISOString(),
    };
    if (!facts) return description;
    description.timeline = facts.state.timeline;
    if (!facts.state.inRecovery) return { ...description, ...(facts.state.currentLsn ? { currentLsn: facts.state.currentLsn } : {}) };
    return { ...description, ...(facts.state.replayLsn ? { replayLsn: facts.state.replayLsn } : {}), ...(facts.replication ? { replication: facts.replication } : {}) };
  }

  async function mustLocate(instanceId: InstanceId): Promise<LocatedInstance> {
    const located = await locator.locate(instanceId);
    if (!located) throw new PlatformFailure(FailureType.PlatformNotFound, `instance "${instanceId}" does not exist in RDS (looked in ${locator.regions.join(', ') || 'no region: platform.rds.instances is empty'})`, false);
    return located;
  }

  const progress = (o: OperationOptions, phase: OperationProgress['phase'], identifier: string) => (status: string, elapsedSeconds: number) =>
    o.onProgress?.({ phase, status, elapsedSeconds, message: `${identifier}: ${status}, ${elapsedSeconds} s` });

  const translatePoll = (error: unknown): never => {
    if (error instanceof PollFailedError) throw new PlatformVerificationError(error.message);
    if (error instanceof PollTimeoutError) throw new PlatformFailure(FailureType.PlatformInvalidState, error.message, true);
    throw error;
  };

  /**
   * Waits until RDS says available and the database answers through the data path (with `settled` for
   * what else must hold: a replica streaming, a promoted one out of recovery).
   */
  async function untilServing(instanceId: InstanceId, o: OperationOptions & { timeoutMs?: number }, phase: OperationProgress['phase'], settled: (facts: ServerFacts, located: LocatedInstance) => string | true = () => true): Promise<{ located: LocatedInstance; facts: ServerFacts }> {
    let identifier = instanceId;
    return pollUntil({
      what: `instance "${instanceId}" to become available`,
      read: async () => {
        const located = await locator.locate(instanceId);
        if (located) identifier = located.identifier;
        return { located, facts: located ? await factsOf(located) : undefined };
      },
      judge: ({ located, facts }): PollVerdict<{ located: LocatedInstance; facts: ServerFacts }> => {
        if (!located) return { failed: 'it no longer exists in RDS (deleted while it was waited for)' };
        const rds = judgeAvailability(located.db.DBInstanceStatus);
        if (!('done' in rds)) return rds;
        if (!facts) return { waiting: `${rds.done}, the database does not answer yet` };
        const more = settled(facts, located);
        return more === true ? { done: { located, facts } } : { waiting: `${rds.done}, ${more}` };
      },
      intervalMs: options.waits.pollIntervalMs,
      timeoutMs: o.timeoutMs ?? options.waits.timeoutMs,
      onWait: (status, elapsed) => progress(o, phase, identifier)(status, elapsed),
      signal: o.signal,
      clock,
    }).catch(translatePoll);
  }

  /** An instance already under the id a step builds: what the step asked for (reuse it), or in the way (refuse). */
  async function existingBuild(instanceId: InstanceId, wanted: InstanceOrigin): Promise<LocatedInstance | undefined> {
    const located = await locator.locate(instanceId);
    if (!located) return undefined;
    const origin = originFromTags(tagsOf(located.db.TagList));
    if (!origin) throw new PlatformFailure(FailureType.PlatformAlreadyExists, `an RDS instance "${located.identifier}" in ${located.region} already exists and was not built by dr-runbooks: it is not taken as this step's instance; remove or rename it, or start a new runbook`, false);
    if (!sameOrigin(origin, wanted)) throw new PlatformFailure(FailureType.PlatformAlreadyExists, `instance "${instanceId}" already exists as ${JSON.stringify(origin)}, not the ${JSON.stringify(wanted)} this step asks for`, false);
    if (located.db.DBInstanceStatus === 'deleting') throw new PlatformFailure(FailureType.PlatformInvalidState, `instance "${instanceId}" is being deleted: it cannot be this step's instance until it is gone`, true);
    return located;
  }

  /**
   * Creates what a step builds, once: an instance already there that the step asked for is reused; a
   * create that finds its id taken (the request of a crashed attempt that did reach RDS) re-reads it.
   * An operation aborted while it waits removes what it created.
   */
  async function buildOnce(instanceId: InstanceId, wanted: InstanceOrigin, region: string, create: () => Promise<unknown>, o: OperationOptions, settled?: (facts: ServerFacts) => string | true): Promise<{ located: LocatedInstance; facts: ServerFacts; reused: boolean }> {
    let reused = (await existingBuild(instanceId, wanted)) !== undefined;
    if (!reused) {
      try {
        o.onProgress?.({ phase: 'restoring', message: `asking RDS for ${instanceId} in ${region}` });
        await create();
        locator.seenIn(instanceId, region);
      } catch (error) {
        if (!isAwsError(error, 'DBInstanceAlreadyExistsFault')) throw error;
        if (!(await existingBuild(instanceId, wanted))) throw error;
        reused = true;
      }
    }
    try {
      return { ...(await untilServing(instanceId, o, 'starting', settled)), reused };
    } catch (error) {
      if (o.signal?.aborted && !reused) await removeBuilt(instanceId).catch(() => undefined);
      throw error;
    }
  }

  async function removeBuilt(instanceId: InstanceId): Promise<void> {
    const located = await locator.locate(instanceId);
    if (!located || isProtected(located)) return;
    await rds(located.region, `delete the half-built ${instanceId}`, new DeleteDBInstanceCommand({ DBInstanceIdentifier: located.identifier, SkipFinalSnapshot: true, DeleteAutomatedBackups: true }), (c, cmd) => c.send(cmd), ['DBInstanceNotFoundFault']).catch((error) => {
      if (!isAwsError(error, 'DBInstanceNotFoundFault')) throw error;
    });
  }

  function buildParameters(region: string) {
    const settings = options.build.regions[region] ?? {};
    return {
      ...(options.build.instanceClass ? { DBInstanceClass: options.build.instanceClass } : {}),
      ...(settings.subnetGroup ? { DBSubnetGroupName: settings.subnetGroup } : {}),
      ...(settings.parameterGroup ? { DBParameterGroupName: settings.parameterGroup } : {}),
      ...(settings.optionGroup ? { OptionGroupName: settings.optionGroup } : {}),
      ...(settings.securityGroupIds?.length ? { VpcSecurityGroupIds: settings.securityGroupIds } : {}),
      DeletionProtection: false,
    };
  }

  async function snapshotsOf(source: LocatedInstance, type?: 'manual' | 'automated'): Promise<DBSnapshot[]> {
    const snapshots: DBSnapshot[] = [];
    let marker: string | undefined;
    do {
      const page = await rds(source.region, `list the snapshots of ${source.instanceId}`, new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: source.identifier, ...(type ? { SnapshotType: type } : {}), ...(marker ? { Marker: marker } : {}) }), (c, cmd) => c.send(cmd));
      snapshots.push(...(page.DBSnapshots ?? []));
      marker = page.Marker;
    } while (marker);
    return snapshots.sort((a, b) => (a.SnapshotCreateTime?.getTime() ?? 0) - (b.SnapshotCreateTime?.getTime() ?? 0));
  }

  function backupSetOf(source: LocatedInstance, s: DBSnapshot): BackupSet {
    const at = (s.SnapshotCreateTime ?? new Date(0)).toISOString();
    const bytes = (s.AllocatedStorage ?? 0) * 2 ** 30;
    // An RDS snapshot is a storage-level copy: no WAL or LSN range is exposed.
    return { stanza: source.identifier, label: s.DBSnapshotIdentifier!, type: 'full', startedAt: (s.OriginalSnapshotCreateTime ?? s.SnapshotCreateTime ?? new Date(0)).toISOString(), stoppedAt: at, sizeBytes: bytes, repositorySizeBytes: bytes, walStart: '', walStop: '', lsnStart: '', lsnStop: '' };
  }

  async function windowOf(source: LocatedInstance): Promise<ReturnType<typeof restorableWindowOf>> {
    const automated = await rds(source.region, `read the automated backups of ${source.instanceId}`, new DescribeDBInstanceAutomatedBackupsCommand({ DBInstanceIdentifier: source.identifier }), (c, cmd) => c.send(cmd), ['DBInstanceAutomatedBackupNotFoundFault'])
      .then((out) => out.DBInstanceAutomatedBackups ?? [], (error) => {
        if (isAwsError(error, 'DBInstanceAutomatedBackupNotFoundFault')) return [];
        throw error;
      });
    return restorableWindowOf({ instance: source.db, automatedBackups: automated, automatedSnapshots: await snapshotsOf(source, 'automated') });
  }

  function restorePoints(source: LocatedInstance): Array<{ name: string; at: string; lsn: string }> {
    return Object.entries(tagsOf(source.db.TagList))
      .filter(([key]) => key.startsWith(tagKeys.restorePointPrefix))
      .map(([key, value]) => ({ name: key.slice(tagKeys.restorePointPrefix.length), at: value.split(' ')[0]!, lsn: value.split(' ')[1] ?? '' }))
      .sort((a, b) => a.at.localeCompare(b.at));
  }

  /** A named target as the time it was recorded at; refused for a name the source has no restore point of. */
  function timeOfTarget(source: LocatedInstance, target: RecoveryTarget): RecoveryTarget {
    if (target.kind !== 'name') return target;
    const point = restorePoints(source).find((p) => p.name === target.name);
    if (!point) throw new PlatformRequestError(`recovery target: ${source.instanceId} has no restore point named "${target.name}" (RDS restores to a time; dr-runbooks records a restore point's time as a tag when createRestorePoint makes it)`);
    return { kind: 'time', time: point.at };
  }

  /** Refuses, before any call to AWS, a target no restorable window can hold: in the future, or older than RDS's longest retention. */
  function precheckTarget(target: RecoveryTarget, source: InstanceId): void {
    if (target.kind !== 'time') return;
    const time = Date.parse(target.time);
    if (Number.isNaN(time)) throw new PlatformRequestError(`recovery target time "${target.time}" is not an ISO 8601 time`);
    const now = clock.now();
    if (time > now) throw new PlatformFailure(FailureType.RecoveryTargetOutsideWindow, `recovery target ${new Date(time).toISOString()} is in the future: the restorable window of ${source} ends at its latest restorable time, which is never later than now (${new Date(now).toISOString()})`, false);
    if (time < now - maxRetentionMs) throw new PlatformFailure(FailureType.RecoveryTargetOutsideWindow, `recovery target ${new Date(time).toISOString()} is more than 35 days ago: no RDS restorable window reaches back that far (RDS keeps automated backups for at most 35 days); restore a snapshot instead`, false);
  }

  function recoveryPointOf(facts: ServerFacts, restoredTo: string): RecoveryPoint {
    const lsn = facts.state.currentLsn ?? facts.state.replayLsn ?? '';
    // pg_last_xact_replay_timestamp() survives promotion until the server restarts; RDS often restarts a
    // restored instance, after which the newest recovered commit cannot be read back.
    const last = facts.state.lastReplayedCommitAt;
    return { ...(last ? { lastCommitAt: last.toISOString() } : {}), lsn, stopReason: `RDS restored to ${restoredTo}` };
  }

  const databaseAnswers = (facts: ServerFacts) => (facts.state.inRecovery ? 'still in recovery' : true);

  return {
    async describeInstance(instanceId) {
      return describeLocated(await mustLocate(instanceId));
    },

    async listBackups(sourceInstanceId) {
      const source = await locator.enrolledSource(sourceInstanceId);
      return (await snapshotsOf(source)).filter((s) => s.Status === 'available').map((s) => backupSetOf(source, s));
    },

    async takeBackup(input, o = {}) {
      const source = await locator.enrolledSource(input.sourceInstanceId);
      // A snapshot is named for the step that asked, so a retry waits for the one its first attempt started.
      const snapshotId = o.requestedBy ? `${o.requestedBy.requestId}` : `dr-${source.identifier}-${new Date(clock.now()).toISOString().replace(/[^0-9]/g, '').slice(0, 14)}`;
      const describe = async () => (await rds(source.region, `read snapshot ${snapshotId}`, new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: snapshotId }), (c, cmd) => c.send(cmd), ['DBSnapshotNotFoundFault']).catch((error) => {
        if (isAwsError(error, 'DBSnapshotNotFoundFault')) return { DBSnapshots: [] };
        throw error;
      })).DBSnapshots?.[0];
      let snapshot = await describe();
      if (snapshot && snapshot.DBInstanceIdentifier !== source.identifier) throw new PlatformFailure(FailureType.PlatformAlreadyExists, `snapshot ${snapshotId} exists but is of ${snapshot.DBInstanceIdentifier}, not ${source.identifier}`, false);
      if (!snapshot) {
        const tags = [
          { Key: tagKeys.createdBy, Value: createdByValue },
          { Key: tagKeys.source, Value: source.instanceId },
          ...(o.requestedBy ? [{ Key: tagKeys.workflowId, Value: tagValue(o.requestedBy.workflowId) }] : []),
          ...(o.requestedBy?.incidentId ? [{ Key: tagKeys.incidentId, Value: tagValue(o.requestedBy.incidentId) }] : []),
          ...Object.entries(options.build.tags).map(([Key, Value]) => ({ Key, Value: tagValue(Value) })),
        ];
        o.onProgress?.({ phase: 'backing-up', message: `CreateDBSnapshot ${snapshotId} of ${source.identifier}` });
        await rds(source.region, `snapshot ${source.instanceId}`, new CreateDBSnapshotCommand({ DBSnapshotIdentifier: snapshotId, DBInstanceIdentifier: source.identifier, Tags: tags }), (c, cmd) => c.send(cmd), ['DBSnapshotAlreadyExistsFault']).catch((error) => {
          if (!isAwsError(error, 'DBSnapshotAlreadyExistsFault')) throw error;
        });
      }
      snapshot = await pollUntil({
        what: `snapshot ${snapshotId} of ${source.identifier}`,
        read: describe,
        judge: (s) => (s ? ('done' in judgeSnapshot(s.Status, s.PercentProgress) ? { done: s } : (judgeSnapshot(s.Status, s.PercentProgress) as PollVerdict<DBSnapshot>)) : { waiting: 'not listed yet' }),
        intervalMs: options.waits.pollIntervalMs,
        timeoutMs: options.waits.timeoutMs,
        onWait: progress(o, 'backing-up', snapshotId),
        signal: o.signal,
        clock,
      }).catch(translatePoll);
      return backupSetOf(source, snapshot);
    },

    async verifyBackups(sourceInstanceId) {
      const source = await locator.enrolledSource(sourceInstanceId);
      const window = await windowOf(source);
      const snapshots = await snapshotsOf(source);
      const failed = snapshots.filter((s) => s.Status === 'failed' || s.Status === 'error');
      const lines = [`instance: ${source.identifier} (${source.region}), automated backups kept ${source.db.BackupRetentionPeriod ?? 0} day(s)`];
      let ok = failed.length === 0;
      if ('none' in window) {
        ok = false;
        lines.push(`restorable window: none (${window.none})`);
      } else {
        const lagMs = clock.now() - window.latest.getTime();
        lines.push(`restorable window: ${window.earliest.toISOString()} to ${window.latest.toISOString()} (earliest from the ${window.earliestFrom})`);
        if (lagMs > staleLatestMs) {
          ok = false;
          lines.push(`status: error: the latest restorable time is ${Math.round(lagMs / 60000)} minutes old (RDS ships the transaction log about every 5 minutes): log shipping has stopped`);
        }
      }
      lines.push(`snapshots: ${snapshots.length} (${snapshots.filter((s) => s.SnapshotType === 'manual').length} manual, ${snapshots.filter((s) => s.SnapshotType === 'automated').length} automated)${failed.length ? `; failed: ${failed.map((s) => s.DBSnapshotIdentifier).join(', ')}` : ''}`);
      lines.push(`status: ${ok ? 'ok' : 'error'}`);
      return { stanza: source.identifier, ok, report: lines.join('\n') };
    },

    async createRestorePoint(input, o = {}) {
      if (!/^[\w.:-]{1,63}$/.test(input.name)) throw new PlatformRequestError(`restore point name "${input.name}" is not valid (1-63 of letters, digits, _ . : -)`);
      let source = await locator.enrolledSource(input.sourceInstanceId);
      const known = restorePoints(source).find((p) => p.name === input.name);
      if (known) return { sourceInstanceId: source.instanceId, name: input.name, lsn: known.lsn, createdAt: known.at };
      // RDS restores to a time, not to a named WAL record: the restore point is the primary's clock and WAL position now, kept as a tag.
      const now = await dataPath.withClient(source, async (c) => (await c.query<{ lsn: string; at: Date }>('SELECT pg_current_wal_lsn()::text AS lsn, clock_timestamp() AS at')).rows[0]!);
      if (!now) throw new PlatformRequestError(`instance "${source.instanceId}" does not answer through the data path: a restore point is the running primary's time and WAL position`);
      const point = { sourceInstanceId: source.instanceId, name: input.name, lsn: now.lsn, createdAt: now.at.toISOString() };
      const arn = source.db.DBInstanceArn!;
      await rds(source.region, `record restore point ${input.name} on ${source.instanceId}`, new AddTagsToResourceCommand({ ResourceName: arn, Tags: [{ Key: `${tagKeys.restorePointPrefix}${input.name}`, Value: `${point.createdAt} ${point.lsn}` }] }), (c, cmd) => c.send(cmd));
      const older = restorePoints(source).slice(0, Math.max(0, restorePoints(source).length + 1 - restorePointsKept));
      if (older.length) await rds(source.region, `forget old restore points of ${source.instanceId}`, new RemoveTagsFromResourceCommand({ ResourceName: arn, TagKeys: older.map((p) => `${tagKeys.restorePointPrefix}${p.name}`) }), (c, cmd) => c.send(cmd));
      // A restore to it can start once RDS has shipped the log that far.
      await pollUntil({
        what: `the restorable window of ${source.instanceId} to reach restore point ${input.name}`,
        read: async () => (source = await locator.enrolledSource(input.sourceInstanceId)),
        judge: (s) => ((s.db.LatestRestorableTime?.getTime() ?? 0) >= now.at.getTime() ? { done: true } : { waiting: `latest restorable time ${s.db.LatestRestorableTime?.toISOString() ?? 'unknown'}` }),
        intervalMs: options.waits.pollIntervalMs,
        timeoutMs: options.waits.timeoutMs,
        onWait: progress(o, 'checking', source.identifier),
        signal: o.signal,
        clock,
      }).catch(translatePoll);
      return point;
    },

    async restoreBackupToNewInstance(input, o = {}) {
      assertInstanceId(input.instanceId);
      const source = await locator.enrolledSource(input.sourceInstanceId);
      const wantedAny: InstanceOrigin = { kind: 'backup', sourceInstanceId: source.instanceId, backupLabel: input.backupLabel ?? '' };
      const existing = await existingBuild(input.instanceId, wantedAny);
      const snapshots = existing ? [] : (await snapshotsOf(source)).filter((s) => s.Status === 'available');
      const snapshot = input.backupLabel ? snapshots.find((s) => s.DBSnapshotIdentifier === input.backupLabel) : snapshots.at(-1);
      if (!existing && !snapshot) throw new PlatformRequestError(input.backupLabel ? `snapshot "${input.backupLabel}" is not an available snapshot of ${source.identifier} (have: ${snapshots.map((s) => s.DBSnapshotIdentifier).join(', ') || 'none'})` : `${source.identifier} has no available snapshot to restore`);
      const label = existing ? (originFromTags(tagsOf(existing.db.TagList)) as { backupLabel: string }).backupLabel : snapshot!.DBSnapshotIdentifier!;
      const origin: InstanceOrigin = { kind: 'backup', sourceInstanceId: source.instanceId, backupLabel: label };
      const built = await buildOnce(input.instanceId, origin, source.region, () => rds(source.region, `restore ${label} into ${input.instanceId}`, new RestoreDBInstanceFromDBSnapshotCommand({
        DBInstanceIdentifier: input.instanceId,
        DBSnapshotIdentifier: label,
        MultiAZ: options.build.multiAz,
        CopyTagsToSnapshot: true,
        Tags: buildTags(origin as Exclude<InstanceOrigin, { kind: 'enrolled' }>, o.requestedBy, options.build.tags),
        ...buildParameters(source.region),
      }), (c, cmd) => c.send(cmd), ['DBInstanceAlreadyExistsFault']), o, databaseAnswers);
      return { instance: await describeLocated(built.located, built.facts), backupLabel: label, reused: built.reused };
    },

    async restoreToPointInTime(input, o = {}) {
      assertInstanceId(input.instanceId);
      precheckTarget(input.target, input.sourceInstanceId);
      const source = await locator.enrolledSource(input.sourceInstanceId);
      const target = input.target;
      const backupLabel = `automated-backups:${source.identifier}`;
      const origin = { kind: 'pointInTime', sourceInstanceId: source.instanceId, backupLabel, target } as const;
      let restoreTo: { restoreTime: Date } | { useLatest: true } | undefined;
      if (!(await existingBuild(input.instanceId, origin))) {
        const timed = timeOfTarget(source, target);
        precheckTarget(timed, source.instanceId);
        // Everything that can refuse the request runs before anything is created.
        restoreTo = checkRecoveryTarget(timed, await windowOf(source), `${source.instanceId} (${source.identifier})`);
      }
      const restoredTo = restoreTo && 'restoreTime' in restoreTo ? restoreTo.restoreTime.toISOString() : target.kind === 'latest' ? 'the latest restorable time' : formatTime(timeOfTarget(source, target));
      const built = await buildOnce(input.instanceId, origin, source.region, () => rds(source.region, `restore ${source.instanceId} to ${restoredTo} into ${input.instanceId}`, new RestoreDBInstanceToPointInTimeCommand({
        SourceDBInstanceIdentifier: source.identifier,
        TargetDBInstanceIdentifier: input.instanceId,
        ...(restoreTo && 'restoreTime' in restoreTo ? { RestoreTime: restoreTo.restoreTime } : { UseLatestRestorableTime: true }),
        MultiAZ: options.build.multiAz,
        CopyTagsToSnapshot: true,
        Tags: buildTags(origin, o.requestedBy, options.build.tags, restoreTo && 'restoreTime' in restoreTo ? restoreTo.restoreTime : undefined),
        ...buildParameters(source.region),
      }), (c, cmd) => c.send(cmd), ['DBInstanceAlreadyExistsFault']), o, databaseAnswers);
      const recoveredTo = recoveryPointOf(built.facts, restoredTo);
      const timed = timeOfTarget(source, target);
      let dataLossWindowSeconds: number | undefined;
      if (timed.kind === 'time' && recoveredTo.lastCommitAt) {
        const lossMs = Date.parse(timed.time) - Date.parse(recoveredTo.lastCommitAt);
        if (lossMs < 0) {
          if (!built.reused) await removeBuilt(input.instanceId).catch(() => undefined);
          throw new PlatformVerificationError(`point-in-time restore "${input.instanceId}" holds a commit at ${recoveredTo.lastCommitAt}, after its target ${timed.time}: it did not stop at the target; the instance is removed`);
        }
        dataLossWindowSeconds = lossMs / 1000;
      }
      return { instance: await describeLocated(built.located, built.facts), backupLabel, reused: built.reused, target, recoveredTo, ...(dataLossWindowSeconds !== undefined ? { dataLossWindowSeconds } : {}) };
    },

    async createReplica(input, o = {}): Promise<RestoreResult> {
      assertInstanceId(input.instanceId);
      const source = await locator.enrolledSource(input.sourceInstanceId);
      const origin = { kind: 'replica', sourceInstanceId: source.instanceId, backupLabel: `replica-of:${source.identifier}` } as const;
      const kmsKeyId = options.build.regions[source.region]?.kmsKeyId;
      const built = await buildOnce(input.instanceId, origin, source.region, () => rds(source.region, `create the read replica ${input.instanceId} of ${source.instanceId}`, new CreateDBInstanceReadReplicaCommand({
        DBInstanceIdentifier: input.instanceId,
        SourceDBInstanceIdentifier: source.identifier,
        MultiAZ: false,
        CopyTagsToSnapshot: true,
        Tags: buildTags(origin, o.requestedBy, options.build.tags),
        ...(kmsKeyId ? { KmsKeyId: kmsKeyId } : {}),
        ...buildParameters(source.region),
      }), (c, cmd) => c.send(cmd), ['DBInstanceAlreadyExistsFault']), o, (facts) => (!facts.state.inRecovery ? 'not in recovery: it is not replicating' : facts.state.streaming ? true : 'not streaming from its source yet'));
      return { instance: await describeLocated(built.located, built.facts), backupLabel: origin.backupLabel, reused: built.reused };
    },

    async promoteReplica(instanceId, o = {}) {
      const located = await mustLocate(instanceId);
      if (portStatusOf(located.db.DBInstanceStatus) !== 'available') throw new PlatformFailure(FailureType.PlatformInvalidState, `instance "${instanceId}" is ${located.db.DBInstanceStatus}, not available: it cannot be promoted yet`, true);
      const facts = await factsOf(located);
      const namesSource = located.db.ReadReplicaSourceDBInstanceIdentifier !== undefined;
      // RDS has detached it, or the database says it takes writes: it is promoted (a retried step).
      const alreadyPrimary = !namesSource || (facts !== undefined && !facts.state.inRecovery && tagsOf(located.db.TagList)[tagKeys.promotedAt] !== undefined);
      if (!alreadyPrimary) {
        o.onProgress?.({ phase: 'promoting', status: located.db.DBInstanceStatus, message: `PromoteReadReplica ${located.identifier} in ${located.region}` });
        await rds(located.region, `promote ${instanceId}`, new PromoteReadReplicaCommand({ DBInstanceIdentifier: located.identifier, BackupRetentionPeriod: Math.max(located.db.BackupRetentionPeriod ?? 0, options.promotedBackupRetentionDays) }), (c, cmd) => c.send(cmd), ['InvalidDBInstanceStateFault']).catch((error) => {
          // "not a read replica": a promotion an earlier attempt asked for has already detached it.
          if (!isAwsError(error, 'InvalidDBInstanceStateFault') || !/read replica/i.test((error as Error).message)) throw error;
        });
        if (located.db.DBInstanceArn) {
          await rds(located.region, `tag ${instanceId} as promoted`, new AddTagsToResourceCommand({ ResourceName: located.db.DBInstanceArn, Tags: [{ Key: tagKeys.promotedAt, Value: new Date(clock.now()).toISOString() }, ...(o.requestedBy ? [{ Key: tagKeys.workflowId, Value: tagValue(o.requestedBy.workflowId) }] : [])] }), (c, cmd) => c.send(cmd));
        }
      }
      // Right after the call RDS may still say "available" with the replica attached: the wait is over when
      // RDS says available and the database itself takes writes.
      const done = await untilServing(instanceId, o, 'promoting', (f) => databaseAnswers(f));
      return describeLocated(done.located, done.facts);
    },

    async deleteInstance(instanceId, o = {}) {
      const located = await locator.locate(instanceId);
      if (!located) return { deleted: false };
      const why = isProtected(located);
      if (why) throw new PlatformRequestError(`instance "${instanceId}" (${located.identifier} in ${located.region}) is protected: ${why}. A runbook never deletes it`);
      if (located.db.DBInstanceStatus !== 'deleting') {
        o.onProgress?.({ phase: 'stopping', status: located.db.DBInstanceStatus, message: `DeleteDBInstance ${located.identifier} (final snapshot: ${options.deletion.finalSnapshot})` });
        const finalSnapshot = options.deletion.finalSnapshot === 'take' ? `${located.identifier}-final` : undefined;
        const remove = (snapshotId: string | undefined) => rds(located.region, `delete ${instanceId}`, new DeleteDBInstanceCommand({
          DBInstanceIdentifier: located.identifier,
          ...(snapshotId ? { FinalDBSnapshotIdentifier: snapshotId, SkipFinalSnapshot: false } : { SkipFinalSnapshot: true }),
          DeleteAutomatedBackups: true,
        }), (c, cmd) => c.send(cmd), ['DBInstanceNotFoundFault', 'DBSnapshotAlreadyExistsFault']);
        await remove(finalSnapshot).catch(async (error) => {
          if (isAwsError(error, 'DBInstanceNotFoundFault')) return undefined;
          // An instance rebuilt under the same id was deleted before: its final snapshot gets a time suffix.
          if (isAwsError(error, 'DBSnapshotAlreadyExistsFault') && finalSnapshot) return remove(`${finalSnapshot}-${new Date(clock.now()).toISOString().replace(/[^0-9]/g, '').slice(0, 14)}`);
          throw error;
        });
      }
      await pollUntil({
        what: `instance "${instanceId}" to be deleted`,
        read: () => locator.locate(instanceId),
        judge: (l) => (l ? { waiting: l.db.DBInstanceStatus ?? 'deleting' } : { done: true }),
        intervalMs: options.waits.pollIntervalMs,
        timeoutMs: options.waits.timeoutMs,
        onWait: progress(o, 'stopping', located.identifier),
        signal: o.signal,
        clock,
      }).catch(translatePoll);
      return { deleted: true };
    },

    async waitUntilAvailable(instanceId, o = {}) {
      await mustLocate(instanceId);
      const done = await untilServing(instanceId, o, 'starting');
      return describeLocated(done.located, done.facts);
    },

    async connectionFor(instanceId) {
      const located = await locator.locate(instanceId);
      return located ? dataPath.connectionOf(located) : undefined;
    },
  };
}

const formatTime = (target: RecoveryTarget) => (target.kind === 'time' ? new Date(target.time).toISOString() : target.kind);

export type { RdsCredentials, RdsEndpointResolver } from './rds-data-path';
export type { RestorableWindow };
