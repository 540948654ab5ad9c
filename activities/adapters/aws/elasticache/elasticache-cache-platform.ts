import { randomBytes } from 'node:crypto';
import {
  CreateReplicationGroupCommand,
  CreateSnapshotCommand,
  DeleteReplicationGroupCommand,
  DescribeReplicationGroupsCommand,
  DescribeSnapshotsCommand,
  ListTagsForResourceCommand,
  type ElastiCacheClient,
  type ReplicationGroup,
  type Snapshot,
} from '@aws-sdk/client-elasticache';
import type {
  CacheBackup,
  CacheBackupKind,
  CacheConnection,
  CacheInstanceDescription,
  CacheInstanceId,
  CacheInstanceOrigin,
  CacheOperationOptions,
  CachePlatform,
  KeyspaceCount,
} from '../../../ports/cache-platform';
import { assertInstanceId, PlatformRequestError, PlatformVerificationError } from '../../../ports/database-platform';
import { assertIdentifier } from '../../../ports/identifiers';
import type { ObjectStore } from '../../../ports/object-store';
import type { SecretStore } from '../../../ports/secret-store';
import { backupOf, listBackups, readMetadata, uploadObjects, writeMetadata } from '../../local/redis/backup-objects';
import { takeSessionExport } from '../../local/redis/backup-taking';
import type { BackupStore } from '../../local/redis/cache-context';
import { existingRule, sessionExportOf, writeSessionExport } from '../../local/redis/cache-restore';
import { compareWithBackup } from '../../local/redis/cache-verification';
import { keyspaceOf, redisInfo, serverTimeMs, withRedis, type RedisTarget } from '../../local/redis/redis-client';
import { sampleKeys } from '../../local/redis/sampling';
import { isElastiCacheError, sendElastiCache } from './elasticache-errors';
import { cacheSizeBytes, endpointOf, judgeGroup, judgeSnapshot, portStatusOf, waitFor } from './group-state';

/** A replication group the platform is enrolled with (config cache.elasticache.replicationGroups). */
export interface EnrolledReplicationGroup {
  replicationGroupId: string;
  /** The secret holding its AUTH token. */
  authTokenSecret: string;
  /** How the worker reaches its Redis when not at the group's own endpoint (a tunnel, a proxy). */
  endpoint?: { host: string; port: number; tls: boolean };
}

export interface ElastiCachePlatformOptions {
  client: ElastiCacheClient;
  region: string;
  /** Backup metadata (key counts, sampled keys) and session exports; the RDB data itself is ElastiCache's snapshot. */
  store: ObjectStore;
  /** AUTH tokens: the enrolled groups' by name, restored groups' written under `authTokenSecretPrefix` + instance id. */
  secrets: SecretStore;
  replicationGroups: Record<CacheInstanceId, EnrolledReplicationGroup>;
  nodeType: string;
  subnetGroupName?: string;
  securityGroupIds?: string[];
  authTokenSecretPrefix: string;
  pollIntervalMs: number;
  createTimeoutMs: number;
  /** Object key prefix of the metadata; default "cache-backups" (the local platform's). */
  keyPrefix?: string;
  /** Tests pass a fast one. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

const backupKinds: readonly CacheBackupKind[] = ['rdb', 'sessions'];
const tag = { builtBy: 'dr-runbooks:built-by', backup: 'dr-runbooks:backup-id', source: 'dr-runbooks:source-instance' } as const;

const defaultSleep = (ms: number, signal?: AbortSignal) => new Promise<void>((resolve, reject) => {
  if (signal?.aborted) return reject(signal.reason);
  const timer = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, ms);
  const onAbort = () => { clearTimeout(timer); reject(signal!.reason); };
  signal?.addEventListener('abort', onAbort, { once: true });
});

/**
 * The CachePlatform over ElastiCache (Redis OSS) replication groups: RDB backups are ElastiCache
 * snapshots (CreateSnapshot, waited for), restores are new replication groups created from a snapshot
 * (CreateReplicationGroup with SnapshotName) with a new AUTH token in the secret store; ElastiCache has
 * no AOF backups. Key counts and sampled keys (taken through the group's Redis endpoint when the snapshot
 * is cut), session exports, session restores and verification go through the Redis endpoint with the
 * same code as the local platform. Enrolled groups are protected: no runbook deletes them.
 */
export function createElastiCachePlatform(options: ElastiCachePlatformOptions): CachePlatform {
  const { client } = options;
  const sleep = options.sleep ?? defaultSleep;
  const backups: BackupStore = { store: options.store, prefix: options.keyPrefix ?? 'cache-backups' };
  const enrolled = (id: CacheInstanceId) => options.replicationGroups[id];
  const groupIdOf = (id: CacheInstanceId) => enrolled(id)?.replicationGroupId ?? id;
  const tokenSecretOf = (id: CacheInstanceId) => enrolled(id)?.authTokenSecret ?? `${options.authTokenSecretPrefix}${id}`;

  async function describeGroup(id: CacheInstanceId): Promise<ReplicationGroup | undefined> {
    try {
      const out = await sendElastiCache(`describe cache instance "${id}"`, new DescribeReplicationGroupsCommand({ ReplicationGroupId: groupIdOf(id) }), (c) => client.send(c), ['ReplicationGroupNotFoundFault']);
      return out.ReplicationGroups?.[0];
    } catch (error) {
      if (isElastiCacheError(error, 'ReplicationGroupNotFoundFault')) return undefined;
      throw error;
    }
  }

  async function tagsOf(group: ReplicationGroup): Promise<Record<string, string>> {
    if (!group.ARN) return {};
    const out = await sendElastiCache(`read the tags of ${group.ReplicationGroupId}`, new ListTagsForResourceCommand({ ResourceName: group.ARN }), (c) => client.send(c));
    return Object.fromEntries((out.TagList ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
  }

  /** A group this platform may speak of: an enrolled one, or one it built (tagged so); anything else is unknown to it. */
  async function groupOf(id: CacheInstanceId): Promise<{ group: ReplicationGroup; origin: CacheInstanceOrigin } | undefined> {
    const group = await describeGroup(id);
    if (!group) return undefined;
    if (enrolled(id)) return { group, origin: { kind: 'enrolled' } };
    const tags = await tagsOf(group);
    if (tags[tag.builtBy] !== 'dr-runbooks') return undefined;
    return { group, origin: { kind: 'backup', backupId: tags[tag.backup] ?? '', backupKind: 'rdb', sourceInstanceId: tags[tag.source] ?? '' } };
  }

  async function connectionOf(id: CacheInstanceId, group?: ReplicationGroup): Promise<CacheConnection | undefined> {
    const override = enrolled(id)?.endpoint;
    const endpoint = override ?? (group ? endpointOf(group) : undefined);
    if (!endpoint) return undefined;
    const token = await options.secrets.read(tokenSecretOf(id));
    return { host: endpoint.host, port: endpoint.port, tls: endpoint.tls, password: token.value.trim() };
  }

  const targetOf = (c: CacheConnection, db = 0): RedisTarget => ({ host: c.host, port: c.port, password: c.password, tls: c.tls, db, ...(c.username ? { username: c.username } : {}) });

  /** The endpoint of an instance the worker must reach, or a refusal saying how to make it reachable. */
  async function reachable(id: CacheInstanceId, what: string): Promise<CacheConnection> {
    const found = await groupOf(id);
    if (!found) throw new PlatformRequestError(`cache instance "${id}" does not exist (no replication group ${groupIdOf(id)} enrolled or built by dr-runbooks in ${options.region})`);
    const connection = await connectionOf(id, found.group);
    if (!connection) throw new PlatformRequestError(`cache instance "${id}" has no endpoint yet (status ${found.group.Status}): ${what} needs it available`);
    return connection;
  }

  async function describe(id: CacheInstanceId): Promise<CacheInstanceDescription> {
    const found = await groupOf(id);
    if (!found) throw new PlatformRequestError(`cache instance "${id}" does not exist (no replication group ${groupIdOf(id)} enrolled or built by dr-runbooks in ${options.region})`);
    const { group, origin } = found;
    const endpoint = enrolled(id)?.endpoint ?? endpointOf(group) ?? { host: '', port: 0, tls: group.TransitEncryptionEnabled === true };
    const base: CacheInstanceDescription = {
      instanceId: id,
      status: portStatusOf(group.Status),
      // ElastiCache's own word; whether this worker can reach the endpoint is what the live figures below say.
      acceptingConnections: portStatusOf(group.Status) === 'available',
      endpoint,
      origin,
      protected: Boolean(enrolled(id)),
      createdAt: group.ReplicationGroupCreateTime?.toISOString() ?? '',
      role: 'primary',
    };
    const connection = base.acceptingConnections ? await connectionOf(id, group).catch(() => undefined) : undefined;
    if (!connection) return base;
    const live = await withRedis(targetOf(connection), async (redis) => ({ engineVersion: (await redisInfo(redis, 'server')).redis_version, keyspace: await keyspaceOf(redis) })).catch(() => undefined);
    return live ? { ...base, ...live } : base;
  }

  async function waitAvailable(id: CacheInstanceId, opts: CacheOperationOptions & { timeoutMs?: number }): Promise<void> {
    await waitFor({
      what: `replication group ${groupIdOf(id)} to become available`,
      read: () => describeGroup(id),
      judge: judgeGroup,
      intervalMs: options.pollIntervalMs,
      timeoutMs: opts.timeoutMs ?? options.createTimeoutMs,
      signal: opts.signal,
      sleep,
      onWait: (status) => opts.onProgress?.({ phase: 'starting', message: `ElastiCache says ${status}` }),
    }).catch((error: Error) => {
      if (opts.signal?.aborted) throw error;
      if (/still /.test(error.message)) throw error; // retryable: a later attempt may find it done
      throw new PlatformVerificationError(error.message);
    });
  }

  /** The snapshot of an enrolled group, cut now: CreateSnapshot, the key counts and a sample read through its endpoint at that moment. */
  async function takeSnapshot(backupId: string, sourceId: CacheInstanceId, sampleSize: number, opts: CacheOperationOptions): Promise<CacheBackup> {
    const connection = await reachable(sourceId, 'a backup');
    const figures = await withRedis(targetOf(connection), async (redis) => {
      const takenAtMs = await serverTimeMs(redis);
      const keyspace: KeyspaceCount[] = await keyspaceOf(redis);
      return { takenAtMs, engineVersion: (await redisInfo(redis, 'server')).redis_version!, keyspace, sample: await sampleKeys(redis, keyspace, sampleSize) };
    }).catch((error: Error) => {
      throw new PlatformRequestError(`the worker cannot reach the Redis of cache instance "${sourceId}" (${connection.host}:${connection.port}) to record the backup's key counts and sample: ${error.message}; give replicationGroups.${sourceId}.endpoint (a tunnel) or run the worker where it can reach the group`);
    });
    opts.onProgress?.({ phase: 'backing-up', message: `CreateSnapshot ${backupId} of ${groupIdOf(sourceId)}` });
    try {
      await sendElastiCache(`snapshot cache instance "${sourceId}"`, new CreateSnapshotCommand({ SnapshotName: backupId, ReplicationGroupId: groupIdOf(sourceId), Tags: [{ Key: tag.builtBy, Value: 'dr-runbooks' }, { Key: tag.source, Value: sourceId }] }), (c) => client.send(c), ['SnapshotAlreadyExistsFault']);
    } catch (error) {
      // An earlier attempt created it and died before its metadata was written: wait for it as ours, if it is of this group.
      if (!isElastiCacheError(error, 'SnapshotAlreadyExistsFault')) throw error;
      const existing = await snapshotOf(backupId);
      if (existing?.ReplicationGroupId !== groupIdOf(sourceId)) throw new PlatformRequestError(`an ElastiCache snapshot named "${backupId}" already exists for another group (${existing?.ReplicationGroupId ?? existing?.CacheClusterId}); choose another backupId`);
    }
    await waitFor({ what: `snapshot ${backupId}`, read: () => snapshotOf(backupId), judge: judgeSnapshot, intervalMs: options.pollIntervalMs, timeoutMs: options.createTimeoutMs, signal: opts.signal, sleep, onWait: (status) => opts.onProgress?.({ phase: 'backing-up', message: `snapshot ${status}` }) });
    const snapshot = await snapshotOf(backupId);
    const size = (snapshot?.NodeSnapshots ?? []).reduce((sum, n) => sum + cacheSizeBytes(n.CacheSize), 0);
    return { backupId, kind: 'rdb', sourceInstanceId: sourceId, takenAt: new Date(figures.takenAtMs).toISOString(), engineVersion: figures.engineVersion, keyspace: figures.keyspace, objects: [], totalBytes: size, sample: figures.sample };
  }

  async function snapshotOf(name: string): Promise<Snapshot | undefined> {
    try {
      return (await sendElastiCache(`describe snapshot ${name}`, new DescribeSnapshotsCommand({ SnapshotName: name }), (c) => client.send(c), ['SnapshotNotFoundFault'])).Snapshots?.[0];
    } catch (error) {
      if (isElastiCacheError(error, 'SnapshotNotFoundFault')) return undefined;
      throw error;
    }
  }

  return {
    backupKinds,

    describeInstance: describe,

    async takeBackup(input, opts = {}) {
      const backupId = assertIdentifier('backupId', input.backupId);
      if (!backupKinds.includes(input.kind)) throw new PlatformRequestError(`kind "${input.kind}" is not valid on ElastiCache: use ${backupKinds.join(' or ')} (ElastiCache takes no AOF backups)`);
      const sampleSize = input.sampleSize ?? 50;
      if (!enrolled(input.sourceInstanceId)) throw new PlatformRequestError(`cache instance "${input.sourceInstanceId}" is not enrolled: backups are taken of the groups in cache.elasticache.replicationGroups (${Object.keys(options.replicationGroups).join(', ') || 'none'})`);
      const existing = await readMetadata(backups, backupId);
      if (existing) {
        if (existing.sourceInstanceId !== input.sourceInstanceId || existing.kind !== input.kind) throw new PlatformRequestError(`cache backup "${backupId}" already exists for another request (${existing.kind} of "${existing.sourceInstanceId}"); choose another backupId`);
        return { backup: existing, reused: true };
      }
      let backup: CacheBackup;
      if (input.kind === 'sessions') {
        const connection = await reachable(input.sourceInstanceId, 'a session export');
        const engineVersion = await withRedis(targetOf(connection), async (redis) => (await redisInfo(redis, 'server')).redis_version!);
        const taken = await takeSessionExport(targetOf(connection), input.sessions, sampleSize, opts);
        const { objects, totalBytes } = await uploadObjects(backups, backupId, taken.files, opts);
        backup = { backupId, kind: 'sessions', sourceInstanceId: input.sourceInstanceId, takenAt: new Date(taken.takenAtMs).toISOString(), engineVersion, keyspace: taken.keyspace, objects, totalBytes, sample: taken.sample, ...(taken.sessions ? { sessions: taken.sessions } : {}) };
      } else {
        backup = await takeSnapshot(backupId, input.sourceInstanceId, sampleSize, opts);
      }
      await writeMetadata(backups, backup);
      return { backup, reused: false };
    },

    listBackups: (sourceInstanceId) => listBackups(backups, sourceInstanceId),

    describeBackup: (backupId) => backupOf(backups, backupId),

    async restoreBackupToNewInstance(input, opts = {}) {
      assertInstanceId(input.instanceId);
      if (input.instanceId.length > 40 || input.instanceId.includes('--') || input.instanceId.endsWith('-')) throw new PlatformRequestError(`instanceId "${input.instanceId}" is not a valid ElastiCache replication group id: at most 40 characters, no two dashes in a row, not ending in a dash`);
      if (enrolled(input.instanceId)) throw new PlatformRequestError(`cache instance "${input.instanceId}" is enrolled: a restore builds a new group, never over one of these`);
      const backup = await backupOf(backups, input.backupId);
      if (backup.kind !== 'rdb') throw new PlatformRequestError(`cache backup "${backup.backupId}" is a session export: restore it into a running instance with restoreSessions`);
      const existing = await describeGroup(input.instanceId);
      if (existing) {
        const tags = await tagsOf(existing);
        if (tags[tag.builtBy] !== 'dr-runbooks' || tags[tag.backup] !== backup.backupId) throw new PlatformRequestError(`replication group ${input.instanceId} already exists and was not built for this request (backup ${tags[tag.backup] ?? 'none'}); choose another instance id`);
        await waitAvailable(input.instanceId, opts);
        return { instance: await describe(input.instanceId), backupId: backup.backupId, reused: true };
      }
      if (!(await snapshotOf(backup.backupId))) throw new PlatformRequestError(`cache backup "${backup.backupId}" has no ElastiCache snapshot of that name in ${options.region} (deleted, or another region); nothing was created`);
      // A new token for a new group, in the secret store before the group exists: a retry that finds no group writes another.
      const token = randomBytes(24).toString('base64url');
      await options.secrets.write(tokenSecretOf(input.instanceId), token);
      opts.onProgress?.({ phase: 'restoring', message: `CreateReplicationGroup ${input.instanceId} from snapshot ${backup.backupId}` });
      await sendElastiCache(`restore cache backup "${backup.backupId}" into "${input.instanceId}"`, new CreateReplicationGroupCommand({
        ReplicationGroupId: input.instanceId,
        ReplicationGroupDescription: `dr-runbooks: restore of ${backup.backupId} (${backup.sourceInstanceId})`,
        SnapshotName: backup.backupId,
        Engine: 'redis',
        CacheNodeType: options.nodeType,
        NumCacheClusters: 1,
        TransitEncryptionEnabled: true,
        AuthToken: token,
        ...(options.subnetGroupName ? { CacheSubnetGroupName: options.subnetGroupName } : {}),
        ...(options.securityGroupIds?.length ? { SecurityGroupIds: options.securityGroupIds } : {}),
        Tags: [{ Key: tag.builtBy, Value: 'dr-runbooks' }, { Key: tag.backup, Value: backup.backupId }, { Key: tag.source, Value: backup.sourceInstanceId }],
      }), (c) => client.send(c));
      try {
        await waitAvailable(input.instanceId, opts);
      } catch (error) {
        // Cancelled or failed for good: the half-built group goes (a timeout is retried and finds it).
        if (opts.signal?.aborted || error instanceof PlatformVerificationError) {
          await sendElastiCache(`remove the half-built group ${input.instanceId}`, new DeleteReplicationGroupCommand({ ReplicationGroupId: input.instanceId }), (c) => client.send(c), ['ReplicationGroupNotFoundFault', 'InvalidReplicationGroupStateFault']).catch(() => undefined);
        }
        throw error;
      }
      return { instance: await describe(input.instanceId), backupId: backup.backupId, reused: false };
    },

    async verifyInstance(input, opts = {}) {
      const backup = await backupOf(backups, input.backupId);
      const connection = await reachable(input.instanceId, 'a verification');
      return compareWithBackup(input.instanceId, backup, (db) => targetOf(connection, db), opts);
    },

    async restoreSessions(input, opts = {}) {
      const backup = await sessionExportOf(backups, input.backupId);
      const existing = existingRule(input.existing);
      const connection = await reachable(input.instanceId, 'a session restore');
      const counts = await writeSessionExport(backups, backup, targetOf(connection), existing, opts, input.instanceId);
      return { instanceId: input.instanceId, backupId: backup.backupId, ...counts };
    },

    async deleteInstance(instanceId, opts = {}) {
      if (enrolled(instanceId)) throw new PlatformRequestError(`cache instance "${instanceId}" is protected (an enrolled replication group): a runbook never deletes it`);
      const found = await groupOf(instanceId);
      if (!found) return { deleted: false };
      if (found.group.Status === 'deleting') return { deleted: true };
      opts.onProgress?.({ phase: 'stopping', message: `DeleteReplicationGroup ${instanceId}` });
      await sendElastiCache(`delete cache instance "${instanceId}"`, new DeleteReplicationGroupCommand({ ReplicationGroupId: instanceId }), (c) => client.send(c), ['ReplicationGroupNotFoundFault']).catch((error) => {
        if (!isElastiCacheError(error, 'ReplicationGroupNotFoundFault')) throw error;
      });
      return { deleted: true };
    },

    async waitUntilAvailable(instanceId, opts = {}) {
      if (!(await groupOf(instanceId))) throw new PlatformRequestError(`cache instance "${instanceId}" does not exist (no replication group ${groupIdOf(instanceId)} enrolled or built by dr-runbooks in ${options.region})`);
      await waitAvailable(instanceId, { ...opts, timeoutMs: opts.timeoutMs ?? 5 * 60_000 });
      return describe(instanceId);
    },

    async connectionFor(instanceId) {
      if (enrolled(instanceId)?.endpoint) return connectionOf(instanceId);
      const found = await groupOf(instanceId);
      return found ? connectionOf(instanceId, found.group) : undefined;
    },
  };
}
